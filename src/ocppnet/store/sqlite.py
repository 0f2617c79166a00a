"""SQLite, the default store: one file (or ``:memory:``), WAL journal, ``synchronous =
NORMAL``, written with group commit on the event loop (:mod:`.loop_worker`), checkpointed
on a thread of its own.

Durability: a commit is in the WAL file (the operating system's page cache) before any
answer that depends on it is sent, so a killed or crashed process loses nothing it
acknowledged; a power loss or kernel crash may lose the last commits (SQLite's
``synchronous = NORMAL`` in WAL mode: no fsync per commit, one per checkpoint).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocppnet.store.loop_worker import Checkpointer, LoopWorker
from ocppnet.store.sql_store import SqlStore

AUTO_KEY = "INTEGER PRIMARY KEY AUTOINCREMENT"
CHECKPOINT_SECONDS = 0.5
#: pages after which the writer checkpoints by itself: only if the checkpointer falls
#: far behind or is gone (40 MiB of WAL); SQLite's default is 1000
FALLBACK_AUTOCHECKPOINT = 10_000
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # the WAL file is cut back to this after a checkpoint


class SqliteSession:
    """sqlite3 in autocommit mode, so that the worker owns BEGIN/COMMIT. ``autocheckpoint``
    False leaves checkpoints to someone else (:class:`Checkpointer`), with the writer's
    own as a fallback far behind."""

    def __init__(self, location: str, *, autocheckpoint: bool = True) -> None:
        if location != ":memory:":
            Path(location).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(location, isolation_level=None, check_same_thread=True)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        if location != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
            if not autocheckpoint:
                self._conn.execute(f"PRAGMA wal_autocheckpoint = {FALLBACK_AUTOCHECKPOINT}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def begin(self) -> None:
        self._conn.execute("BEGIN")

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()


def _checkpoint_connection(location: str) -> sqlite3.Connection:
    conn = sqlite3.connect(location, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def _checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


class SqliteStore(SqlStore):
    """``SqliteStore("csms.sqlite3")`` or ``SqliteStore(":memory:")``; ``await open()`` first
    (in the event loop that then uses it: the connection lives on that loop's thread)."""

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        on_disk = self.location != ":memory:"
        checkpointer = None
        if on_disk:
            def checkpointer() -> Checkpointer:
                return Checkpointer(lambda: _checkpoint_connection(self.location), _checkpoint,
                                    interval=CHECKPOINT_SECONDS, name="ocppnet-sqlite-wal")
        def connect() -> SqliteSession:
            return SqliteSession(self.location, autocheckpoint=not on_disk)

        worker: LoopWorker[Any] = LoopWorker(connect, checkpointer=checkpointer)
        super().__init__(connect, auto_key=AUTO_KEY, name="ocppnet-sqlite", worker=worker)
