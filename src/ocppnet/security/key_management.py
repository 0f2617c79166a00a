"""Remote trust updates: ``AddTrustedKey`` and ``RevokeTrustedKey`` (our extension messages).

Accepted only with a *valid* signature by a key whose role holds ``manage_keys``. Pure: they
change the verifier's :class:`TrustStore` (mutable) and return the new RoleSet and the
response; ``now`` is passed in.

* ``AddTrustedKey {publicKey | certificate | crl, name?, notBefore?, notAfter?, replaces?,
  overlapSeconds?}``: trust a PEM public key, a signer certificate (pinned) or an owner CA
  certificate (an anchor), or install a newer CRL of a trusted CA (checked against it).
  ``replaces`` rotates a key without downtime: the new key joins every role of the old one,
  and the old key stays valid for ``overlapSeconds`` more (default 0: it ends now), so
  messages signed with either are accepted during the overlap.
* ``RevokeTrustedKey {keyId, effectiveAt?, reason?}``: refuse the key's signatures from now
  on (or from ``effectiveAt``, for a planned rotation). Works for certified keys too, seen
  or not yet seen: revocation is by key id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from ocppnet.security.certificates import CertificateError, load_certificates, load_crl
from ocppnet.security.keys import KeyMaterialError, load_public_pem
from ocppnet.security.management import Change, refusal, response
from ocppnet.security.roles import Role, RoleSet
from ocppnet.security.signatures import SignatureVerdict
from ocppnet.security.trust import TrustStore

__all__ = ["TRUST_ACTIONS", "add_trusted_key", "revoke_trusted_key"]

TRUST_ACTIONS = frozenset({"AddTrustedKey", "RevokeTrustedKey"})


def _time(payload: Mapping[str, Any], key: str) -> datetime | None:
    value = payload.get(key)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{key}: not an RFC 3339 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{key}: needs a time zone offset")
    return parsed


def add_trusted_key(
    trust: TrustStore, roles: RoleSet, payload: Mapping[str, Any],
    verdicts: Iterable[SignatureVerdict], *, now: datetime,
) -> Change[RoleSet]:
    denied = refusal(roles, verdicts, "manage_keys")
    if denied:
        return Change(False, roles, response(False, "Unauthorized", denied))
    try:
        not_before, not_after = _time(payload, "notBefore"), _time(payload, "notAfter")
    except ValueError as exc:
        return Change(False, roles, response(False, "InvalidKey", str(exc)))
    old = payload.get("replaces")
    if old is not None and trust.get(str(old)) is None:
        return Change(False, roles, response(False, "UnknownKey", f"no trusted key {old!r}"))
    name = payload.get("name") if isinstance(payload.get("name"), str) else None
    try:
        if isinstance(payload.get("crl"), str):  # a fresh CRL of a CA already trusted
            trust.add_crl(load_crl(payload["crl"].encode()))
            return Change(True, roles, response(True))
        if isinstance(payload.get("publicKey"), str):
            entry = trust.add(load_public_pem(payload["publicKey"].encode()), name=name,
                              not_before=not_before, not_after=not_after)
            kid = entry.key_id
        elif isinstance(payload.get("certificate"), str):
            kid = _add_certificate(trust, load_certificates(payload["certificate"].encode()),
                                   name)
        else:
            return Change(False, roles, response(False, "InvalidKey",
                                                 "needs publicKey or certificate"))
    except (KeyMaterialError, CertificateError) as exc:
        return Change(False, roles, response(False, "InvalidKey", str(exc)))
    new_roles = roles
    if old is not None and kid:
        overlap = payload.get("overlapSeconds", 0)
        trust.limit(str(old), now + timedelta(seconds=max(0, int(overlap))))
        new_roles = RoleSet({n: _with_key(r, str(old), kid) for n, r in roles.roles.items()})
    result = response(True)
    if kid:
        result["keyId"] = kid
    return Change(True, new_roles, result)


def _add_certificate(trust: TrustStore, certs: list[x509.Certificate], name: str | None) -> str:
    """Pin a signer certificate (returns its key id) or install a CA (returns "")."""
    first = certs[0]
    try:
        is_ca = first.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if is_ca:
        trust.add_anchor(first)
        return ""
    return trust.add_certificate(first, name=name).key_id


def _with_key(role: Role, old: str, new: str) -> Role:
    if old not in role.keys:
        return role
    return Role(role.name, role.keys | {new}, role.allow, role.permissions, role.subjects)


def revoke_trusted_key(
    trust: TrustStore, roles: RoleSet, payload: Mapping[str, Any],
    verdicts: Iterable[SignatureVerdict], *, now: datetime,
) -> Change[RoleSet]:
    denied = refusal(roles, verdicts, "manage_keys")
    if denied:
        return Change(False, roles, response(False, "Unauthorized", denied))
    kid = payload.get("keyId")
    if not isinstance(kid, str) or not kid:
        return Change(False, roles, response(False, "UnknownKey", "keyId missing"))
    try:
        at = _time(payload, "effectiveAt")
    except ValueError as exc:
        return Change(False, roles, response(False, "InvalidKey", str(exc)))
    if at is not None and at > now and trust.limit(kid, at):
        return Change(True, roles, response(True))
    trust.revoke(kid)
    return Change(True, roles, response(True))
