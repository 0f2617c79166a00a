"""The dashboard's tariff columns in a real headless Chromium: a station's tariff (id, issuer,
verified) and the running cost of each session, a disagreeing CSMS figure shown beside it."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime

import pytest

from ocppnet.node.router import Router
from ocppnet.store import NewTransaction, SqliteStore, StationBoot, StationEvent
from ocppnet.web.api import serve_http
from ocppnet.web.dashboard import Dashboard
from ocppnet.web.feed import MessageFeed

playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")

CHROMIUM = os.environ.get("OCPPNET_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set OCPPNET_CHROMIUM)",
)


async def test_station_row_shows_tariff_and_session_costs() -> None:
    store = SqliteStore(":memory:")
    await store.open()
    await store.record_boot(StationBoot("CS-1", "2.1", "v", "m", "Accepted", AT))
    for tx in ("tx-1", "tx-2"):
        await store.start_transaction(NewTransaction("CS-1", AT, tx, 1, 1, "T", 0.0))
    await store.add_station_event(StationEvent("CS-1", AT, "TariffInUse", {
        "transactionId": "tx-1", "tariffId": "EMP-T1", "issuer": "kid", "issuerName": "EMP-1",
        "verified": True}))
    for tx, ours, theirs in (("tx-1", 2.5, 2.5), ("tx-2", 9.0, 3.0)):
        await store.add_station_event(StationEvent("CS-1", AT, "CostCheck", {
            "transactionId": tx, "station": {"inclTax": ours}, "csms": {"inclTax": theirs},
            "match": ours == theirs}))
    dashboard = Dashboard(store, csms_router=Router("CSMS"), state_interval=0.05,
                          feed=MessageFeed())
    http = await serve_http(dashboard.asgi())
    try:
        async with playwright_api.async_playwright() as pw:
            executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
            browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
            try:
                page = await browser.new_page()
                await page.goto(http.url + "/")
                await page.wait_for_selector('#stations tr[data-station="CS-1"]', timeout=15_000)
                cells = await page.eval_on_selector(
                    '#stations tr[data-station="CS-1"]',
                    "tr => [...tr.cells].map(c => [c.textContent, c.className])")
                assert ["EMP-T1 · EMP-1 ✓", "tariff"] in cells
                assert ["2.50, 9.00 ≠ 3.00", "num cost off"] in cells
            finally:
                await browser.close()
    finally:
        dashboard.close()
        await http.close()
        await store.close()
