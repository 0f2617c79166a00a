"""The simulator's offline queue on disk: what a killed process queued is there afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.station.offline_queue import OfflineQueue, QueuedMessage
from ocppnet.station.offline_store import QueueFile


def test_a_reopened_file_gives_back_the_queue_in_order(tmp_path: Path) -> None:
    file = QueueFile(tmp_path / "q.sqlite3")
    queue = OfflineQueue(10, file=file, station="CS-1")
    other = OfflineQueue(10, file=file, station="CS-2")
    for n in range(4):
        assert queue.push(QueuedMessage("TransactionEvent", {"seqNo": n}, "tx-1"))
    other.push(QueuedMessage("MeterValues", {"n": 1}, None, droppable=True))
    assert queue.pop().payload == {"seqNo": 0}
    queue.ids["tx-1"] = 42
    file.close()  # the process is gone; nothing else was written

    again = QueueFile(tmp_path / "q.sqlite3")
    queue = OfflineQueue(10, file=again, station="CS-1")
    assert [m.payload["seqNo"] for m in queue] == [1, 2, 3]
    assert queue.peek() == QueuedMessage("TransactionEvent", {"seqNo": 1}, "tx-1")
    assert dict(queue.ids) == {"tx-1": 42}
    queue.push(QueuedMessage("TransactionEvent", {"seqNo": 4}, "tx-1"))
    assert [m.payload["seqNo"] for m in queue] == [1, 2, 3, 4]  # numbering goes on
    while queue:
        queue.pop()
    del queue.ids["tx-1"]
    assert again.count("CS-1") == 0 and again.count("CS-2") == 1
    assert OfflineQueue(10, file=again, station="CS-1").ids == {}


def test_droppable_messages_still_give_way_when_full(tmp_path: Path) -> None:
    queue = OfflineQueue(1, file=QueueFile(tmp_path / "q.sqlite3"), station="CS-1")
    assert queue.push(QueuedMessage("MeterValues", {}, None, droppable=True))
    assert not queue.push(QueuedMessage("MeterValues", {}, None, droppable=True))
    assert queue.push(QueuedMessage("StopTransaction", {}, "t"))  # ends are always kept
    assert queue.dropped == 1 and len(queue) == 2


def test_an_unusable_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(ValueError, match=r"--queue-file .*dir\.sqlite3: cannot open"):
        QueueFile(tmp_path / "dir.sqlite3")
