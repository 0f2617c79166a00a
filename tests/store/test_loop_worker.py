"""The SQLite store's group commit on the event loop (store/loop_worker.py): one batch per
loop turn, a coroutine resumes only once its write is committed (another connection sees
it), queued rows survive a close, the WAL is checkpointed on the side, and the MeterValues
job finds the EVSE's active transaction itself."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ocppnet.store import (
    ConnectorRecord,
    MessageKey,
    MessageLogEntry,
    MeterSample,
    NewTransaction,
    SqliteStore,
    TransactionUpdate,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def other_connection(db: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(db))


async def test_writes_of_one_loop_turn_are_one_transaction(tmp_path: Path) -> None:
    async with SqliteStore(tmp_path / "csms.sqlite3") as store:
        before = store.batches
        await asyncio.gather(*(
            store.set_connector_status(ConnectorRecord(f"CS{i}", 1, 1, "Available", T0))
            for i in range(20)))
        assert store.batches == before + 1
        assert len(await store.list_connectors("CS7")) == 1


async def test_a_write_is_committed_when_its_coroutine_resumes(tmp_path: Path) -> None:
    db = tmp_path / "csms.sqlite3"
    async with SqliteStore(db) as store:
        key = MessageKey("CS1", "TransactionEvent", "TX-1/0")
        applied = await store.apply_once(
            key, TransactionUpdate("CS1", new=NewTransaction("CS1", T0, "TX-1", evse_id=1)), T0)
        assert not applied.duplicate
        with other_connection(db) as conn:  # not our connection: sees only what is committed
            assert conn.execute("SELECT natural_key FROM received_messages").fetchall() == [
                ("TX-1/0",)]
            assert conn.execute("SELECT transaction_id FROM transactions").fetchall() == [
                ("TX-1",)]


async def test_rows_queued_before_close_are_stored(tmp_path: Path) -> None:
    db = tmp_path / "csms.sqlite3"
    async with SqliteStore(db) as store:
        store.log_message(MessageLogEntry(T0, "CS1", "in", 2, "m1", "Heartbeat"))
        store.note_seen("CS1", T0)
        # no flush: close() commits what is queued
    async with SqliteStore(db) as store:
        assert [m.message_id for m in await store.list_messages("CS1")] == ["m1"]
        station = await store.get_station("CS1")
        assert station is not None and station.last_seen == T0


async def test_the_wal_is_checkpointed_on_its_own_thread(tmp_path: Path) -> None:
    db = tmp_path / "csms.sqlite3"
    async with SqliteStore(db) as store:
        checkpointer = store._worker._checkpointer  # type: ignore[attr-defined]
        assert checkpointer is not None
        done = checkpointer.checkpoints
        for i in range(50):
            store.log_message(MessageLogEntry(T0, "CS1", "in", 2, f"m{i}", "Heartbeat"))
        await store.flush()
        checkpointer.nudge()
        for _ in range(2000):  # the thread runs when it is woken; this only bounds the wait
            if checkpointer.checkpoints > done:
                break
            await asyncio.sleep(0.005)
        assert checkpointer.checkpoints > done
    with other_connection(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT count(*) FROM message_log").fetchone() == (50,)


async def test_meter_values_attach_to_the_evse_s_latest_active_transaction(
    tmp_path: Path,
) -> None:
    async with SqliteStore(tmp_path / "csms.sqlite3") as store:
        for tx_id, evse in (("TX-A", 1), ("TX-B", 2), ("TX-C", 1)):
            await store.start_transaction(NewTransaction("CS1", T0, tx_id, evse_id=evse))
        sample = MeterSample("CS1", T0 + timedelta(minutes=1), 1500.0, unit="Wh")
        applied = await store.apply_once(
            MessageKey("CS1", "MeterValues", "1//d1"),
            TransactionUpdate("CS1", active_on_evse=1, samples=(sample,), register_wh=1500.0),
            T0)
        assert applied.transaction is not None
        assert applied.transaction.transaction_id == "TX-C"  # the latest on EVSE 1
        assert [s.value for s in await store.list_meter_samples(applied.transaction.key)] == [
            1500.0]
        none = await store.apply_once(
            MessageKey("CS1", "MeterValues", "3//d2"),
            TransactionUpdate("CS1", active_on_evse=3, samples=(sample,)), T0)
        assert none.transaction is None and not none.duplicate


async def test_close_stores_more_than_one_batch_of_queued_rows(tmp_path: Path) -> None:
    from ocppnet.store.worker import MAX_BATCH

    db = tmp_path / "csms.sqlite3"
    async with SqliteStore(db) as store:
        for i in range(MAX_BATCH + 10):
            store.log_message(MessageLogEntry(T0, "CS1", "in", 2, f"m{i}", "Heartbeat"))
    with other_connection(db) as conn:
        assert conn.execute("SELECT count(*) FROM message_log").fetchone() == (MAX_BATCH + 10,)
