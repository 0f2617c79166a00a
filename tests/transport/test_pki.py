"""The throw-away PKI used by the TLS tests (ocppnet.pki) issues what the profiles need."""

from __future__ import annotations

import ipaddress
import ssl
import stat

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ocppnet.pki import ThrowawayPki


def test_server_certificate_names_loopback_and_chains_to_the_ca(pki: ThrowawayPki) -> None:
    san = pki.server.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert pki.server.cert.issuer == pki.ca.cert.subject
    pki.server.cert.verify_directly_issued_by(pki.ca.cert)


def test_client_certificate_cn_is_the_station_id_and_is_for_client_auth(
    pki: ThrowawayPki,
) -> None:
    files = pki.client_files("CP-7")
    cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
    assert "CN=CP-7" in cert.subject.rfc4514_string().split(",")
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
    cert.verify_directly_issued_by(pki.ca.cert)
    assert pki.client_files("CP-7") == files  # made once


def test_private_keys_are_written_owner_only(pki: ThrowawayPki) -> None:
    for key_file in (pki.server_files.key_file, pki.client_files("CP1").key_file):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_contexts_match_the_profiles(pki: ThrowawayPki) -> None:
    assert pki.server_context(mutual=False).verify_mode == ssl.CERT_NONE
    assert pki.server_context(mutual=True).verify_mode == ssl.CERT_REQUIRED
    client = pki.client_context()
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname
