"""PostgreSQL store (optional ``psycopg`` v3): the same queries and writer thread as SQLite.

PostgreSQL would allow many writers, but one session with group commit already turns a
thousand stations' writes into a few commits a second, and it keeps both dialects' behaviour
identical (same ordering, same savepoint isolation of a failing job).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from ocppnet.store.sql_store import SqlStore

AUTO_KEY = "BIGSERIAL PRIMARY KEY"


def _dialect(sql: str) -> str:
    """Our queries use ``?`` placeholders and contain no literal ``?`` or ``%``."""
    return sql.replace("?", "%s")


class PostgresSession:
    """A psycopg connection in autocommit mode, so that the worker owns BEGIN/COMMIT."""

    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(_dialect(sql), tuple(params))
            return cur.fetchall() if cur.description is not None else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(_dialect(sql), [tuple(r) for r in rows])

    def begin(self) -> None:
        self._conn.execute("BEGIN")

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()


class PostgresStore(SqlStore):
    """``PostgresStore("postgresql://user:pw@host/db")``; ``await open()`` first."""

    #: front-ends of a scale-out CSMS start together on one fresh database: one migrates,
    #: the others wait for its commit and find the schema there (key: "ocppnet" in ASCII)
    migration_lock = "SELECT pg_advisory_xact_lock(31353056988652916)"

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(lambda: PostgresSession(self.url), auto_key=AUTO_KEY,
                         name="ocppnet-postgres")
