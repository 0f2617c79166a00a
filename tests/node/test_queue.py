"""The store-and-forward queue: FIFO per upstream, survives closing and reopening."""

from __future__ import annotations

from pathlib import Path

from ocppnet.node.queue import ForwardQueue
from ocppnet.rpc.frames import Call


def event(seq_no: int, station: str = "CS-1") -> Call:
    payload = {"eventType": "Updated", "seqNo": seq_no, "note": "ünïcode"}
    return Call(f"m{seq_no}", "TransactionEvent", payload, dest="CSMS", path=(station, "NODE-A"))


def test_append_pending_remove_keep_order_per_upstream() -> None:
    queue = ForwardQueue(":memory:")
    seqs = [queue.append("CSMS-1", "CS-1", event(n), now=100.0 + n) for n in range(5)]
    queue.append("GRID-1", "CS-2", event(99, "CS-2"), now=200.0)
    assert seqs == sorted(seqs)
    pending = queue.pending("CSMS-1")
    assert [q.call.payload["seqNo"] for q in pending] == [0, 1, 2, 3, 4]
    assert pending[0].call == event(0)  # every field round-trips, PATH as a tuple
    assert pending[0].source == "CS-1" and pending[0].upstream == "CSMS-1"
    assert pending[0].enqueued_at == 100.0
    queue.remove(pending[1].seq)
    assert [q.call.payload["seqNo"] for q in queue.pending("CSMS-1", limit=2)] == [0, 2]
    assert queue.count("CSMS-1") == 4 and queue.count("GRID-1") == 1 and queue.count() == 5
    assert sorted(queue.upstreams()) == ["CSMS-1", "GRID-1"]
    for item in queue.pending("CSMS-1"):
        queue.remove(item.seq)
    assert queue.pending("CSMS-1") == [] and queue.upstreams() == ["GRID-1"]
    queue.close()


def test_entries_survive_reopening_and_new_ones_go_behind(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "queue.sqlite3"  # the folder is created
    first = ForwardQueue(path)
    for n in range(3):
        first.append("CSMS-1", "CS-1", event(n), now=1.0)
    first.remove(first.pending("CSMS-1")[0].seq)
    first.close()
    second = ForwardQueue(path)
    second.append("CSMS-1", "CS-1", event(3), now=2.0)
    assert [q.call.payload["seqNo"] for q in second.pending("CSMS-1")] == [1, 2, 3]
    second.close()


def test_a_committed_append_is_visible_to_another_connection(tmp_path: Path) -> None:
    """No explicit commit is needed: what append returns is on disk (what SIGKILL relies on)."""
    path = tmp_path / "queue.sqlite3"
    writer = ForwardQueue(path)
    writer.append("CSMS-1", "CS-1", event(7), now=1.0)
    reader = ForwardQueue(path)  # a second process would see the same
    assert [q.call.message_id for q in reader.pending("CSMS-1")] == ["m7"]
    reader.close()
    writer.close()
