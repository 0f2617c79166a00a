"""Chained, signed batches: every way a man in the middle can touch a stream is named."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ocppnet.telemetry import BatchStatus, StreamChain, StreamVerifier, batch_digest, chain_fields
from ocppnet.telemetry.chain import GENESIS


def batches(n: int, stream_id: int = 3) -> list[dict[str, Any]]:
    chain = StreamChain(stream_id)
    return [chain.batch("2026-12-01T10:00:00Z", [{"t": i, "v": f"{1000 + i}.0"}])
            for i in range(n)]


def run(sequence: list[dict[str, Any]], signed: list[bool] | None = None) -> list[BatchStatus]:
    verifier = StreamVerifier()
    flags = signed or [True] * len(sequence)
    return [verifier.check("CS-1", b, signed=s).status for b, s in zip(sequence, flags,
                                                                        strict=True)]


def test_each_batch_names_its_predecessor() -> None:
    first, second, third = batches(3)
    assert chain_fields(first) is not None and chain_fields(first).prev == GENESIS  # type: ignore[union-attr]
    assert chain_fields(second).seq == 1  # type: ignore[union-attr]
    assert chain_fields(third).prev == batch_digest(second)  # type: ignore[union-attr]
    signed = {**second, "signatures": [{"keyId": "x"}]}
    assert batch_digest(signed) == batch_digest(second)  # what the signature covers


def test_an_untouched_stream_is_ok_throughout() -> None:
    assert run(batches(5)) == [BatchStatus.OK] * 5


def test_alter_drop_reorder_insert_and_replay_are_each_named() -> None:
    b = batches(8)
    forged = copy.deepcopy(b[2])
    forged["data"][0]["v"] = "99999.0"  # altered on the way: the signature no longer holds
    inserted = StreamChain(3).batch("2026-12-01T10:00:00Z", [{"t": 0, "v": "1.0"}])
    sequence = [b[0], b[1], forged, b[3], b[5], b[4], inserted, b[6], b[6], b[7]]
    signed = [True, True, False, True, True, True, False, True, True, True]
    assert run(sequence, signed) == [
        BatchStatus.OK, BatchStatus.OK, BatchStatus.ALTERED, BatchStatus.OK,
        BatchStatus.DROPPED, BatchStatus.REORDERED, BatchStatus.INSERTED, BatchStatus.OK,
        BatchStatus.REPLAYED, BatchStatus.OK,
    ]


def test_a_gap_a_node_announced_is_shed_not_dropped() -> None:
    b = batches(4)
    verifier = StreamVerifier()
    verifier.check("CS-1", b[0], signed=True)
    verdict = verifier.check("CS-1", b[3], signed=True, announced_gap=2)
    assert verdict.status is BatchStatus.SHED and verdict.missing == 2
    assert "shed by a node" in verdict.detail
    assert verifier.counts("CS-1", 3) == {"ok": 1, "shed": 1}


def test_a_twin_that_starts_late_joins_the_stream() -> None:
    b = batches(5)
    assert run(b[3:]) == [BatchStatus.OK, BatchStatus.OK]


def test_unchained_and_unsigned() -> None:
    plain = {"id": 1, "pending": 0, "basetime": "2026-12-01T10:00:00Z",
             "data": [{"t": 0, "v": "1"}]}
    assert run([plain], [True]) == [BatchStatus.UNCHAINED]
    assert run([plain], [False]) == [BatchStatus.INSERTED]


def test_streams_of_different_stations_do_not_mix() -> None:
    verifier = StreamVerifier()
    b = batches(2)
    assert verifier.check("CS-1", b[0], signed=True).status is BatchStatus.OK
    assert verifier.check("CS-2", b[0], signed=True).status is BatchStatus.OK
    assert verifier.check("CS-1", b[1], signed=True).status is BatchStatus.OK


@given(st.lists(st.booleans(), min_size=2, max_size=40))
def test_every_unannounced_loss_is_reported_as_dropped(keep: list[bool]) -> None:
    """Whatever a node drops, the next batch that arrives names how many never came."""
    b = batches(len(keep) + 1)
    kept = [batch for batch, k in zip(b, [*keep, True], strict=True) if k]
    verifier = StreamVerifier()
    missing = sum(v.missing for v in (verifier.check("CS-1", x, signed=True) for x in kept))
    first_seq = chain_fields(kept[0]).seq  # type: ignore[union-attr]
    lost_after_first = sum(1 for k in keep[first_seq:] if not k)
    assert missing == lost_after_first
