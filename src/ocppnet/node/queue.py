"""Store-and-forward queue: requests that OCPP says must not be lost, kept in SQLite.

Entries are appended before a request is forwarded and removed when the upstream has answered,
so a request survives an upstream outage and a SIGKILL of the node (WAL mode: a committed
transaction survives a process crash). Delivery is at least once: an entry whose answer was lost
with the link is sent again; OCPP's seqNo / transactionId let the CSMS spot the duplicate.

Calls are synchronous and short (one indexed insert or delete); they run on the event loop
thread on purpose, because a hand-off to a thread costs more than the write itself.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import orjson

from ocppnet.errors import InternalError
from ocppnet.rpc.frames import Call
from ocppnet.rpc.header import RawFrame, raw_call

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    upstream TEXT NOT NULL,
    source TEXT NOT NULL,
    message_id TEXT NOT NULL,
    action TEXT NOT NULL,
    dest TEXT,
    path TEXT NOT NULL,
    payload BLOB NOT NULL,
    enqueued_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_upstream ON queue (upstream, seq);
"""


@dataclass(frozen=True, slots=True)
class QueuedCall:
    seq: int
    upstream: str
    source: str
    call: Call
    enqueued_at: float


class QueueUnavailable(InternalError):
    """The queue could not keep a request (disk full, read-only, gone): nothing was kept."""


class ForwardQueue:
    """A persistent FIFO of CALLs per upstream."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def append(self, upstream: str, source: str, call: Call, now: float) -> int:
        """Keep ``call``; raises :class:`QueueUnavailable` when the disk cannot take it
        (full, read-only, gone), so the caller refuses rather than acknowledges it."""
        try:
            return self._append(upstream, source, call, now)
        except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as exc:
            raise QueueUnavailable(f"queue {self.path}: {exc}") from None

    def _append(self, upstream: str, source: str, call: Call, now: float) -> int:
        cur = self._db.execute(
            "INSERT INTO queue (upstream, source, message_id, action, dest, path, payload,"
            " enqueued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upstream,
                source,
                call.message_id,
                call.action,
                call.dest,
                orjson.dumps(list(call.path)),
                # a raw frame's bytes as it arrived (signatures inside stay byte-exact)
                call.payload_text if isinstance(call, RawFrame) else orjson.dumps(call.payload),
                now,
            ),
        )
        return int(cur.lastrowid or 0)

    def remove(self, seq: int) -> None:
        self._db.execute("DELETE FROM queue WHERE seq = ?", (seq,))

    def pending(self, upstream: str, limit: int = 100) -> list[QueuedCall]:
        """The oldest entries for an upstream, in the order they were appended (each a raw
        CALL: it leaves with the payload bytes it was kept with)."""
        rows = self._db.execute(
            "SELECT seq, upstream, source, message_id, action, dest, path, payload, enqueued_at"
            " FROM queue WHERE upstream = ? ORDER BY seq LIMIT ?",
            (upstream, limit),
        ).fetchall()
        return [
            QueuedCall(
                seq=row[0],
                upstream=row[1],
                source=row[2],
                call=raw_call(row[3], row[4], bytes(row[7]), row[5], tuple(orjson.loads(row[6]))),
                enqueued_at=row[8],
            )
            for row in rows
        ]

    def sources(self) -> set[str]:
        """Originators (PATH[0]) of the requests still queued, for any upstream."""
        return {row[0] for row in self._db.execute("SELECT DISTINCT source FROM queue")}

    def upstreams(self) -> list[str]:
        """Upstreams with a backlog (at start-up: what a previous run left queued)."""
        return [row[0] for row in self._db.execute("SELECT DISTINCT upstream FROM queue")]


    def count(self, upstream: str | None = None) -> int:
        if upstream is None:
            row = self._db.execute("SELECT COUNT(*) FROM queue").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM queue WHERE upstream = ?", (upstream,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()
