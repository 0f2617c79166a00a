"""Tariff columns of the dashboard: the station's tariff and the running cost of its sessions."""

from __future__ import annotations

from datetime import UTC, datetime

from ocppnet.store import NewTransaction, SqliteStore, StationBoot, StationEvent
from ocppnet.web.stations import station_rows

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_rows_show_tariff_issuer_verdict_and_running_costs() -> None:
    store = SqliteStore(":memory:")
    await store.open()
    try:
        await store.record_boot(StationBoot("CS-1", "2.1", "v", "m", "Accepted", AT))
        await store.start_transaction(NewTransaction("CS-1", AT, "tx-1", 1, 1, "T", 0.0))
        await store.start_transaction(NewTransaction("CS-1", AT, "tx-2", 2, 1, "T", 0.0))
        await store.add_station_event(StationEvent("CS-1", AT, "TariffInUse", {
            "transactionId": "tx-1", "tariffId": "EMP-T1", "issuer": "kid",
            "issuerName": "EMP-1", "verified": True}))
        for seq, (ours, theirs) in enumerate([(1.0, 1.0), (2.5, 2.5)]):
            await store.add_station_event(StationEvent("CS-1", AT, "CostCheck", {
                "transactionId": "tx-1", "seqNo": seq, "station": {"inclTax": ours},
                "csms": {"inclTax": theirs}, "match": ours == theirs}))
        await store.add_station_event(StationEvent("CS-1", AT, "CostCheck", {
            "transactionId": "tx-2", "seqNo": 0, "station": {"inclTax": 9.0},
            "csms": {"inclTax": 3.0}, "match": False}))
        [row] = await station_rows(store)
        assert row["tariff"] == {"id": "EMP-T1", "issuer": "EMP-1", "verified": True}
        assert row["sessions"] == [
            {"transactionId": "tx-1", "cost": 2.5, "csmsCost": 2.5, "match": True},
            {"transactionId": "tx-2", "cost": 9.0, "csmsCost": 3.0, "match": False}]
    finally:
        await store.close()
