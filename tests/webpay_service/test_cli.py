"""``ocppnet webpay run`` and ``ocppnet webpay station`` as real subprocesses against a
loopback CSMS: the station's display serves its QR code, the link opens the phone page once;
a bad file is one line on stderr and exit 2."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from ocppnet.api import hash_token
from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.security.keys import KeyPair, private_pem
from tests.webpay_service.net import PATH, SECRET, webpay_toml

CLI = [sys.executable, "-m", "ocppnet.cli.main"]
METRICS_TOKEN = "a-metrics-token-for-the-test"


def get(url: str, *, token: str | None = None, post: bool = False) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=b"{}" if post else None,
                                     headers={"content-type": "application/json"})
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def banner(process: asyncio.subprocess.Process, pattern: str) -> re.Match[str]:
    assert process.stderr is not None
    async with asyncio.timeout(20):
        while True:
            line = (await process.stderr.readline()).decode()
            assert line, "the process ended before its banner"
            if found := re.search(pattern, line):
                return found


async def stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.terminate()
    async with asyncio.timeout(10):
        return await process.wait()


@pytest.fixture
async def csms_port() -> AsyncIterator[int]:
    async with CsmsApp(CsmsConfig(store=":memory:", port=0)) as app:
        server = await serve_overlay_csms(app.handlers, node_id="CSMS-1",
                                          on_connect=app.on_connect,
                                          on_disconnect=app.on_disconnect)
        try:
            yield server.port
        finally:
            await server.close()


async def test_webpay_and_station_processes(tmp_path: Path, csms_port: int) -> None:
    (tmp_path / "webpay.toml").write_text(webpay_toml(csms_port) + f"""
[[api.tokens]]
name = "prometheus"
sha256 = "{hash_token(METRICS_TOKEN)}"
scopes = ["metrics"]
""")
    webpay = await asyncio.create_subprocess_exec(
        *CLI, "webpay", "run", "--config", str(tmp_path / "webpay.toml"),
        stderr=asyncio.subprocess.PIPE)
    station = None
    try:
        origin = (await banner(webpay, r"http (http://127\.0\.0\.1:\d+)")).group(1)
        (tmp_path / "channel.key.pem").write_bytes(
            private_pem(KeyPair.generate("secp256r1").private_key))
        (tmp_path / "station.toml").write_text(f"""
[station]
id = "CS-1"
url = "ws://127.0.0.1:{csms_port}/ocpp"
http_port = 0
[web_payments]
url_template = "{origin}{PATH}"
shared_secret = "{SECRET}"
identity_key = "channel.key.pem"
qr_png = "qr.png"
""")
        station = await asyncio.create_subprocess_exec(
            *CLI, "webpay", "station", "--config", str(tmp_path / "station.toml"),
            stderr=asyncio.subprocess.PIPE)
        display = (await banner(station, r"display (http://127\.0\.0\.1:\d+)/")).group(1)
        status, raw = await asyncio.to_thread(get, f"{display}/api/v1/station")
        assert status == 200
        url = orjson.loads(raw)["url"]
        assert url.startswith(f"{origin}/pay/CS-1/1/")
        status, png = await asyncio.to_thread(get, f"{display}/qr.png")
        assert status == 200 and png.startswith(b"\x89PNG")
        if shutil.which("zbarimg"):
            (tmp_path / "shown.png").write_bytes(png)
            zbar = await asyncio.create_subprocess_exec(
                "zbarimg", "--raw", "-q", str(tmp_path / "shown.png"),
                stdout=asyncio.subprocess.PIPE)
            decoded, _ = await zbar.communicate()
            assert decoded.decode().strip().startswith(f"{origin}/pay/CS-1/1/")
        status, page = await asyncio.to_thread(get, url)
        assert status == 200 and b"Charge at CS-1" in page and b"SIMULATION" in page
        status, again = await asyncio.to_thread(get, url)
        assert status == 409 and b"used already" in again

        # the shared HTTP API: OpenAPI of the steps, JSON errors, metrics behind a token
        status, spec = await asyncio.to_thread(get, f"{origin}/api/v1/openapi.json")
        assert status == 200 and b"/api/v1/webpay/sessions/{session}/pay" in spec
        assert (await asyncio.to_thread(get, f"{origin}/api/v1/docs"))[0] == 200
        status, body = await asyncio.to_thread(
            get, f"{origin}/api/v1/webpay/sessions/nope/pay", post=True)
        assert status == 404 and orjson.loads(body)["error"] == "UnknownSession"
        assert (await asyncio.to_thread(get, f"{origin}/metrics"))[0] == 401
        status, metrics = await asyncio.to_thread(get, f"{origin}/metrics",
                                                  token=METRICS_TOKEN)
        assert status == 200 and b"ocppnet_webpay_sessions_total 1.0" in metrics
        assert b'ocppnet_webpay_refusals_total{reason="Reused",step="scan"} 1.0' in metrics
    finally:
        codes = [await stop(p) for p in (station, webpay) if p is not None]
    assert codes == [0, 0]


def test_a_bad_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "webpay.toml"
    bad.write_text(webpay_toml(1).replace("price_per_kwh", "price"))
    result = subprocess.run([*CLI, "webpay", "run", "--config", str(bad)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"ocppnet webpay: {bad}: webpay.price_per_kwh: missing (and 1 more)"]
