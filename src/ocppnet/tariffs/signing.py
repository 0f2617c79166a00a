"""Tariffs signed by their issuer, in our end-to-end scheme (docs/tariffs.md §Signatures; pure).

OCPP 2.1's TariffType has no signature field and forbids extra members, so the signatures go
where the schema allows them: ``tariff.customData = {"vendorId": VENDOR_ID, "signatures": [...]}``.
The signed document is the tariff *without* those signatures (and without ``customData`` when
nothing else is in it); the signature object and its bytes are those of docs/signatures.md with
``@context = "2.1/TariffRequest"``, a context no OCPP action has. So the tariff can travel in
SetDefaultTariff, ChangeTransactionTariff, a TransactionEvent or a file, unchanged, and is
checked wherever it arrives. Unlike a command, a tariff's signature does not go stale: there is
no freshness window (its ``validFrom`` and the trust store's key validity govern it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocppnet.errors import SecurityError
from ocppnet.security.canonical import CanonicalizationError, canonicalize
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.replay import ReplayCache
from ocppnet.security.signatures import VerdictStatus, sign, verify

__all__ = [
    "TARIFF_CONTEXT",
    "VENDOR_ID",
    "VerifiedTariff",
    "sign_tariff",
    "tariff_body",
    "tariff_hash",
    "tariff_signatures",
    "verify_tariff",
]

VENDOR_ID = "org.ocppnet"
_VERSION, _ACTION, _KIND = "2.1", "Tariff", "request"
TARIFF_CONTEXT = f"{_VERSION}/{_ACTION}Request"
_FOREVER = 1e12  # seconds: no freshness window for a tariff


def tariff_signatures(tariff: Mapping[str, Any]) -> list[Any] | None:
    """The issuer signatures a tariff carries (None: none at all)."""
    custom = tariff.get("customData")
    if not isinstance(custom, Mapping) or "signatures" not in custom:
        return None
    sigs = custom["signatures"]
    return sigs if isinstance(sigs, list) else [sigs]


def tariff_body(tariff: Mapping[str, Any]) -> dict[str, Any]:
    """What the issuer signed: the tariff without its signatures."""
    body = dict(tariff)
    custom = body.get("customData")
    if isinstance(custom, Mapping) and "signatures" in custom:
        rest = {k: v for k, v in custom.items() if k != "signatures"}
        if rest == {"vendorId": VENDOR_ID}:
            del body["customData"]
        else:
            body["customData"] = rest
    return body


def tariff_hash(tariff: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical (RFC 8785) signed document: the tariff's identity, the
    same before and after signing and for every signature added (a receipt binds it)."""
    return hashlib.sha256(canonicalize(tariff_body(tariff))).hexdigest()


def sign_tariff(
    tariff: Mapping[str, Any], key: KeyPair, *, now: datetime, name: str | None = None
) -> dict[str, Any]:
    """A copy of ``tariff`` with one more issuer signature (earlier ones kept)."""
    body = tariff_body(tariff)
    signed = sign(body, action=_ACTION, kind=_KIND, version=_VERSION, key=key, now=now,
                  name=name)
    before = tariff_signatures(tariff) or []
    custom = dict(tariff.get("customData") or {"vendorId": VENDOR_ID})
    custom["signatures"] = [*before, *signed["signatures"]]
    return {**body, "customData": custom}


@dataclass(frozen=True, slots=True)
class VerifiedTariff:
    """A tariff whose issuer signature verified and whose issuer may set tariffs."""

    tariff: Mapping[str, Any]  # as received, signatures included
    hash: str
    issuer_key_id: str
    issuer: str | None  # the signature's name, for people
    roles: frozenset[str]


def verify_tariff(
    tariff: Mapping[str, Any],
    security: SecurityContext | None,
    *,
    action: str,
    payload: Mapping[str, Any],
    now: datetime,
) -> VerifiedTariff:
    """Check the issuer's signature and that one of its roles allows ``action`` (with
    ``payload``, so role constraints such as ``tariff.currency eq EUR`` apply).

    Raises SecurityError: unsigned; altered (a known key's signature fails); signed only by
    keys this verifier does not know; or by a key without a role allowing ``action``.
    """
    tariff_id = tariff.get("tariffId")
    sigs = tariff_signatures(tariff)
    if not sigs:
        raise SecurityError(f"tariff {tariff_id}: unsigned (no issuer signature)")
    if security is None:
        raise SecurityError(f"tariff {tariff_id}: no trust store to check its issuer")
    document = {**tariff_body(tariff), "signatures": sigs}
    try:
        canonicalize(document)
    except CanonicalizationError as exc:
        raise SecurityError(f"tariff {tariff_id}: no canonical form: {exc}") from None
    verdicts = verify(document, action=_ACTION, kind=_KIND, version=_VERSION,
                      trusted=security.trust, now=now, replay=ReplayCache(window=_FOREVER))
    for v in verdicts:
        if v.status not in (VerdictStatus.VALID, VerdictStatus.UNKNOWN_KEY):
            raise SecurityError(f"tariff {tariff_id}: {v.reason}")
    valid = [v for v in verdicts if v.valid and v.key_id is not None]
    if not valid:
        raise SecurityError(f"tariff {tariff_id}: not signed by a trusted issuer")
    kids: Iterable[str] = [v.key_id for v in valid if v.key_id is not None]
    roles = security.roles.roles_of(kids)
    verdict = security.authorize(action, payload, roles)
    if not verdict.allowed:
        raise SecurityError(f"tariff {tariff_id}: issuer may not {action}: {verdict.reason}")
    first = valid[0]
    return VerifiedTariff(tariff, tariff_hash(tariff), first.key_id or "", first.name, roles)
