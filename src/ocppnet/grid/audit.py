"""The DSO's audit log: every curtailment, release and receipt, and whether it was proven.

SQLite by default (a file path), PostgreSQL for a ``postgresql://`` URL: the same blocking
sessions and writer thread as the CSMS store (:mod:`ocppnet.store`), one table
``grid_audit``, created if missing. Rows are values (:class:`AuditEntry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ocppnet.store.location import POSTGRES_SCHEMES
from ocppnet.store.records import StoreError
from ocppnet.store.worker import SessionWorker, TransactionalSession

__all__ = ["AuditEntry", "AuditLog"]

_COLUMNS = ("at", "target", "action", "sequence", "limit_w", "duration_s", "outcome",
            "proven", "state", "in_force_w", "since", "until", "detail")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One message of the operator and what came back. ``outcome``: Accepted / Rejected /
    error code; ``proven``: the receipt was signed by the target's key and matches."""

    at: float
    target: str
    action: str
    sequence: int
    outcome: str
    proven: bool
    limit_w: float | None = None
    duration_s: float | None = None
    state: str | None = None
    in_force_w: float | None = None
    since: float | None = None
    until: float | None = None
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _schema(auto_key: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS grid_audit (
        id {auto_key},
        at DOUBLE PRECISION NOT NULL, target TEXT NOT NULL, action TEXT NOT NULL,
        sequence BIGINT NOT NULL, limit_w DOUBLE PRECISION, duration_s DOUBLE PRECISION,
        outcome TEXT NOT NULL, proven INTEGER NOT NULL, state TEXT,
        in_force_w DOUBLE PRECISION, since DOUBLE PRECISION, until DOUBLE PRECISION,
        detail TEXT NOT NULL)"""


class AuditLog:
    """``AuditLog("grid-audit.sqlite3")`` or ``AuditLog("postgresql://...")``; open first."""

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)
        connect: Callable[[], TransactionalSession]
        if self.location.startswith(POSTGRES_SCHEMES):
            try:
                from ocppnet.store.postgres import AUTO_KEY, PostgresSession
            except ImportError:
                raise StoreError("grid.store: PostgreSQL needs the 'psycopg' package") from None
            self._auto_key = AUTO_KEY
            connect = lambda: PostgresSession(self.location)  # noqa: E731
        elif "://" in self.location:
            raise StoreError(f"grid.store: unknown scheme in {self.location.split('://')[0]}:// "
                             "(use a file path or postgresql://)")
        else:
            from ocppnet.store.sqlite import AUTO_KEY as SQLITE_KEY
            from ocppnet.store.sqlite import SqliteSession

            self._auto_key = SQLITE_KEY
            connect = lambda: SqliteSession(self.location)  # noqa: E731
        self._worker: SessionWorker[TransactionalSession] = SessionWorker(
            connect, name="ocppnet-grid-audit")

    async def open(self) -> None:
        await self._worker.start()
        schema = _schema(self._auto_key)
        await self._worker.run(lambda s: s.execute(schema))

    async def close(self) -> None:
        await self._worker.stop()

    async def record(self, entry: AuditEntry) -> None:
        row = [getattr(entry, c) for c in _COLUMNS]
        row[_COLUMNS.index("proven")] = int(entry.proven)
        sql = (f"INSERT INTO grid_audit ({', '.join(_COLUMNS)}) "
               f"VALUES ({', '.join('?' for _ in _COLUMNS)})")
        await self._worker.run(lambda s: s.execute(sql, row))

    async def recent(self, *, target: str | None = None, limit: int = 50) -> list[AuditEntry]:
        """The newest entries first (of ``target`` only, if given)."""
        where, params = ("WHERE target = ? ", [target]) if target else ("", [])
        sql = (f"SELECT {', '.join(_COLUMNS)} FROM grid_audit {where}"
               "ORDER BY id DESC LIMIT ?")
        rows = await self._worker.run(lambda s: s.execute(sql, [*params, limit]))
        entries = []
        for row in rows:
            values = dict(zip(_COLUMNS, row, strict=True))
            values["proven"] = bool(values["proven"])
            entries.append(AuditEntry(**values))
        return entries
