"""The verifier's trust store: the only source of public keys a signature is checked against.

A key carried inside a message is never used on its own. A key is *unknown* when its id is not
here and *untrusted* when it is here but revoked or outside its validity period. Keys come in
three ways: pinned public keys (:meth:`TrustStore.add`), pinned certificates
(:meth:`add_certificate`), and keys certified by an owner CA the store trusts
(``ca``: a :class:`ChainVerifier`): such a key is accepted when the signature carries its
certificate chain (``x5c``), and remembered by key id and ``x5t#S256`` thumbprint afterwards,
so later signatures may leave the chain out. Every use re-checks validity and revocation;
a verified chain is cached until a CRL or revocation changes the picture.
Public key objects are parsed once when added, so verification does no PEM/DER work per message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from cryptography import x509

from ocppnet.security.certificates import (
    CertificateError,
    ChainVerifier,
    common_name,
    decode_chain,
    thumbprint,
)
from ocppnet.security.keys import PublicKey, algorithm_of, key_id, load_public_pem

__all__ = ["Refusal", "TrustStore", "TrustedKey"]


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """A known public key; ``not_before``/``not_after`` bound the timestamps it may sign."""

    key_id: str
    public_key: PublicKey = field(repr=False, compare=False)
    algorithm: str
    name: str | None = None
    revoked: bool = False
    not_before: datetime | None = None
    not_after: datetime | None = None
    subject: str | None = None  # CN of its certificate, when it has one
    thumbprint: str | None = None  # x5t#S256 of its certificate

    def distrust_reason(self, signed_at: datetime) -> str | None:
        """Why this key may not vouch for a signature made at ``signed_at`` (None: it may)."""
        if self.revoked:
            return "untrusted key: revoked"
        if self.not_before is not None and signed_at < self.not_before:
            return f"untrusted key: not valid before {self.not_before.isoformat()}"
        if self.not_after is not None and signed_at > self.not_after:
            return f"untrusted key: not valid after {self.not_after.isoformat()}"
        return None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why no key could be found (``unknown``) or the one found may not be used."""

    unknown: bool
    reason: str


@dataclass(slots=True)
class _Certified:
    entry: TrustedKey
    chain: list[x509.Certificate]
    generation: int


class TrustStore:
    """Known public keys by key id (mutable, pure: no files; the key store loads it)."""

    __slots__ = ("_by_leaf", "_by_thumb", "_certified", "_generation", "_keys", "_revoked", "ca")

    def __init__(self, keys: Iterable[TrustedKey] = (), *, ca: ChainVerifier | None = None) -> None:
        self._keys: dict[str, TrustedKey] = {k.key_id: k for k in keys}
        self._by_thumb: dict[str, TrustedKey | _Certified] = {
            k.thumbprint: k for k in self._keys.values() if k.thumbprint
        }
        self._certified: dict[str, _Certified] = {}  # key id -> chain-verified key
        self._by_leaf: dict[str, _Certified] = {}  # x5c[0] as received -> the same
        self._revoked: set[str] = set()
        self._generation = 0
        self.ca = ca if ca is not None else ChainVerifier()

    def add(
        self,
        public_key: PublicKey,
        *,
        name: str | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> TrustedKey:
        """Trust ``public_key`` (replacing an earlier entry with the same id)."""
        entry = TrustedKey(
            key_id(public_key), public_key, algorithm_of(public_key), name,
            False, not_before, not_after,
        )
        self._keys[entry.key_id] = entry
        self._revoked.discard(entry.key_id)
        return entry

    def add_pem(self, pem: bytes, *, name: str | None = None) -> TrustedKey:
        return self.add(load_public_pem(pem), name=name)

    def add_certificate(self, cert: x509.Certificate, *, name: str | None = None) -> TrustedKey:
        """Pin a signer certificate: its key, bounded by the certificate's validity."""
        public = cert.public_key()
        kid = key_id(public)  # type: ignore[arg-type]
        entry = TrustedKey(
            kid, public, algorithm_of(public), name or common_name(cert),  # type: ignore[arg-type]
            False, cert.not_valid_before_utc, cert.not_valid_after_utc,
            common_name(cert), thumbprint(cert),
        )
        self._keys[kid] = entry
        self._by_thumb[entry.thumbprint or ""] = entry
        return entry

    def add_anchor(self, cert: x509.Certificate) -> None:
        """Trust every signer certificate ``cert`` (an owner CA) issues."""
        self.ca.add_anchor(cert)
        self._generation += 1

    def add_crl(self, crl: x509.CertificateRevocationList) -> None:
        self.ca.add_crl(crl)
        self._generation += 1

    def revoke(self, kid: str) -> None:
        """Refuse this key's signatures from now on (pinned or certified; reason: revoked)."""
        self._revoked.add(kid)
        if kid in self._keys:
            self._keys[kid] = replace(self._keys[kid], revoked=True)
        self._generation += 1

    def limit(self, kid: str, not_after: datetime) -> bool:
        """End a key's validity at ``not_after`` (rotation overlap); False if unknown here."""
        entry = self._keys.get(kid)
        if entry is None:
            return False
        if entry.not_after is None or entry.not_after > not_after:
            self._keys[kid] = replace(entry, not_after=not_after)
        return True

    def is_revoked(self, kid: str) -> bool:
        return kid in self._revoked

    def remove(self, kid: str) -> None:
        self._keys.pop(kid, None)

    def get(self, kid: str) -> TrustedKey | None:
        return self._keys.get(kid)

    def resolve(
        self,
        kid: str | None,
        *,
        now: datetime,
        x5c: object = None,
        x5t: str | None = None,
    ) -> TrustedKey | Refusal:
        """The key a signature names (by chain, thumbprint or key id), or why not."""
        if x5c is None and kid is not None:
            entry = self._keys.get(kid)
            if entry is not None:
                return entry
        if x5c is not None:
            found = self._from_chain(x5c, now)
        elif x5t is not None:
            known = self._by_thumb.get(x5t)
            if known is None:
                return Refusal(True, "unknown key: no certificate with this x5t#S256")
            found = known if isinstance(known, TrustedKey) else self._recheck(known, now)
        elif kid is not None and kid in self._certified:
            found = self._recheck(self._certified[kid], now)
        else:
            return Refusal(True, "unknown key: not in the trust store")
        if isinstance(found, Refusal):
            return found
        if kid is not None and found.key_id != kid:
            return Refusal(False, "untrusted key: keyId does not match the certificate")
        if found.key_id in self._revoked:
            return Refusal(False, "untrusted key: revoked")
        return found

    def _from_chain(self, x5c: object, now: datetime) -> TrustedKey | Refusal:
        leaf_text = x5c[0] if isinstance(x5c, list) and x5c else None
        cached = self._by_leaf.get(leaf_text) if isinstance(leaf_text, str) else None
        if cached is not None:
            return self._recheck(cached, now)
        try:
            chain = decode_chain(x5c)
        except CertificateError as exc:
            return Refusal(False, f"untrusted key: {exc}")
        return self._verify(chain, now, str(leaf_text))

    def _recheck(self, known: _Certified, now: datetime) -> TrustedKey | Refusal:
        entry = known.entry
        if known.generation == self._generation and (
            entry.not_before is None or entry.not_before <= now
        ) and (entry.not_after is None or now <= entry.not_after):
            return entry
        found = self._verify(known.chain, now, None)
        if isinstance(found, TrustedKey):  # every map holding ``known`` sees it fresh again
            known.entry, known.generation = found, self._generation
        return found

    def _verify(
        self, chain: list[x509.Certificate], now: datetime, leaf_text: str | None
    ) -> TrustedKey | Refusal:
        if not self.ca:
            return Refusal(True, "unknown key: certificate chain, but no trusted CA")
        try:
            got = self.ca.verify(chain, now=now)
        except CertificateError as exc:
            return Refusal(False, f"untrusted key: {exc}")
        entry = TrustedKey(got.key_id, got.public_key, got.algorithm, got.subject, False,
                           got.not_before, got.not_after, got.subject, got.thumbprint)
        known = _Certified(entry, chain, self._generation)
        self._certified[got.key_id] = known
        self._by_thumb[got.thumbprint] = known
        if leaf_text is not None:
            self._by_leaf[leaf_text] = known
        return entry

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys or kid in self._certified

    def __iter__(self) -> Iterator[TrustedKey]:
        return iter(list(self._keys.values()))

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return (f"TrustStore({len(self._keys)} keys, {len(self.ca.anchors)} CAs, "
                f"{len(self._certified)} certified)")
