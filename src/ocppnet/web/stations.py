"""Per-station rows for the dashboard, read from the CSMS store.

``station_rows`` answers: is it connected, through which path, what its connectors say, and
how much energy it delivered (all transactions, the running ones included).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ocppnet.store import Store, TransactionRecord
from ocppnet.web.tariffs import tariff_columns


def energy_of(transactions: list[TransactionRecord]) -> tuple[float, float, int]:
    """(total Wh, Wh of running transactions, number running)."""
    total = active = 0.0
    running = 0
    for tx in transactions:
        wh = tx.energy_wh or 0.0
        total += wh
        if tx.state == "active":
            active += wh
            running += 1
    return total, active, running


async def station_rows(store: Store, *, exclude: Collection[str] = ()) -> list[dict[str, Any]]:
    """One JSON-ready dict per station known to the store (node ids in ``exclude`` skipped)."""
    rows: list[dict[str, Any]] = []
    for station in await store.list_stations():
        if station.station_id in exclude:
            continue
        connectors = await store.list_connectors(station.station_id)
        transactions = await store.list_transactions(station.station_id)
        total, active, running = energy_of(transactions)
        rows.append({
            "id": station.station_id,
            "connected": station.connected,
            "bootStatus": station.boot_status,
            "ocppVersion": station.ocpp_version,
            "path": list(station.path),
            "lastSeen": station.last_seen.isoformat() if station.last_seen else None,
            "connectors": [
                {"evse": c.evse_id, "connector": c.connector_id, "status": c.status}
                for c in connectors
            ],
            "transactions": len(transactions),
            "charging": running,
            "energyWh": round(total, 1),
            "sessionWh": round(active, 1),
            **await tariff_columns(store, station.station_id, transactions),
        })
    rows.sort(key=lambda r: str(r["id"]))
    return rows
