"""The receipt page in a real headless Chromium (Debian's package, driven by Playwright):
what a driver sees and prints. The page is served by the operator API over real HTTP."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ocppnet.api import api_app
from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.csms.metering_api import calibration_routers
from ocppnet.csms.signed_meter import MeteringSection
from ocppnet.transport.http import serve_http

from .conftest import Clock, send
from .test_signed_meter import event, ocmf

playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")

CHROMIUM = os.environ.get("OCPPNET_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, or set OCPPNET_CHROMIUM)",
)


async def test_receipt_page_shows_the_figures_and_prints(tmp_path: Path, config: CsmsConfig,
                                                          clock: Clock) -> None:
    store = {"store": str(tmp_path / "csms.sqlite3")}
    async with CsmsApp(config.model_copy(update=store), clock=clock,
                       metering=MeteringSection()) as app:
        begin, end = ocmf(1, "B", "1000"), ocmf(2, "L", "8500.5")
        await send(app, "2.0.1", "CS-1", "TransactionEvent", event("Started", 0, 1000.0, begin))
        await send(app, "2.0.1", "CS-1", "TransactionEvent", event("Ended", 1, 8500.5, end))
        web = await serve_http(api_app("csms", calibration_routers(app)))
        try:
            async with playwright_api.async_playwright() as pw:
                executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which(
                    "chromium")
                browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
                try:
                    page = await browser.new_page(viewport={"width": 900, "height": 1000})
                    await page.goto(f"{web.url}/api/v1/transactions/T-1/receipt?format=html")
                    assert await page.title() == "Receipt T-1"
                    rows = dict(await page.eval_on_selector_all(
                        "table tr", "rs => rs.map(r => [r.cells[0].textContent, "
                                    "r.cells[1].textContent])"))
                    assert rows["Energy (signed)"] == "7.5005 kWh"
                    assert rows["Signed readings"] == "verified"
                    assert rows["Meter serial"] == "M-1"
                    records = await page.eval_on_selector_all(
                        "section pre", "ps => ps.map(p => p.textContent)")
                    assert records == [begin, end]  # copyable, exactly as signed
                    assert await page.query_selector("h2.bad") is None  # no problems shown
                    pdf = await page.pdf(format="A4")
                    assert pdf.startswith(b"%PDF")
                    (tmp_path / "receipt.pdf").write_bytes(pdf)
                finally:
                    await browser.close()
        finally:
            await web.close()
