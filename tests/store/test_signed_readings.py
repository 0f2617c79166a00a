"""Signed meter readings and meter keys, on every backend (SQLite, PostgreSQL)."""

from __future__ import annotations

from ocppnet.store import NewTransaction
from ocppnet.store.signed_readings import MeterKeyRecord, SignedReadingRecord, SignedReadingStore
from ocppnet.store.sql_store import SqlStore

from .test_sqlite_store import T0

TEXT = 'OCMF|{"PG":"T1", "RD":[{"RV":1.250}]}|{"SD":"3045"}'


async def test_readings_keep_the_exact_text_and_are_stored_once(store: SqlStore) -> None:
    assert isinstance(store, SignedReadingStore)
    tx = await store.start_transaction(NewTransaction("CS1", T0, "tx-1"))
    reading = SignedReadingRecord(
        station_id="CS1", received_at=T0, signed_data=TEXT, encoding="base64", valid=False,
        reason="signature does not match the payload", transaction_key=tx.key,
        transaction_id="tx-1", evse_id=1, context="Transaction.Begin", public_key="3059AB",
        signed_wh=1250.0, unsigned_wh=1250.5, matches=True)
    assert await store.add_signed_reading(reading)
    assert not await store.add_signed_reading(reading)  # 1.6 repeats the begin reading
    assert await store.add_signed_reading(SignedReadingRecord(
        "CS1", T0, TEXT.replace("T1", "T2"), "plain", True, "ok", tx.key))
    rows = await store.list_signed_readings(tx.key)
    assert [r.signed_data for r in rows] == [TEXT, TEXT.replace("T1", "T2")]
    first = rows[0]
    assert first.id is not None
    assert first == SignedReadingRecord(**{**{f: getattr(reading, f)
                                              for f in reading.__slots__}, "id": first.id})
    assert rows[1].matches is None and rows[1].valid


async def test_the_first_key_of_a_meter_stays_pinned(store: SqlStore) -> None:
    assert await store.get_meter_key("CS1", "M-1") is None
    first = MeterKeyRecord("CS1", "M-1", "AAAA", "pinned", T0)
    assert await store.pin_meter_key(first) == first
    assert await store.pin_meter_key(MeterKeyRecord("CS1", "M-1", "BBBB", "pinned", T0)) == first
    assert await store.get_meter_key("CS1", "M-1") == first
    assert await store.get_meter_key("CS2", "M-1") is None
