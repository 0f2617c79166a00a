"""Tariff columns of the dashboard's station rows, read from what the CSMS stored.

Per station: the tariff of its latest priced session (id, issuer, whether the issuer signature
verified at the CSMS) and the running cost of each active session (the station's figure, the
CSMS's recomputation, whether they match). See docs/tariffs.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocppnet.csms.tariff_check import COST_CHECK, TARIFF_IN_USE
from ocppnet.store import Store, TransactionRecord

__all__ = ["tariff_columns"]


async def tariff_columns(store: Store, station_id: str,
                         transactions: Sequence[TransactionRecord]) -> dict[str, Any]:
    """``{"tariff": {...} | None, "sessions": [...]}`` for one station row."""
    in_use = await store.list_station_events(station_id, TARIFF_IN_USE)
    tariff = None
    if in_use:
        latest = in_use[-1].data
        tariff = {"id": latest.get("tariffId"), "issuer": latest.get("issuerName")
                  or latest.get("issuer"), "verified": bool(latest.get("verified"))}
    active = {tx.transaction_id for tx in transactions if tx.state == "active"}
    last: dict[str, dict[str, Any]] = {}
    if active:
        for event in await store.list_station_events(station_id, COST_CHECK):
            if event.data.get("transactionId") in active:
                last[event.data["transactionId"]] = event.data
    sessions = [{"transactionId": tx, "cost": (c.get("station") or {}).get("inclTax"),
                 "csmsCost": (c.get("csms") or {}).get("inclTax"), "match": c.get("match")}
                for tx, c in sorted(last.items())]
    return {"tariff": tariff, "sessions": sessions}
