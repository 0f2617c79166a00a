"""The ad hoc price an access point publishes comes from the tariff in force at the location
(the latest issuer-verified tariff its stations announced), else from the site data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ocppnet.csms.nap_prices import tariff_prices
from ocppnet.csms.tariff_check import TARIFF_IN_USE
from ocppnet.nap.sites import load_sites
from ocppnet.store import StationEvent, open_store

EXAMPLES = Path(__file__).parents[2] / "examples"
NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


async def test_the_verified_tariff_in_force_sets_the_price() -> None:
    sites = load_sites(EXAMPLES / "sites.toml")
    location = next(loc for loc in sites.locations
                    if any(e.station == "CS-A1" for e in loc.evses))
    tariff = json.loads((EXAMPLES / "tariff.json").read_text())
    store = open_store(":memory:")
    await store.open()
    try:
        price = tariff_prices(store)
        assert await price(location, NOON) is None  # nothing announced: the site data's
        await store.add_station_event(StationEvent("CS-A1", NOON - timedelta(hours=1),
                                                   TARIFF_IN_USE, {"verified": False,
                                                                   "tariff": tariff}))
        assert await price(location, NOON) is None  # an unverified tariff does not count
        await store.add_station_event(StationEvent("CS-A1", NOON, TARIFF_IN_USE,
                                                   {"verified": True, "tariff": tariff}))
        got = await price(location, NOON)
        assert got is not None and got.currency == "EUR"
        assert got.per_kwh == 0.46  # 0.39 + 19 % VAT: 12:00 is outside the 17:00-20:00 price
        evening = await price(location, NOON.replace(hour=18))
        assert evening is not None and evening.per_kwh == 0.58  # 0.49 + 19 % VAT
    finally:
        await store.close()


async def test_the_ocmf_receipt_names_the_tariff_that_priced_the_transaction() -> None:
    from types import SimpleNamespace

    from ocppnet.csms.tariff_check import price_lines

    tariff = json.loads((EXAMPLES / "tariff.json").read_text())
    store = open_store(":memory:")
    await store.open()
    try:
        await store.add_station_event(StationEvent("CS-A1", NOON, TARIFF_IN_USE, {
            "transactionId": "TX-1", "tariffId": tariff["tariffId"], "hash": "h",
            "verified": True, "issuer": "kid", "tariff": tariff}))
        lines = price_lines(SimpleNamespace(store=store))
        tx = SimpleNamespace(station_id="CS-A1", transaction_id="TX-1")
        got = await lines(tx)
        assert got is not None and got["tariffs"][0]["tariffId"] == "EMP-1-2026-12"
        assert await lines(SimpleNamespace(station_id="CS-A1", transaction_id="TX-2")) is None
    finally:
        await store.close()
