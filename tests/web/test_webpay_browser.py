"""Ad hoc payment by QR code in a real Chromium with a phone-sized viewport.

The station's QR PNG is decoded with ``zbarimg`` (Debian's zbar-tools), the page it names is
opened, the driver pays (simulated PSP), the page opens the encrypted channel with WebCrypto,
the session starts, live values appear and update, "Stop" ends it and the station's signed
receipt is settled. Then each refusal as the driver sees it: an expired, a wrong and a reused
link; a tampered and a replayed record and a swapped station key (a relay in the middle, here
the web-payment service's overlay caller, turned hostile). Screenshots in tests/web/artifacts.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ocppnet.security.keys import KeyPair
from ocppnet.webpay.channel import b64d, b64e, station_accept
from ocppnet.webpay.totp import totp_for_slot
from tests.webpay_service.net import Net, until, webpay_net

playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")

CHROMIUM = os.environ.get("OCPPNET_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).with_name("artifacts")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
WAIT_MS = 15_000

pytestmark = [
    pytest.mark.skipif(not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")),
                       reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
    pytest.mark.skipif(shutil.which("zbarimg") is None,
                       reason="no zbarimg (apt-get install zbar-tools)"),
]


@pytest.fixture
async def phone() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as pw:
        executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            context = await browser.new_context(**PHONE)
            yield await context.new_page()
        finally:
            await browser.close()


def scan_qr(net: Net, folder: Path) -> str:
    """What a phone's camera reads: the station's PNG, decoded by zbarimg."""
    png = folder / "station-qr.png"
    png.write_bytes(net.web.qr_png())
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True,
                             text=True, check=True, timeout=30)
    return decoded.stdout.strip()


async def energy_wh(page: Any) -> float:
    return float(await page.get_attribute("#live", "data-energy-wh") or "0")


async def test_scan_pay_charge_watch_stop_in_chromium(tmp_path: Path, phone: Any) -> None:
    async with webpay_net(tmp_path) as net:
        ARTIFACTS.mkdir(exist_ok=True)
        url = scan_qr(net, tmp_path)
        shutil.copy(tmp_path / "station-qr.png", ARTIFACTS / "webpay-station-qr.png")
        assert url.startswith(net.http + "/pay/CS-1/1/") and net.identity.key_id in url
        await phone.goto(url)
        assert "SIMULATION" in await phone.inner_text("#simulation")
        await phone.click("#pay")
        await phone.wait_for_selector("body[data-state=Charging]", timeout=WAIT_MS)
        assert await phone.is_visible("#secure")
        first = await energy_wh(phone)
        await phone.wait_for_function(
            f"() => Number(document.getElementById('live').dataset.energyWh) > {first}"
            " && Number(document.getElementById('updates').textContent) >= 3",
            timeout=WAIT_MS)
        assert float(await phone.inner_text("#power")) > 0
        assert await phone.inner_text("#currency") == "EUR"
        assert float(await phone.inner_text("#cost")) >= 0
        await phone.screenshot(path=str(ARTIFACTS / "webpay-phone-charging.png"), full_page=True)

        await phone.click("#stop")
        await phone.wait_for_selector("body[data-state=Settled]", timeout=WAIT_MS)
        receipt = await phone.inner_text("#receipt")
        [settlement] = net.service.settlements
        assert f"Paid {settlement['settlementAmount']:.2f} EUR" in receipt
        assert "simulated" in receipt
        assert settlement["pspRef"] in receipt
        assert not net.station.model.evses[1].session or net.station.model.evses[1].session.ended
        await phone.screenshot(path=str(ARTIFACTS / "webpay-phone-paid.png"), full_page=True)
        assert await phone.is_hidden("#error")

        # the nodes saw the channel's frames, and ciphertext only
        channel = net.channel_frames()
        assert len(channel) >= 8
        text = b"\n".join(raw for _, raw in channel)
        for name in (b'"powerW"', b'"energyWh"', b'"cost"', b'"receipt"'):
            assert name not in text
        allowed = {"channelId", "phase", "clientKey", "counter", "ciphertext", "status",
                   "serverKey", "stationKey", "signature", "statusInfo"}
        assert all(set(frame.payload) <= allowed for frame, _ in channel)  # type: ignore[union-attr]

        # the same link again: refused, with the reason on the page
        await phone.goto(url)
        assert "was used already" in await phone.inner_text("#error")


async def test_expired_and_wrong_links_show_why(tmp_path: Path, phone: Any) -> None:
    async with webpay_net(tmp_path) as net:
        now = net.service.clock()
        settings = net.web.ctrlr.settings()
        await phone.goto(net.web.current_url(now - 10 * settings.validity_s))
        assert "QR code has expired" in await phone.inner_text("#error")
        current = net.web.current_url(now)
        code = totp_for_slot(settings, int(now // settings.validity_s))
        await phone.goto(current.replace(code, "Z" * len(code)))
        assert "not valid for this station" in await phone.inner_text("#error")
        await phone.screenshot(path=str(ARTIFACTS / "webpay-phone-refused.png"))


class HostileRelay:
    """The overlay between the service and the station, turned hostile in one way."""

    def __init__(self, inner: Any, attack: str) -> None:
        self.inner, self.attack = inner, attack
        self.data_answers: list[dict[str, Any]] = []

    async def call(self, dest: str, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await self.inner.call(dest, action, payload)
        if action != "SecureDataTransfer":
            return answer
        if payload["phase"] == "Open" and self.attack == "impostor-key":
            forged, _ = station_accept(payload["channelId"], dest, payload["clientKey"],
                                       KeyPair.generate("secp256r1"))
            return {"status": "Accepted", **forged.to_wire()}
        if payload["phase"] == "Open" and self.attack == "swapped-channel-key":
            other, _ = station_accept(payload["channelId"], dest, payload["clientKey"],
                                      KeyPair.generate("secp256r1"))
            return {**answer, "serverKey": other.server_key}
        if payload["phase"] == "Data" and answer.get("status") == "Accepted":
            self.data_answers.append(answer)
            if len(self.data_answers) == 3 and self.attack == "tamper":
                raw = bytearray(b64d(answer["ciphertext"], "c"))
                raw[5] ^= 0x20
                return {**answer, "ciphertext": b64e(bytes(raw))}
            if len(self.data_answers) == 3 and self.attack == "replay":
                return self.data_answers[1]
        return answer


@pytest.mark.parametrize(("attack", "reason", "shown"), [
    ("tamper", "Tampered", "altered on the way"),
    ("replay", "Replayed", "replayed or came out of order"),
    ("impostor-key", "WrongStationKey", "does not match the QR code"),
    ("swapped-channel-key", "BadSignature", "not signed by the station of the QR code"),
])
async def test_the_page_refuses_what_a_relay_in_the_middle_changes(
        tmp_path: Path, phone: Any, caplog: pytest.LogCaptureFixture, attack: str, reason: str,
        shown: str) -> None:
    async with webpay_net(tmp_path) as net:
        net.service.caller = HostileRelay(net.participant, attack)
        await phone.goto(scan_qr(net, tmp_path))
        with caplog.at_level(logging.WARNING, logger="ocppnet.webpay"):
            await phone.click("#pay")
            await phone.wait_for_selector(f"#error[data-reason={reason}]", timeout=WAIT_MS)
            text = await phone.inner_text("#error")
            assert shown in text
            for _ in range(50):  # the page reports the refusal to the service's log
                if any(f"reason={reason}" in r.getMessage() for r in caplog.records):
                    break
                await phone.wait_for_timeout(100)
        assert any("step=phone" in r.getMessage() and f"reason={reason}" in r.getMessage()
                   for r in caplog.records)
        if reason in ("WrongStationKey", "BadSignature"):  # nothing started: cancelled
            assert await phone.get_attribute("body", "data-state") == "Refused"
            assert net.station.model.evses[1].session is None
            [session] = net.service.sessions.sessions.values()
            await until(lambda: session.state == "Failed" and not net.web.payments)
            assert net.service.psp.authorizations == {} and net.service.settlements == []
        else:  # the channel goes on: later records are accepted, values still update
            await phone.wait_for_function(
                "() => Number(document.getElementById('updates').textContent) >= 4",
                timeout=WAIT_MS)
        await phone.screenshot(path=str(ARTIFACTS / f"webpay-phone-{attack}.png"))
