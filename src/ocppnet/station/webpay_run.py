"""One simulated OCPP 2.1 station with web payments, from a TOML file, and its display.

``ocppnet webpay station --config station.toml`` runs it: the station connects to its CSMS
or node, and its *display* (a small HTTP page on ``station.http_port``) shows the QR code of
the current slot, refreshed each slot (``/qr.png``; ``/api/v1/station`` says which URL it
encodes). ``web_payments.qr_png`` also writes the PNG to a file each slot.

```toml
[station]
id = "CS-1"
url = "ws://127.0.0.1:9000/ocpp"     # the CSMS or node (the id is appended)
http_port = 8310

[web_payments]
url_template = "http://127.0.0.1:8300/pay/{chargingStationId}/{evse}/{totp}?v={version}&k={channelKeyId}"
shared_secret = "at least 16 characters, shared with the web-payment service"
identity_key = "keys/cs-1-channel.key.pem"   # ocppnet keys new --algorithm secp256r1
```
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ocppnet.config import RelPath, Section, parse_section, read_toml
from ocppnet.errors import ConfigError
from ocppnet.security.keys import KeyMaterialError, KeyPair, load_private_pem
from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.station.webpay import StationWebPayments, WebPaymentsCtrlr, attach_web_payments
from ocppnet.transport.http import serve_http
from ocppnet.webpay.totp import TotpSettingsError, remaining_s
from ocppnet.webpay.url_template import UrlTemplate, UrlTemplateError

__all__ = ["WebpayStationFile", "display_app", "load_station_file", "run_station"]

log = logging.getLogger("ocppnet.station.webpay")


class StationSection(Section):
    """``[station]``: who the station is and where it connects."""

    id: str = Field(description="the station's id")
    url: str = Field(description="ws:// or wss:// URL of the CSMS or node (id appended)")
    password: str | None = Field(None, description="Basic-auth password (profile 1)")
    http_host: str = Field("127.0.0.1", description="address of the station's display")
    http_port: int = Field(0, description="port of the station's display (0: any)")
    max_power_w: float = Field(11_000.0, description="the EVSE's maximum power, W")
    speed: float = Field(1.0, description="simulated seconds per real second")

    @field_validator("url")
    @classmethod
    def _ws(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value


class WebPaymentsSection(Section):
    """``[web_payments]``: the WebPaymentsCtrlr values and the channel identity key."""

    url_template: str = Field(description="WebPaymentsCtrlr.URLTemplate")
    shared_secret: str = Field(repr=False, description="WebPaymentsCtrlr.SharedSecret")
    validity_s: int = Field(30, description="WebPaymentsCtrlr.ValidityTime, seconds")
    length: int = Field(12, description="WebPaymentsCtrlr.Length")
    identity_key: RelPath = Field(description="ECDSA P-256 private key (PEM) of the channel")
    qr_png: RelPath | None = Field(None, description="file the QR code is written to per slot")

    def ctrlr(self) -> WebPaymentsCtrlr:
        ctrlr = WebPaymentsCtrlr(self.url_template, self.shared_secret, self.validity_s,
                                 self.length)
        ctrlr.settings()
        UrlTemplate.parse(self.url_template)
        return ctrlr


@dataclass(frozen=True, slots=True)
class WebpayStationFile:
    station: StationSection
    web_payments: WebPaymentsSection
    ctrlr: WebPaymentsCtrlr
    identity: KeyPair


def load_station_file(path: str | Path) -> WebpayStationFile:
    """Read and check the file; ConfigError names the file, the key and the problem."""
    source, document = str(path), read_toml(path)
    base = Path(path).parent
    for table in document:
        if table not in ("station", "web_payments"):
            raise ConfigError(f"{source}: {table}: unknown table (expected station, "
                              "web_payments)")
    station = parse_section(StationSection, document.get("station"), source=source,
                            where="station", base=base)
    web = parse_section(WebPaymentsSection, document.get("web_payments"), source=source,
                        where="web_payments", base=base)
    try:
        ctrlr = web.ctrlr()
    except (TotpSettingsError, UrlTemplateError) as exc:
        raise ConfigError(f"{source}: web_payments: {exc}") from None
    try:
        identity = KeyPair.of(load_private_pem(web.identity_key.read_bytes()))
    except OSError as exc:
        raise ConfigError(f"{source}: web_payments.identity_key: cannot read "
                          f"{web.identity_key}: {exc.strerror}") from None
    except KeyMaterialError as exc:
        raise ConfigError(f"{source}: web_payments.identity_key: {exc}") from None
    if identity.algorithm != "secp256r1":
        raise ConfigError(f"{source}: web_payments.identity_key: must be a secp256r1 key, "
                          f"not {identity.algorithm}")
    return WebpayStationFile(station, web, ctrlr, identity)


_DISPLAY = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{id}</title>
<style>body{{font-family:system-ui,sans-serif;text-align:center;background:#111;color:#eee}}
img{{background:white;width:min(80vw,360px);image-rendering:pixelated}}</style></head>
<body><h1>{id}</h1><p>Scan to charge and pay</p><img id="qr" src="qr.png" alt="QR code">
<p id="left"></p><script>
async function refresh() {{
  const state = await (await fetch("api/v1/station")).json();
  document.getElementById("qr").src = "qr.png?slot=" + state.slot;
  document.getElementById("left").textContent = "new code in " + Math.ceil(state.remainingS) + " s";
  setTimeout(refresh, Math.min(1000, state.remainingS * 1000 + 50));
}}
refresh();
</script></body></html>"""


def display_app(web: StationWebPayments) -> Starlette:
    """The station's display: its QR code, refreshed each slot."""

    async def page(request: Request) -> Response:
        return HTMLResponse(_DISPLAY.format(id=web.station.station_id))

    async def png(request: Request) -> Response:
        return Response(web.qr_png(), media_type="image/png",
                        headers={"cache-control": "no-store"})

    async def state(request: Request) -> Response:
        now = web.wall()
        settings = web.ctrlr.settings()
        return JSONResponse({"url": web.current_url(now), "slot": int(now // settings.validity_s),
                             "remainingS": remaining_s(settings, now),
                             "channelKeyId": web.identity.key_id})

    return Starlette(routes=[Route("/", page), Route("/qr.png", png),
                             Route("/api/v1/station", state)])


async def run_station(file: WebpayStationFile, duration: float | None = None) -> int:
    """Run the station and its display until SIGINT/SIGTERM (or ``duration`` s)."""
    cfg = file.station
    station = SimulatedStation(
        cfg.id, cfg.url, version="2.1", password=cfg.password,
        config=StationConfig(evse_max_power_w=cfg.max_power_w),
        scenario=Scenario(auto=False), clock=SimClock(speed=cfg.speed))
    web = attach_web_payments(station, file.ctrlr, file.identity)
    http = await serve_http(display_app(web), cfg.http_host, cfg.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(station.run())]
    if file.web_payments.qr_png is not None:
        tasks.append(asyncio.create_task(web.run_display(file.web_payments.qr_png)))
    print(f"ocppnet webpay station: {cfg.id} -> {cfg.url}, display {http.url}/, channel key "
          f"{file.identity.key_id}\n  Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
    finally:
        await station.close()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await http.close()
    return 0
