"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright).

Starts the demo in this process (CSMS, NODE-A, NODE-B, grid operator, seven stations), opens the
page and checks what a person would look for: the chain in the topology, routes in a node's
table, live messages with their path, energy delivered. Saves a screenshot.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from ocppnet.cli.demo import CSMS_ID, GRID_ID, STATIONS, Demo, DemoOptions

playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")

CHROMIUM = os.environ.get("OCPPNET_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).with_name("artifacts")
WAIT_MS = 15_000

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set OCPPNET_CHROMIUM)",
)


async def test_dashboard_shows_the_chain_routes_messages_and_energy() -> None:
    options = DemoOptions(http_port=0, speed=60.0, curtail_every=1.0, first_curtailment=0.5)
    async with Demo(options) as demo, playwright_api.async_playwright() as pw:
        executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            await page.goto(demo.url)

            # topology: the CSMS, both nodes and every station, as drawn vertices
            for vid in (CSMS_ID, "NODE-A", "NODE-B", GRID_ID, *(s[0] for s in STATIONS)):
                await page.wait_for_selector(f'#topology g.vertex[data-id="{vid}"]',
                                             timeout=WAIT_MS)
            kinds = await page.eval_on_selector_all(
                "#topology g.vertex", "vs => vs.map(v => [v.dataset.id, v.classList[1]])")
            assert dict(kinds)["NODE-B"] == "node" and dict(kinds)["CS-B1"] == "station"
            assert dict(kinds)[CSMS_ID] == "csms" and dict(kinds)[GRID_ID] == "peer"
            # NODE-B hangs below NODE-A: an overlay edge joins them
            await page.wait_for_selector(
                '#topology line.edge.overlay[data-edge="NODE-A|NODE-B"]', timeout=WAIT_MS)
            assert "NODE-A" in await page.text_content("#topology") or ""

            # NODE-A's routing table knows the stations behind NODE-B, via NODE-B's link
            await page.wait_for_function(
                """() => [...document.querySelectorAll('[data-node="NODE-A"] tr')]
                     .some(tr => tr.cells[0]?.textContent === 'CS-B1'
                                 && tr.cells[1]?.textContent.startsWith('NODE-B'))""",
                timeout=WAIT_MS)
            routes_a = await page.inner_text('[data-node="NODE-A"]')
            assert "CS-B2" in routes_a and CSMS_ID in routes_a

            # live messages: boots and transactions with the path they took
            await page.wait_for_function(
                """() => [...document.querySelectorAll('#messages tbody tr')]
                     .some(tr => tr.dataset.action === 'TransactionEvent'
                                 && tr.cells[6].textContent.includes('NODE-B'))""",
                timeout=WAIT_MS)
            rows = await page.eval_on_selector_all(
                "#messages tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))")
            boots = [r for r in rows if r[5] == "BootNotification"]
            assert any(r[6] == "CS-B1 → NODE-B → NODE-A" for r in boots), boots[:3]
            assert all(r[7] for r in rows)  # every row has a signature verdict column

            # the grid operator's signed curtailment: NODE-A checked it (valid) and forwarded
            # it; the station's signed answer came back to GRID-OP
            await page.wait_for_function(
                """() => [...document.querySelectorAll('#messages tbody tr')]
                     .some(tr => tr.dataset.action === 'SetChargingProfile'
                                 && tr.cells[1].textContent === 'NODE-A'
                                 && tr.cells[7].textContent === 'valid')""",
                timeout=WAIT_MS)
            await page.wait_for_function(
                """() => [...document.querySelectorAll('#messages tbody tr')]
                     .some(tr => tr.dataset.action === 'SetChargingProfile'
                                 && tr.cells[1].textContent === 'GRID-OP'
                                 && tr.cells[4].textContent === 'CALLRESULT'
                                 && tr.cells[7].textContent === 'valid')""",
                timeout=WAIT_MS)

            # a station that charged shows energy > 0 kWh
            await page.wait_for_function(
                """() => [...document.querySelectorAll('#stations tbody tr')]
                     .some(tr => parseFloat(tr.dataset.energyWh) > 0)""",
                timeout=WAIT_MS)
            energies = await page.eval_on_selector_all(
                "#stations tbody tr td.energy", "cs => cs.map(c => c.textContent)")
            assert any(float(e) > 0 for e in energies)
            assert len(energies) == len(STATIONS)
            assert re.fullmatch(r"live", (await page.inner_text("#live")).strip())

            # the grid operator's panel: NODE-B's state, proven receipt, power against limit
            await page.wait_for_selector("#grid-section:not([hidden]) .grid-target",
                                         timeout=WAIT_MS)
            await page.wait_for_function(
                """() => document.querySelector('#grid .grid-target small')
                     ?.textContent.includes('receipt proven')
                   && document.querySelector('#grid polyline.grid-power')""",
                timeout=WAIT_MS)
            assert "NODE-B" in await page.inner_text("#grid")

            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "dashboard.png"
            await page.screenshot(path=str(shot), full_page=True)
            print(f"dashboard screenshot: {shot}")
            # "signed only" hides the unsigned rows: what is left are the curtailments
            await page.check("#signed-only")
            visible = await page.eval_on_selector_all(
                "#messages tbody tr",
                "rs => rs.filter(r => r.offsetParent).map(r => r.cells[5].textContent)")
            # (and the grid operator's signed heartbeats and measurements, docs/grid-operator.md)
            assert "SetChargingProfile" in visible and set(visible) <= {
                "SetChargingProfile", "ClearChargingProfile", "GridHeartbeat", "GridMeasurement"}
            signed = ARTIFACTS / "dashboard-signed.png"
            await page.screenshot(path=str(signed), full_page=True)
            print(f"dashboard screenshot (signed only): {signed}")
        finally:
            await browser.close()
