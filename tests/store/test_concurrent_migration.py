"""Front-ends of a scale-out CSMS start together on one fresh PostgreSQL database: they must
not race in the first migration (CREATE TABLE IF NOT EXISTS is not safe concurrently; two
`ocppnet csms` processes collided there). The advisory lock serialises them. In one process
the race did not show without the lock either, so this test guards the outcome (every store
opens, each migration is recorded once), not the race itself."""

from __future__ import annotations

import asyncio

from ocppnet.store import open_store
from ocppnet.store.migrations import LATEST_VERSION
from ocppnet.store.sql_store import SqlStore
from tests.store.conftest import _fresh_schema


async def test_six_stores_opening_at_once_migrate_once(postgres_url: str) -> None:
    url = _fresh_schema(postgres_url)
    stores = [open_store(url) for _ in range(6)]
    assert all(isinstance(s, SqlStore) for s in stores)
    try:
        await asyncio.gather(*(s.open() for s in stores))
        versions = [await s.schema_version() for s in stores]  # type: ignore[attr-defined]
        assert versions == [LATEST_VERSION] * 6
    finally:
        await asyncio.gather(*(s.close() for s in stores), return_exceptions=True)
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, LATEST_VERSION + 1))  # each applied once
