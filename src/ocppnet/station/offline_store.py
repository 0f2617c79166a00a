"""The simulator's offline queues on disk: one SQLite file for every station of a process, so
a station process killed while its CSMS is unreachable loses nothing (docs/station.md).

Each push is committed before the station moves on (WAL, ``synchronous=NORMAL``: a commit
survives the process being killed; only a power loss may take the last ones); each delivered
message is deleted. The 1.6 mapping from the station's own transaction ids to the CSMS's is
kept beside the queue, so a StopTransaction queued before a crash still finds its id after it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

__all__ = ["QueueFile", "StoredIds"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS offline_queue (station TEXT NOT NULL, seq INTEGER NOT NULL, "
    "action TEXT NOT NULL, payload TEXT NOT NULL, tx_ref TEXT, droppable INTEGER NOT NULL, "
    "PRIMARY KEY (station, seq))",
    "CREATE TABLE IF NOT EXISTS offline_tx_ids (station TEXT NOT NULL, tx_ref TEXT NOT NULL, "
    "csms_id INTEGER NOT NULL, PRIMARY KEY (station, tx_ref))",
)


class QueueFile:
    """``QueueFile(path)``; shared by the stations of one process (one event loop thread)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            for statement in _SCHEMA:
                self._conn.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            raise ValueError(f"--queue-file {self.path}: cannot open: {exc}") from None

    def load(self, station: str) -> list[tuple[int, str, dict[str, Any], str | None, bool]]:
        """What ``station`` left queued, oldest first: (seq, action, payload, tx_ref,
        droppable)."""
        rows = self._conn.execute(
            "SELECT seq, action, payload, tx_ref, droppable FROM offline_queue "
            "WHERE station = ? ORDER BY seq", (station,)).fetchall()
        return [(int(seq), action, json.loads(payload), tx_ref, bool(droppable))
                for seq, action, payload, tx_ref, droppable in rows]

    def append(self, station: str, seq: int, action: str, payload: dict[str, Any],
               tx_ref: str | None, droppable: bool) -> None:
        self._conn.execute(
            "INSERT INTO offline_queue (station, seq, action, payload, tx_ref, droppable) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (station, seq, action, json.dumps(payload, separators=(",", ":")), tx_ref,
             int(droppable)))

    def remove(self, station: str, seq: int) -> None:
        self._conn.execute("DELETE FROM offline_queue WHERE station = ? AND seq = ?",
                           (station, seq))

    def count(self, station: str | None = None) -> int:
        if station is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM offline_queue").fetchone()[0])
        return int(self._conn.execute("SELECT COUNT(*) FROM offline_queue WHERE station = ?",
                                      (station,)).fetchone()[0])

    def ids(self, station: str) -> StoredIds:
        rows = self._conn.execute(
            "SELECT tx_ref, csms_id FROM offline_tx_ids WHERE station = ?", (station,))
        return StoredIds(self, station, {ref: int(csms) for ref, csms in rows})

    def put_id(self, station: str, tx_ref: str, csms_id: int) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO offline_tx_ids (station, tx_ref, csms_id) VALUES (?, ?, ?)",
            (station, tx_ref, csms_id))

    def drop_id(self, station: str, tx_ref: str) -> None:
        self._conn.execute("DELETE FROM offline_tx_ids WHERE station = ? AND tx_ref = ?",
                           (station, tx_ref))

    def close(self) -> None:
        self._conn.close()


class StoredIds(MutableMapping[str, int]):
    """A station's 1.6 transaction-id mapping, written through to the queue file."""

    def __init__(self, file: QueueFile, station: str, initial: dict[str, int]) -> None:
        self._file = file
        self._station = station
        self._ids = initial

    def __getitem__(self, key: str) -> int:
        return self._ids[key]

    def __setitem__(self, key: str, value: int) -> None:
        self._ids[key] = value
        self._file.put_id(self._station, key, value)

    def __delitem__(self, key: str) -> None:
        del self._ids[key]
        self._file.drop_id(self._station, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)
