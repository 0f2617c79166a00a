"""SQLite specifics: the file, WAL mode, migrations on reopen, refusals."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ocppnet.store import (
    SqliteStore,
    StationBoot,
    StoreError,
)
from ocppnet.store.migrations import LATEST_VERSION

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def boot(station: str = "CS1", at: datetime = T0, path: tuple[str, ...] = ()) -> StationBoot:
    return StationBoot(station, "2.0.1", "ACME", "Fast-1", "Accepted", at,
                       serial_number="S1", firmware="1.0", boot_reason="PowerUp", path=path)


async def test_fresh_file_is_migrated_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "csms.sqlite3"
    async with SqliteStore(path) as s:
        assert await s.schema_version() == LATEST_VERSION
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"schema_version", "stations", "connectors", "transactions", "meter_values",
            "id_tokens", "message_log", "station_events"} <= tables
    db.close()


async def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    path = tmp_path / "csms.sqlite3"
    async with SqliteStore(path) as s:
        await s.record_boot(boot())
    async with SqliteStore(path) as s:
        assert await s.schema_version() == LATEST_VERSION
        station = await s.get_station("CS1")
    assert station is not None and station.vendor == "ACME"
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == LATEST_VERSION
    db.close()


async def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (?)", (LATEST_VERSION + 1,))
    db.commit()
    db.close()
    s = SqliteStore(path)
    with pytest.raises(StoreError, match="newer"):
        await s.open()
    await s.close()


async def test_unopenable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot open store"):
        await SqliteStore(blocker / "csms.sqlite3").open()


async def test_using_a_closed_store_is_a_store_error() -> None:
    s = SqliteStore(":memory:")
    with pytest.raises(StoreError, match="not open"):
        await s.get_station("x")
