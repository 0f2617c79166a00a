#!/bin/sh
# Keys, the owner CA, signer certificates and the CRL that examples/signed/*.toml point to.
# Run once:  sh examples/signed/make-keys.sh     (OCPPNET=... to use another ocppnet command)
# Private keys are written with mode 0600 into keys/ next to this file (not committed).
set -e
cd "$(dirname "$0")"
O=${OCPPNET:-ocppnet}
# The CPO's owner CA; stations and nodes trust only its certificate (and its CRL).
$O keys ca new --store keys/owner --name owner-ca --subject "CPO Owner CA"
# The grid operator's signing key, certified: roles name the subject "grid-operator".
$O keys new --store keys/owner --name grid-operator
$O keys ca issue --store keys/owner --ca owner-ca --key grid-operator --subject grid-operator
# The CPO's administrator key (role cpo: manage_keys, i.e. AddTrustedKey/RevokeTrustedKey).
$O keys new --store keys/owner --name cpo-admin
$O keys ca issue --store keys/owner --ca owner-ca --key cpo-admin --subject cpo-admin
$O keys ca crl --store keys/owner --ca owner-ca --days 30
# The station's own key (it signs its responses), and the CSMS's.
$O keys new --store keys/station --name station
$O keys export --store keys/station --name station > keys/station.pub.pem
$O keys new --store keys/csms --name csms
# Later: revoke the grid operator's certificate and publish a new CRL:
#   $O keys ca revoke --store keys/owner --ca owner-ca --subject grid-operator
#   $O keys ca crl --store keys/owner --ca owner-ca --days 30
