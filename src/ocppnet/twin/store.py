"""The twin's time series: raw samples, downsampled rollups for old data, batch verdicts.

SQLite by default (a file), PostgreSQL by URL; one session on the store's worker thread with
group commit (the same :class:`~ocppnet.store.worker.SessionWorker` as the CSMS store), so
a thousand stations' batches become a few commits a second. Samples are queued without
waiting (``put_row``); reads and compaction wait for their batch.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from ocppnet.store.records import StoreError
from ocppnet.store.worker import SessionWorker, TransactionalSession
from ocppnet.telemetry.series import downsample

__all__ = ["Sample", "SeriesStore", "open_series_store"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS twin_samples (
        station TEXT NOT NULL, label TEXT NOT NULL, t DOUBLE PRECISION NOT NULL,
        value DOUBLE PRECISION, text TEXT)""",
    "CREATE INDEX IF NOT EXISTS twin_samples_by_series ON twin_samples (station, label, t)",
    """CREATE TABLE IF NOT EXISTS twin_rollups (
        station TEXT NOT NULL, label TEXT NOT NULL, start DOUBLE PRECISION NOT NULL,
        bucket DOUBLE PRECISION NOT NULL, mean DOUBLE PRECISION NOT NULL,
        minimum DOUBLE PRECISION NOT NULL, maximum DOUBLE PRECISION NOT NULL,
        count INTEGER NOT NULL, PRIMARY KEY (station, label, start))""",
    """CREATE TABLE IF NOT EXISTS twin_verdicts (
        at DOUBLE PRECISION NOT NULL, station TEXT NOT NULL, stream INTEGER NOT NULL,
        seq INTEGER, status TEXT NOT NULL, detail TEXT NOT NULL)""",
)


@dataclass(frozen=True, slots=True)
class Sample:
    station: str
    label: str
    t: float
    value: float | None
    text: str | None = None
    """The value as sent when it is not a number (e.g. a connector state)."""


def _insert_samples(session: TransactionalSession, rows: list[Sample]) -> None:
    session.executemany(
        "INSERT INTO twin_samples (station, label, t, value, text) VALUES (?, ?, ?, ?, ?)",
        [(r.station, r.label, r.t, r.value, r.text) for r in rows])


def _insert_verdicts(session: TransactionalSession,
                     rows: list[tuple[float, str, int, int | None, str, str]]) -> None:
    session.executemany(
        "INSERT INTO twin_verdicts (at, station, stream, seq, status, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)", rows)


def _migrate(session: TransactionalSession) -> None:
    for statement in _SCHEMA:
        session.execute(statement)


def _series(session: TransactionalSession, station: str, label: str, since: float,
            until: float) -> list[tuple[float, float]]:
    rollups = session.execute(
        "SELECT start, mean FROM twin_rollups WHERE station = ? AND label = ? AND start >= ? "
        "AND start < ? ORDER BY start", (station, label, since, until))
    raw = session.execute(
        "SELECT t, value FROM twin_samples WHERE station = ? AND label = ? AND t >= ? "
        "AND t < ? AND value IS NOT NULL ORDER BY t", (station, label, since, until))
    return [(float(t), float(v)) for t, v in [*rollups, *raw]]


def _compact(session: TransactionalSession, before: float, bucket_s: float) -> int:
    rows = session.execute(
        "SELECT station, label, t, value FROM twin_samples WHERE t < ? AND value IS NOT NULL",
        (before,))
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for station, label, t, value in rows:
        groups.setdefault((station, label), []).append((float(t), float(value)))
    for (station, label), points in groups.items():
        for bucket in downsample(points, bucket_s):
            old = session.execute(
                "SELECT mean, minimum, maximum, count FROM twin_rollups WHERE station = ? "
                "AND label = ? AND start = ?", (station, label, bucket.start))
            mean, low, high, count = bucket.mean, bucket.minimum, bucket.maximum, bucket.count
            if old:
                o_mean, o_low, o_high, o_count = old[0]
                total = count + int(o_count)
                mean = (mean * count + float(o_mean) * int(o_count)) / total
                low, high, count = min(low, float(o_low)), max(high, float(o_high)), total
                session.execute("DELETE FROM twin_rollups WHERE station = ? AND label = ? AND "
                                "start = ?", (station, label, bucket.start))
            session.execute(
                "INSERT INTO twin_rollups (station, label, start, bucket, mean, minimum, "
                "maximum, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (station, label, bucket.start, bucket_s, mean, low, high, count))
    session.execute("DELETE FROM twin_samples WHERE t < ?", (before,))
    return len(rows)


def _verdict_counts(session: TransactionalSession) -> list[tuple[Any, ...]]:
    return session.execute(
        "SELECT station, stream, status, COUNT(*) FROM twin_verdicts "
        "GROUP BY station, stream, status ORDER BY station, stream, status")


def _verdicts(session: TransactionalSession, statuses: Sequence[str],
              limit: int) -> list[tuple[Any, ...]]:
    marks = ", ".join("?" for _ in statuses)
    return session.execute(
        f"SELECT at, station, stream, seq, status, detail FROM twin_verdicts "
        f"WHERE status IN ({marks}) ORDER BY at DESC LIMIT {int(limit)}", tuple(statuses))


class SeriesStore:
    """``await store.open()``; ``add(sample)`` (no wait); ``await series(...)``."""

    def __init__(self, worker: SessionWorker[TransactionalSession], location: str) -> None:
        self._worker = worker
        self.location = location

    async def open(self) -> None:
        await self._worker.start()
        await self._worker.run(_migrate)

    async def close(self) -> None:
        await self._worker.stop()

    def add(self, sample: Sample) -> None:
        self._worker.put_row(_insert_samples, sample)

    def add_verdict(self, at: float, station: str, stream: int, seq: int | None, status: str,
                    detail: str) -> None:
        self._worker.put_row(_insert_verdicts, (at, station, stream, seq, status, detail))

    async def series(self, station: str, label: str, since: float = 0.0,
                     until: float = float("inf")) -> list[tuple[float, float]]:
        """Rollups, then raw samples, of one series in [since, until), oldest first."""
        return await self._worker.run(partial(_series, station=station, label=label,
                                              since=since, until=min(until, 1e18)))

    async def compact(self, before: float, bucket_s: float) -> int:
        """Fold raw samples older than ``before`` into rollups of ``bucket_s``; returns how
        many raw samples were folded."""
        return await self._worker.run(partial(_compact, before=before, bucket_s=bucket_s))

    async def verdict_counts(self) -> list[dict[str, Any]]:
        rows = await self._worker.run(_verdict_counts)
        return [{"station": s, "stream": int(k), "status": st, "count": int(n)}
                for s, k, st, n in rows]

    async def problems(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest batches judged altered, dropped, inserted, reordered or replayed."""
        rows = await self._worker.run(partial(
            _verdicts, statuses=("altered", "dropped", "inserted", "reordered", "replayed"),
            limit=limit))
        return [{"at": at, "station": s, "stream": int(k), "seq": seq, "status": st,
                 "detail": d} for at, s, k, seq, st, d in rows]


def open_series_store(location: str) -> SeriesStore:
    """A closed store for a file path, ``:memory:`` or a postgresql:// URL."""
    if location.startswith(("postgresql://", "postgres://")):
        if importlib.util.find_spec("psycopg") is None:
            raise StoreError("twin store: PostgreSQL needs the 'psycopg' package")
        from ocppnet.store.postgres import PostgresSession

        return SeriesStore(SessionWorker(lambda: PostgresSession(location), "ocppnet-twin"),
                           location)
    if "://" in location:
        raise StoreError(f"twin store {location!r}: unknown scheme (use a file or postgresql://)")
    from ocppnet.store.sqlite import SqliteSession

    return SeriesStore(SessionWorker(lambda: SqliteSession(location), "ocppnet-twin"), location)
