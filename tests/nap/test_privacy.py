"""No export carries personal data: 200 simulated stations charge against a real CsmsApp with
a SQLite store, then every publication (DATEX II table and status, OCPI, statistics, and
their signatures) is searched for every id token and transaction id in the store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from benchmarks.bench_nap import synthetic_sites

from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.csms.nap_source import NapSource
from ocppnet.security.keys import generate
from ocppnet.station.fleet import Fleet, FleetConfig, station_ids
from ocppnet.station.scenario import Scenario
from tests.nap.conftest import T0
from tests.station.conftest import FAST_BACKOFF

STATIONS = 200
PER_LOCATION = 10


async def test_no_export_contains_an_id_token_or_transaction_id(tmp_path: Path) -> None:
    secrets = {"SECRET-RFID-0001": "Accepted", "SECRET-RFID-0002": "Blocked"}
    config = CsmsConfig(store=str(tmp_path / "csms.sqlite3"), port=0,
                     id_tokens=secrets, heartbeat_interval=3600)
    async with CsmsApp(config) as app:
        server = await app.serve()
        fleet = Fleet(FleetConfig(
            f"ws://127.0.0.1:{server.port}/ocpp", count=STATIONS, id_pattern="CS-{:05d}",
            version="2.0.1", rate=2000, speed=600, progress_interval_s=5, backoff=FAST_BACKOFF,
            scenario=Scenario(idle_s=30, session_s=240, unplug_after_s=5,
                              meter_interval_s=240, id_token="PRIVATE-TOKEN-42")))
        runner = asyncio.create_task(fleet.run())
        try:
            async with asyncio.timeout(60):  # guards against a hang only
                while fleet.stats.transactions_ended < STATIONS:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        finally:
            fleet.stop()
            await runner
            await server.close()
        await app.store.flush()

        transactions = await app.store.list_transactions()
        tokens = {t.id_token for t in transactions if t.id_token} | set(secrets)
        tx_ids = {t.transaction_id for t in transactions}
        assert "PRIVATE-TOKEN-42" in tokens and len(tx_ids) >= STATIONS
        assert all(len(t) >= 8 for t in tx_ids)  # 2.0.1 ids: long enough to search for

        sites = synthetic_sites(station_ids("CS-{:05d}", STATIONS), PER_LOCATION, T0)
        source = NapSource(app.store, sites, generate("secp256r1"))
        days = sorted({t.started_at.date() for t in transactions})
        exports = [await source.datex2_table(), await source.datex2_status(),
                   await source.ocpi_all(), await source.statistics(days[0], days[-1])]

    for pub in exports:
        text = pub.body.decode() + pub.signature
        for secret in tokens | tx_ids:
            assert secret not in text, f"{secret} leaked into {pub.name}"
    published = json.loads(exports[-1].body)
    counted = sum(c["sessions"] for c in published["cells"])
    assert counted >= STATIONS // 2, published  # not empty: merged cells reach k
    assert all(c["sessions"] == 0 or c["sessions"] >= 5 for c in published["cells"])
