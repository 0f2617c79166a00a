"""The Store contract, run on every backend (see conftest: SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from ocppnet.store import (
    ConnectorRecord,
    IdTokenRecord,
    MessageLogEntry,
    MeterSample,
    NewTransaction,
    StationEvent,
    Store,
    TransactionEnd,
)
from ocppnet.store.migrations import LATEST_VERSION
from ocppnet.store.sql_store import SqlStore

from .test_sqlite_store import T0, boot


async def test_satisfies_the_protocol_and_is_migrated(store: SqlStore) -> None:
    assert isinstance(store, Store)
    assert await store.schema_version() == LATEST_VERSION


async def test_station_boot_connect_and_touch(store: SqlStore) -> None:
    await store.record_boot(boot(path=("CS1", "node-a")))
    s = await store.get_station("CS1")
    assert s is not None
    assert (s.vendor, s.model, s.serial_number, s.firmware) == ("ACME", "Fast-1", "S1", "1.0")
    assert (s.ocpp_version, s.boot_status, s.boot_reason) == ("2.0.1", "Accepted", "PowerUp")
    assert s.connected and s.path == ("CS1", "node-a") and s.last_seen == T0
    await store.set_connected("CS1", False, T0 + timedelta(minutes=1))
    await store.touch_station("CS1", T0 + timedelta(minutes=2))
    s = await store.get_station("CS1")
    assert s is not None and not s.connected and s.last_seen == T0 + timedelta(minutes=2)
    assert s.vendor == "ACME"  # not erased by the updates
    await store.touch_station("never-booted", T0)
    assert [x.station_id for x in await store.list_stations()] == ["CS1", "never-booted"]
    assert await store.get_station("nobody") is None


async def test_note_seen_is_write_behind_and_the_last_one_wins(store: SqlStore) -> None:
    await store.record_boot(boot())
    store.note_seen("CS1", T0 + timedelta(minutes=3))
    store.note_seen("CS1", T0 + timedelta(minutes=4))
    store.note_seen("new-one", T0)
    await store.flush()
    s = await store.get_station("CS1")
    assert s is not None and s.last_seen == T0 + timedelta(minutes=4) and s.vendor == "ACME"
    assert [x.station_id for x in await store.list_stations()] == ["CS1", "new-one"]


async def test_connector_status_is_upserted(store: SqlStore) -> None:
    await store.set_connector_status(ConnectorRecord("CS1", 1, 1, "Available", T0))
    await store.set_connector_status(ConnectorRecord("CS1", 2, 1, "Available", T0))
    await store.set_connector_status(
        ConnectorRecord("CS1", 1, 1, "Faulted", T0 + timedelta(seconds=5), "GroundFailure")
    )
    rows = await store.list_connectors("CS1")
    assert [(c.evse_id, c.status, c.error_code) for c in rows] == [
        (1, "Faulted", "GroundFailure"), (2, "Available", None)]


async def test_transaction_life_cycle_with_meter_values(store: SqlStore) -> None:
    tx = await store.start_transaction(
        NewTransaction("CS1", T0, transaction_id="tx-1", evse_id=1, connector_id=1,
                       id_token="TOKEN1", remote_start_id=7)
    )
    assert tx.state == "active" and tx.meter_start is None and tx.remote_start_id == 7
    again = await store.start_transaction(NewTransaction("CS1", T0, transaction_id="tx-1"))
    assert again.key == tx.key  # a repeated Started is not a second transaction
    other = await store.start_transaction(NewTransaction("CS2", T0, transaction_id="tx-1"))
    assert other.key != tx.key  # ids are per station
    updated = await store.update_energy("CS1", "tx-1", 1000.0)
    assert updated is not None and updated.meter_start == 1000.0 and updated.energy_wh == 0.0
    updated = await store.update_energy("CS1", "tx-1", 1500.0)
    assert updated is not None and updated.energy_wh == 500.0
    samples = [
        MeterSample("CS1", T0 + timedelta(seconds=i), 1000.0 + i, unit="Wh",
                    context="Sample.Periodic", evse_id=1, transaction_key=tx.key)
        for i in range(3)
    ] + [MeterSample("CS1", T0, None, signed_data={"signedMeterData": "abc"},
                     transaction_key=tx.key)]
    await store.add_meter_samples(samples)
    assert await store.list_meter_samples(tx.key) == samples
    assert [t.transaction_id for t in await store.list_transactions(active_only=True)] == [
        "tx-1", "tx-1"]
    ended = await store.end_transaction(
        "CS1", "tx-1", TransactionEnd(T0 + timedelta(hours=1), meter_stop=3000.0,
                                      stop_reason="EVDisconnected")
    )
    assert ended is not None
    assert (ended.state, ended.meter_stop, ended.energy_wh) == ("ended", 3000.0, 2000.0)
    assert ended.stopped_at == T0 + timedelta(hours=1) and ended.stop_reason == "EVDisconnected"
    assert [t.station_id for t in await store.list_transactions(active_only=True)] == ["CS2"]
    assert await store.end_transaction("CS1", "nope", TransactionEnd(T0)) is None
    assert await store.update_energy("CS1", "nope", 1.0) is None


async def test_store_assigns_ids_when_none_given(store: SqlStore) -> None:
    a = await store.start_transaction(NewTransaction("CS1", T0, meter_start=100.0))
    b = await store.start_transaction(NewTransaction("CS2", T0, meter_start=0.0))
    assert a.transaction_id == str(a.key) and b.transaction_id == str(b.key) and a.key != b.key
    assert a.energy_wh == 0.0
    ended = await store.end_transaction("CS1", a.transaction_id, TransactionEnd(T0, 350.0))
    assert ended is not None and ended.energy_wh == 250.0


async def test_id_tokens(store: SqlStore) -> None:
    await store.put_id_token(IdTokenRecord("AA", "Accepted", "ISO14443", T0))
    await store.put_id_token(IdTokenRecord("BB", "Blocked"))
    await store.put_id_token(IdTokenRecord("AA", "Accepted", "ISO14443", None))
    assert await store.get_id_token("AA") == IdTokenRecord("AA", "Accepted", "ISO14443", None)
    assert await store.get_id_token("BB") == IdTokenRecord("BB", "Blocked")
    assert await store.get_id_token("CC") is None


async def test_message_log_is_write_behind_and_newest_first(store: SqlStore) -> None:
    entries = [
        MessageLogEntry(T0 + timedelta(seconds=i), f"CS{i % 2}", "in", 2, f"m{i}", "Heartbeat",
                        ("CS", "node-a"), "unsigned", 10 + i)
        for i in range(5)
    ]
    for e in entries:
        store.log_message(e)
    await store.flush()
    assert await store.list_messages() == entries[::-1]
    assert await store.list_messages("CS1", limit=1) == [entries[3]]


async def test_find_transactions_across_stations(store: SqlStore) -> None:
    one = await store.start_transaction(NewTransaction("CS1", T0, "T-1"))
    two = await store.start_transaction(NewTransaction("CS2", T0, "T-1"))
    await store.start_transaction(NewTransaction("CS2", T0, "T-2"))
    assert await store.find_transactions("T-1") == [one, two]
    assert await store.find_transactions("T-3") == []


async def test_message_log_filters_by_action_and_time(store: SqlStore) -> None:
    entries = [
        MessageLogEntry(T0 + timedelta(seconds=i), "CS1", "in", 2, f"m{i}",
                        "Heartbeat" if i % 2 else "StatusNotification")
        for i in range(6)
    ]
    for e in entries:
        store.log_message(e)
    await store.flush()
    assert await store.list_messages(action="Heartbeat") == [entries[5], entries[3], entries[1]]
    window = await store.list_messages("CS1", since=T0 + timedelta(seconds=2),
                                       until=T0 + timedelta(seconds=4))
    assert window == [entries[3], entries[2]]
    assert await store.list_messages("CS2", action="Heartbeat") == []


async def test_station_events(store: SqlStore) -> None:
    await store.add_station_event(StationEvent("CS1", T0, "SecurityEvent", {"type": "X"}))
    await store.add_station_event(StationEvent("CS1", T0, "NotifyEvent", {"seqNo": 0}))
    assert [e.kind for e in await store.list_station_events("CS1")] == [
        "SecurityEvent", "NotifyEvent"]
    assert await store.list_station_events("CS1", "NotifyEvent") == [
        StationEvent("CS1", T0, "NotifyEvent", {"seqNo": 0})]


async def test_failing_job_does_not_undo_its_batch_neighbours(store: SqlStore) -> None:
    async def bad() -> None:
        await store._worker.run(lambda db: db.execute("INSERT INTO nowhere VALUES (1)"))

    results = await asyncio.gather(
        store.put_id_token(IdTokenRecord("A")), bad(), store.put_id_token(IdTokenRecord("B")),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], Exception)
    assert await store.get_id_token("A") is not None
    assert await store.get_id_token("B") is not None


async def test_a_failing_job_leaves_none_of_its_own_writes(store: SqlStore) -> None:
    def half_done(db: Any) -> None:
        db.execute("INSERT INTO id_tokens (token, status) VALUES ('HALF', 'Accepted')")
        raise ValueError("second step failed")

    store.log_message(MessageLogEntry(T0, "CS1", "in", 2, "m1", "Heartbeat"))  # same batch
    results = await asyncio.gather(
        store._worker.run(half_done), store.put_id_token(IdTokenRecord("OK")),
        return_exceptions=True,
    )
    assert isinstance(results[0], ValueError) and results[1] is None
    assert await store.get_id_token("HALF") is None
    assert await store.get_id_token("OK") is not None
    assert [m.message_id for m in await store.list_messages("CS1")] == ["m1"]


async def test_many_concurrent_writers_are_batched(store: SqlStore) -> None:
    stations, per_station = 200, 5

    async def station(i: int) -> None:
        sid = f"CS{i:04d}"
        await store.record_boot(boot(sid))
        tx = await store.start_transaction(NewTransaction(sid, T0, transaction_id="t1"))
        for k in range(per_station):
            await store.add_meter_samples(
                [MeterSample(sid, T0 + timedelta(seconds=k), float(k), transaction_key=tx.key)]
            )
            store.log_message(MessageLogEntry(T0, sid, "in", 2, f"{k}", "MeterValues"))
        await store.end_transaction(sid, "t1", TransactionEnd(T0, meter_stop=float(per_station)))

    batches_before = store.batches
    await asyncio.gather(*(station(i) for i in range(stations)))
    await store.flush()
    assert len(await store.list_stations()) == stations
    ended = await store.list_transactions()
    assert len(ended) == stations and all(t.state == "ended" for t in ended)
    for t in ended[:10]:
        assert len(await store.list_meter_samples(t.key)) == per_station
    assert len(await store.list_messages(limit=10_000)) == stations * per_station
    jobs = stations * (3 + per_station)
    assert store.batches - batches_before < jobs  # group commit: fewer commits than writes


async def test_apply_once_writes_a_key_once(store: SqlStore) -> None:
    from ocppnet.store import MessageKey, MeterSample, TransactionUpdate

    key = MessageKey("CS1", "TransactionEvent", "T-1/0")
    update = TransactionUpdate(
        "CS1", new=NewTransaction("CS1", T0, "T-1", evse_id=2),
        samples=(MeterSample("CS1", T0, 1000.0, unit="Wh"),), register_wh=1000.0)
    first = await store.apply_once(key, update, T0)
    again = await store.apply_once(key, update, T0)
    assert not first.duplicate and again.duplicate
    assert first.transaction is not None and again.transaction == first.transaction
    [sample] = await store.list_meter_samples(first.transaction.key)
    assert (sample.transaction_key, sample.evse_id) == (first.transaction.key, 2)
    other = MessageKey("CS2", "TransactionEvent", "T-1/0")  # keys are per station
    assert not (await store.apply_once(other, TransactionUpdate("CS2"), T0)).duplicate
    assert (await store.apply_once(other, TransactionUpdate("CS2"), T0)) == (
        type(first)(None, True))
