"""Access-point exports: what one poll of a national access point costs the CSMS.

A SQLite store holds N booted stations with one reported EVSE each; the figures are the time
of one DATEX II status publication (store reads + XML + JWS), its store reads alone (the
baseline: what the join and the mapping add on top), the DATEX II table and OCPI Locations.
``--quick``: 50 stations, a few rounds.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from benchmarks.report import Row
from ocppnet.csms.nap_source import NapSource
from ocppnet.nap.sites import Sites
from ocppnet.security.keys import generate
from ocppnet.station.fleet import station_ids
from ocppnet.store.records import ConnectorRecord, StationBoot
from ocppnet.store.sqlite import SqliteStore


def synthetic_sites(ids: list[str], per_location: int = 10,
                    updated: datetime | None = None) -> Sites:
    """Site data for ``ids`` (``CS-00001``...): one AC EVSE per station, ``per_location``
    stations per location."""
    locations: list[dict[str, Any]] = []
    for n in range(0, len(ids), per_location):
        evses = [{"uid": f"EVSE-{sid}", "evse_id": f"DE*EXC*E{sid[3:]}*1", "station": sid,
                  "connectors": [{"id": 1, "standard": "IEC_62196_T2", "format": "SOCKET",
                                  "power_type": "AC_3_PHASE", "max_power_w": 11000,
                                  "max_voltage": 400, "max_amperage": 16}]}
                 for sid in ids[n:n + per_location]]
        locations.append({
            "id": f"LOC-{n // per_location:04d}", "name": f"Site {n}", "address": "Weg 1",
            "city": "Musterstadt", "postal_code": "12345", "country": "DE",
            "latitude": 52.5 + n / 100_000, "longitude": 13.4, "time_zone": "Europe/Berlin",
            "payment_methods": ["rfid", "app"], "evses": evses})
    return Sites.model_validate({
        "operator": {"name": "Example", "country_code": "DE", "party_id": "EXC"},
        "updated": updated or datetime(2025, 3, 1, tzinfo=UTC), "k_anonymity": 5,
        "locations": locations})


async def _ms(call: Callable[[], Awaitable[Any]], rounds: int) -> float:
    await call()  # warm up
    started = time.perf_counter()
    for _ in range(rounds):
        await call()
    return (time.perf_counter() - started) / rounds * 1000.0


async def _measure(stations: int, rounds: int) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStore(os.path.join(folder, "nap.sqlite3"))
        await store.open()
        try:
            ids = station_ids("CS-{:05d}", stations)
            now = datetime.now(UTC)
            for sid in ids:
                await store.record_boot(StationBoot(sid, "2.0.1", "V", "M", "Accepted", now))
                await store.set_connector_status(ConnectorRecord(sid, 1, 1, "Available", now))
            source = NapSource(store, synthetic_sites(ids), generate("secp256r1"))
            reads = await _ms(source.status, rounds)
            status = await _ms(source.datex2_status, rounds)
            table = await _ms(source.datex2_table, rounds)
            ocpi = await _ms(source.ocpi_all, rounds)
        finally:
            await store.close()
    label = f"{stations} EVSEs"
    return [
        Row("nap", f"DATEX II status publication, {label}", "ms", status, reads,
            "store reads alone"),
        Row("nap", f"DATEX II table publication, {label}", "ms", table),
        Row("nap", f"OCPI Locations (all), {label}", "ms", ocpi, reads, "store reads alone"),
    ]


def run(quick: bool) -> list[Row]:
    return asyncio.run(_measure(50 if quick else 2000, 2 if quick else 5))
