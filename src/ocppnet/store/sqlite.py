"""SQLite, the default store: one file (or ``:memory:``), WAL journal, one writer thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ocppnet.store.sql_store import SqlStore

AUTO_KEY = "INTEGER PRIMARY KEY AUTOINCREMENT"


class SqliteSession:
    """sqlite3 in autocommit mode, so that the worker owns BEGIN/COMMIT."""

    def __init__(self, location: str) -> None:
        if location != ":memory:":
            Path(location).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(location, isolation_level=None, check_same_thread=True)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        if location != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")

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


class SqliteStore(SqlStore):
    """``SqliteStore("csms.sqlite3")`` or ``SqliteStore(":memory:")``; ``await open()`` first."""

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        super().__init__(
            lambda: SqliteSession(self.location), auto_key=AUTO_KEY, name="ocppnet-sqlite"
        )
