"""Checking the chain of a periodic event stream where it arrives (the twin, or anyone).

Each batch gets one verdict, kept per stream (docs/digital-twin.md has the table):

* signature valid, next seq: ``ok``; seq jumps by n+1: ``dropped`` (n missing), or ``shed``
  when a node on the way announced the gap (back-pressure); an older seq not seen before:
  ``reordered``; a seq seen before, same batch: ``replayed``;
* signature not valid, in its place (next seq, prev = digest of the last batch): ``altered``
  (a real batch whose content changed); anywhere else: ``inserted``.

A stream whose first batch arrives with seq > 0 is joined there (the twin started late).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ocppnet.telemetry.chain import GENESIS, batch_digest, chain_fields

__all__ = ["BatchStatus", "BatchVerdict", "StreamState", "StreamVerifier"]

_REMEMBERED = 256  # digests kept per stream, to spot replays and late batches


class BatchStatus(StrEnum):
    OK = "ok"
    DROPPED = "dropped"
    SHED = "shed"
    REORDERED = "reordered"
    REPLAYED = "replayed"
    ALTERED = "altered"
    INSERTED = "inserted"
    UNCHAINED = "unchained"

    @property
    def accepted(self) -> bool:
        """Whether the batch's values may be used (its signature is the station's)."""
        return self in _ACCEPTED


_ACCEPTED = frozenset({BatchStatus.OK, BatchStatus.DROPPED, BatchStatus.SHED,
                       BatchStatus.REORDERED, BatchStatus.UNCHAINED})


@dataclass(frozen=True, slots=True)
class BatchVerdict:
    station: str
    stream_id: int
    seq: int | None
    status: BatchStatus
    detail: str
    missing: int = 0
    """Batches that never arrived before this one (dropped or shed)."""

    @property
    def accepted(self) -> bool:
        return self.status.accepted


@dataclass(slots=True)
class StreamState:
    head_seq: int = -1
    head_digest: str | None = GENESIS
    seen: OrderedDict[int, str] = field(default_factory=OrderedDict)
    counts: dict[str, int] = field(default_factory=dict)

    def remember(self, seq: int, digest: str) -> None:
        self.seen[seq] = digest
        while len(self.seen) > _REMEMBERED:
            self.seen.popitem(last=False)


class StreamVerifier:
    """Verdicts for the batches of many streams, keyed by (station, stream id)."""

    __slots__ = ("streams",)

    def __init__(self) -> None:
        self.streams: dict[tuple[str, int], StreamState] = {}

    def check(
        self,
        station: str,
        payload: Mapping[str, Any],
        *,
        signed: bool,
        announced_gap: int = 0,
    ) -> BatchVerdict:
        """The verdict on one batch; ``signed``: it carries a valid signature of a key the
        verifier trusts for ``station``; ``announced_gap``: batches of this stream a node on
        the way says it shed (back-pressure) since the previous one it passed."""
        raw_id = payload.get("id")
        stream_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else -1
        state = self.streams.setdefault((station, stream_id), StreamState())
        verdict = self._judge(state, station, stream_id, payload, signed, announced_gap)
        state.counts[verdict.status.value] = state.counts.get(verdict.status.value, 0) + 1
        return verdict

    def _judge(
        self, state: StreamState, station: str, stream_id: int, payload: Mapping[str, Any],
        signed: bool, announced_gap: int,
    ) -> BatchVerdict:
        fields = chain_fields(payload)
        seq = None if fields is None else fields.seq

        def verdict(status: BatchStatus, detail: str, missing: int = 0) -> BatchVerdict:
            return BatchVerdict(station, stream_id, seq, status,
                                f"{station} stream {stream_id} batch {seq}: {detail}", missing)

        if fields is None:
            if signed:
                return verdict(BatchStatus.UNCHAINED, "signed but not chained")
            return verdict(BatchStatus.INSERTED, "neither signed by the station nor chained")
        digest = batch_digest(payload)
        in_place = fields.seq == state.head_seq + 1 and (
            state.head_digest is None or fields.prev == state.head_digest)
        if not signed:
            if in_place:
                state.head_seq, state.head_digest = fields.seq, None
                return verdict(BatchStatus.ALTERED,
                               "in its place in the chain, but its signature does not verify")
            return verdict(BatchStatus.INSERTED,
                           "its signature does not verify and it fits nowhere in the chain")
        known = state.seen.get(fields.seq)
        if known is not None:
            if known == digest:
                return verdict(BatchStatus.REPLAYED, "already received")
            return verdict(BatchStatus.INSERTED, "a second, different batch with this number")
        state.remember(fields.seq, digest)
        if state.head_seq < 0 and fields.seq > 0 and fields.prev != GENESIS:
            state.head_seq, state.head_digest = fields.seq, digest
            return verdict(BatchStatus.OK, "stream joined here")
        if fields.seq <= state.head_seq:
            return verdict(BatchStatus.REORDERED, f"arrived after batch {state.head_seq}")
        missing = fields.seq - state.head_seq - 1
        state.head_seq, state.head_digest = fields.seq, digest
        if missing == 0:
            return verdict(BatchStatus.OK, "in order")
        if announced_gap >= missing:
            return verdict(BatchStatus.SHED, f"{missing} batch(es) before it shed by a node "
                                             "under back-pressure (announced)", missing)
        unannounced = missing - max(0, announced_gap)
        return verdict(BatchStatus.DROPPED, f"{unannounced} batch(es) before it never arrived",
                       missing)

    def counts(self, station: str, stream_id: int) -> dict[str, int]:
        """How many batches of this stream got each verdict."""
        state = self.streams.get((station, stream_id))
        return dict(state.counts) if state is not None else {}
