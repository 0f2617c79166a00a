"""The verifier's trust store: the only source of public keys a signature is checked against.

A key carried inside a message is never used. A key is *unknown* when its id is not here and
*untrusted* when it is here but revoked or outside its validity period. Public key objects are
parsed once when added, so verification does no PEM/DER work per message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from ocppnet.security.keys import PublicKey, algorithm_of, key_id, load_public_pem

__all__ = ["TrustStore", "TrustedKey"]


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

    def distrust_reason(self, signed_at: datetime) -> str | None:
        """Why this key may not vouch for a signature made at ``signed_at`` (None: it may)."""
        if self.revoked:
            return "untrusted key: revoked"
        if self.not_before is not None and signed_at < self.not_before:
            return f"untrusted key: not valid before {self.not_before.isoformat()}"
        if self.not_after is not None and signed_at > self.not_after:
            return f"untrusted key: not valid after {self.not_after.isoformat()}"
        return None


class TrustStore:
    """Known public keys by key id (mutable, pure: no files; the key store loads it)."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Iterable[TrustedKey] = ()) -> None:
        self._keys: dict[str, TrustedKey] = {k.key_id: k for k in keys}

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
        return entry

    def add_pem(self, pem: bytes, *, name: str | None = None) -> TrustedKey:
        return self.add(load_public_pem(pem), name=name)

    def revoke(self, kid: str) -> None:
        """Keep the key known but refuse its signatures (reason: untrusted key)."""
        if kid in self._keys:
            self._keys[kid] = replace(self._keys[kid], revoked=True)

    def remove(self, kid: str) -> None:
        self._keys.pop(kid, None)

    def get(self, kid: str) -> TrustedKey | None:
        return self._keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __iter__(self) -> Iterator[TrustedKey]:
        return iter(list(self._keys.values()))

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"TrustStore({len(self._keys)} keys)"
