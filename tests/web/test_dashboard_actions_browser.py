"""The dashboard's action buttons in a real headless Chromium: the operator types the API
token, picks a station behind a node and clicks Remote start, Set limit, Remote stop and
Reset; each goes through the operator API, and the simulated station reacts (a transaction
starts, a limit is installed, the transaction ends, the station boots again)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocppnet.api import TokenTable, hash_token
from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.csms.api import csms_api
from ocppnet.csms.cli import csms_router, start_dashboard
from ocppnet.node.config import parse_config
from ocppnet.node.service import Node
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.web.dashboard import Dashboard
from ocppnet.web.feed import MessageFeed

playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")

CHROMIUM = os.environ.get("OCPPNET_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 15_000
TOKEN = "dashboard-operator-token"
ARTIFACTS = Path(__file__).with_name("artifacts")

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set OCPPNET_CHROMIUM)",
)


@dataclass
class Site:
    url: str
    app: CsmsApp
    station: SimulatedStation


@contextlib.asynccontextmanager
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """CSMS (dashboard + API on one port, a token required) <- NODE-A <- CS-1 (2.0.1)."""
    async with contextlib.AsyncExitStack() as stack:
        app = CsmsApp(CsmsConfig(id="CSMS-1", port=0, store=str(tmp_path / "csms.sqlite3")))
        await app.start()
        stack.push_async_callback(app.stop)
        server = await app.serve()
        stack.push_async_callback(server.close)
        feed = MessageFeed()
        feed.follow(app.bus, "CSMS-1")
        stack.push_async_callback(feed.close)
        dashboard = Dashboard(app.store, csms_id="CSMS-1", csms_router=csms_router(server),
                              feed=feed, state_interval=0.3)
        api = csms_api(app, auth=TokenTable([("ops", hash_token(TOKEN), ["operator"])]))
        http = await start_dashboard(dashboard, "127.0.0.1", 0, api=api)
        stack.push_async_callback(http.close)
        stack.callback(dashboard.close)
        node = Node(parse_config({"node": {"id": "NODE-A", "upstreams": [
            {"id": "CSMS-1", "url": f"ws://127.0.0.1:{server.port}/ocpp", "mode": "overlay"}]}}))
        await node.start()
        stack.push_async_callback(node.stop)
        await asyncio.wait_for(node.upstreams["CSMS-1"].link_up.wait(), 10)
        station = SimulatedStation("CS-1", f"ws://127.0.0.1:{node.port}/ocpp",
                                   version="2.0.1", scenario=Scenario(auto=False))
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        yield Site(f"{http.url}/", app, station)


async def until(check: object, what: str) -> None:
    for _ in range(300):
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out: {what}")


async def test_dashboard_buttons_drive_a_station_behind_a_node(tmp_path: Path) -> None:
    async with site(tmp_path) as s, playwright_api.async_playwright() as pw:
        executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await page.goto(s.url)
            await page.wait_for_selector("#actions-section:not([hidden])", timeout=WAIT_MS)
            await page.wait_for_selector('#action-station option[value="CS-1"]',
                                         state="attached", timeout=WAIT_MS)
            await page.select_option("#action-station", "CS-1")

            # without the token the API refuses, and the page says why
            await page.click("#act-reset")
            await page.wait_for_function(
                "() => document.getElementById('action-result').textContent"
                ".includes('HTTP 401: no bearer token')", timeout=WAIT_MS)
            await page.fill("#api-token", TOKEN)
            await page.dispatch_event("#api-token", "change")

            async def result(text: str) -> None:
                await page.wait_for_function(
                    "t => document.getElementById('action-result').textContent.endsWith(t)",
                    arg=text, timeout=WAIT_MS)

            await page.fill("#action-id-token", "DASH-7")
            await page.click("#act-start")
            await result("remote start CS-1: Accepted")

            async def charging() -> bool:
                return any(t.id_token == "DASH-7" and t.remote_start_id is not None
                           for t in await s.app.store.list_transactions("CS-1",
                                                                        active_only=True))
            await until(charging, "the station starts a transaction for DASH-7")
            await page.wait_for_function(
                """() => [...document.querySelectorAll('#messages tbody tr')]
                     .some(tr => tr.dataset.action === 'TransactionEvent'
                                 && tr.cells[2].textContent === 'CS-1')""", timeout=WAIT_MS)

            await page.fill("#action-limit", "3000")
            await page.click("#act-limit")
            await result("limit CS-1: Accepted")
            limits = [p.schedule.periods[0].limit for p in s.station.model.profiles.profiles()]
            assert limits == [3000.0]  # the station installed it

            await page.click("#act-stop")
            await result("remote stop CS-1: Accepted")

            async def stopped() -> bool:
                return not await s.app.store.list_transactions("CS-1", active_only=True)
            await until(stopped, "the transaction ends")

            boots = len(await s.app.store.list_messages("CS-1", action="BootNotification"))
            await page.click("#act-reset")
            await result("reset CS-1: Accepted")

            async def rebooted() -> bool:
                await s.app.store.flush()
                return len(await s.app.store.list_messages(
                    "CS-1", action="BootNotification")) > boots
            await until(rebooted, "the station boots again after the reset")
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard-actions.png"))
        finally:
            await browser.close()
