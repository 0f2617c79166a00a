"""Chained batches of a periodic event stream: each NotifyPeriodicEventStream carries its
sequence number and the hash of the previous batch in ``customData`` (the one place the 2.1
schema lets a sender add fields), and is signed once by the station (docs/signatures.md),
so a batch that is altered, dropped, reordered or inserted on the way is detected.

``customData = {"vendorId": "org.ocppnet.telemetry", "seq": 7, "prev": "<digest of batch 6>"}``

The digest is SHA-256 (base64url, no padding) of the RFC 8785 canonical form of the batch
without its ``signatures``: what the signature covers, so both agree on what a batch is.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ocppnet.security.canonical import canonicalize

__all__ = ["CHAIN_VENDOR", "GENESIS", "ChainFields", "StreamChain", "batch_digest", "chain_fields"]

CHAIN_VENDOR: Final = "org.ocppnet.telemetry"
GENESIS: Final = "-"
"""``prev`` of a stream's first batch."""


def batch_digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical batch without ``signatures``, base64url without padding."""
    body = {k: v for k, v in payload.items() if k != "signatures"}
    digest = hashlib.sha256(canonicalize(body)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class ChainFields:
    """What a batch says about its place in the chain."""

    seq: int
    prev: str


def chain_fields(payload: Mapping[str, Any]) -> ChainFields | None:
    """The chain fields of a batch, or None when it carries none (or malformed ones)."""
    custom = payload.get("customData")
    if not isinstance(custom, Mapping) or custom.get("vendorId") != CHAIN_VENDOR:
        return None
    seq, prev = custom.get("seq"), custom.get("prev")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0 or not isinstance(prev, str):
        return None
    return ChainFields(seq, prev)


class StreamChain:
    """The sending side of one stream: builds each batch with the next seq and the previous
    batch's digest (which ignores signatures, so signing after building changes nothing)."""

    __slots__ = ("_prev", "_seq", "stream_id")

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id
        self._seq = 0
        self._prev = GENESIS

    def batch(
        self,
        basetime: str,
        data: Sequence[Mapping[str, Any]],
        *,
        pending: int = 0,
    ) -> dict[str, Any]:
        """A NotifyPeriodicEventStream payload for ``data`` ([{t, v}], t seconds after
        ``basetime``), chained to the previous batch."""
        if not data:
            raise ValueError("a batch needs at least one value")
        payload = {
            "id": self.stream_id,
            "pending": pending,
            "basetime": basetime,
            "data": [dict(item) for item in data],
            "customData": {"vendorId": CHAIN_VENDOR, "seq": self._seq, "prev": self._prev},
        }
        self._prev = batch_digest(payload)
        self._seq += 1
        return payload

    @property
    def next_seq(self) -> int:
        return self._seq
