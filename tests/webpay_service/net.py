"""The loopback network of the web-payment tests, built from real parts:

    phone (Python or Chromium) ──HTTP──▶ WEBPAY-1 (Participant built as `webpay run` does)
                                             │ overlay 2.1
                                          CSMS-1 (CsmsApp on serve_overlay_csms)
                                             │ overlay
                                          NODE-A (its router's observers record every frame)
                                             │ standard OCPP 2.1
                                          CS-1 (SimulatedStation 2.1 with WebPaymentsCtrlr)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.node.config import parse_config
from ocppnet.node.overlay_csms import OverlayCsmsServer, serve_overlay_csms
from ocppnet.node.router import FrameEvent
from ocppnet.node.service import Node
from ocppnet.participant import Participant
from ocppnet.rpc.codec import encode
from ocppnet.rpc.frames import Call, CallResult, Frame
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair, key_id
from ocppnet.security.keystore import KeyStore
from ocppnet.security.policy import PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.station.webpay import StationWebPayments, WebPaymentsCtrlr, attach_web_payments
from ocppnet.transport import Backoff
from ocppnet.webpay_service.cli import build
from ocppnet.webpay_service.service import WebPaymentService
from tests.integration import stop_node

SECRET = "the-shared-secret-of-CS-1"
PATH = "/pay/{chargingStationId}/{evse}/{totp}?v={version}&k={channelKeyId}"
PRICE = 0.4


def webpay_toml(csms_port: int, template_origin: str = "http://127.0.0.1:1") -> str:
    return f"""
[participant]
id = "WEBPAY-1"
version = "2.1"
http_port = 0
call_timeout = 10.0
[[participant.upstreams]]
id = "CSMS-1"
url = "ws://127.0.0.1:{csms_port}/ocpp"

[webpay]
url_template = "{template_origin}{PATH}"
price_per_kwh = {PRICE}
currency = "EUR"
max_amount = 30.0
payment_timeout_s = 120

[[webpay.stations]]
id = "CS-1"
shared_secret = "{SECRET}"
validity_s = 30
length = 12
"""


@dataclass
class Net:
    app: CsmsApp
    csms: OverlayCsmsServer
    node: Node
    station: SimulatedStation
    web: StationWebPayments
    participant: Participant
    service: WebPaymentService
    identity: KeyPair
    frames: list[tuple[str, Frame, bytes]] = field(default_factory=list)
    """(link id, frame, frame as written on that link) of everything NODE-A saw."""

    @property
    def http(self) -> str:
        assert self.participant.http is not None
        return self.participant.http.url

    def watch(self, event: FrameEvent) -> None:
        self.frames.append((event.link_id, event.frame, encode(event.frame)))

    def channel_frames(self) -> list[tuple[Frame, bytes]]:
        """The SecureDataTransfer requests NODE-A saw and the answers to them."""
        ids = {f.message_id for _, f, _ in self.frames
               if isinstance(f, Call) and f.action == "SecureDataTransfer"}
        return [(f, raw) for _, f, raw in self.frames
                if isinstance(f, Call | CallResult) and f.message_id in ids]


async def until(check: Callable[[], Any]) -> Any:
    async with asyncio.timeout(15):  # guards against a hang only
        while not (result := check()):  # noqa: ASYNC110 (polls the simulator's state)
            await asyncio.sleep(0.02)
        return result


#: what the web-payment service may command at a station that checks signatures and roles
WEBPAY_ROLE: dict[str, Any] = {"name": "web-payment", "allow": [
    {"action": "NotifyWebPaymentStarted"},
    {"action": "SecureDataTransfer"},
    {"action": "RequestStartTransaction", "constraints": [
        {"field": "idToken.type", "op": "eq", "value": "DirectPayment"}]},
]}
WEBPAY_POLICY = """
[[policies]]
id = "webpay"
[[policies.rules]]
direction = "outgoing"
kind = "request"
sign_with = ["webpay"]
"""


def secure(tmp_path: Path) -> tuple[str, SecurityContext]:
    """The [security] table of the service (it signs every request with its own key) and
    the station's SecurityContext (only that key, in role web-payment, may command it)."""
    store = KeyStore(tmp_path / "keys")
    store.new("webpay", "secp256r1")
    (tmp_path / "webpay-policy.toml").write_text(WEBPAY_POLICY)
    trust = TrustStore()
    public = store.public_key("webpay")
    trust.add(public, name="webpay")
    rules = [{"direction": "incoming", "action": action, "kind": "request",
              "require": "role", "roles": ["web-payment"]}
             for action in ("NotifyWebPaymentStarted", "SecureDataTransfer",
                            "RequestStartTransaction", "Reset")]
    config: dict[str, Any] = {"policies": [{"id": "station", "rules": rules}],
                              "roles": [{**WEBPAY_ROLE, "keys": [key_id(public)]}]}
    table = ('\n[security]\nkeystore = "keys"\nsigning_keys = ["webpay"]\n'
             'policy_file = "webpay-policy.toml"\n')
    return table, SecurityContext(trust=trust, policies=PolicySet.from_config(config),
                                  roles=RoleSet.from_config(config))


@contextlib.asynccontextmanager
async def webpay_net(tmp_path: Path, *, speed: float = 30.0,
                     signed: bool = False) -> AsyncIterator[Net]:
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        csms = await serve_overlay_csms(app.handlers, node_id="CSMS-1",
                                        on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        node = Node(parse_config({"node": {"id": "NODE-A", "upstreams": [
            {"id": "CSMS-1", "url": f"ws://127.0.0.1:{csms.port}/ocpp", "mode": "overlay"}]}}))
        await node.start()
        stack.push_async_callback(stop_node, node)
        config = tmp_path / "webpay.toml"
        station_security: SecurityContext | None = None
        security_table = ""
        if signed:
            security_table, station_security = secure(tmp_path)
        config.write_text(webpay_toml(csms.port) + security_table)
        participant, service = build(str(config))
        await stack.enter_async_context(participant)
        assert participant.http is not None
        identity = KeyPair.generate("secp256r1")
        station = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{node.port}/ocpp", version="2.1",
            config=StationConfig(evse_max_power_w=11_000),
            scenario=Scenario(auto=False, meter_interval_s=3600, heartbeat_s=3600),
            clock=SimClock(speed=speed), backoff=Backoff(base=0.05, cap=0.2, jitter=0.05),
            call_timeout=5.0, security=station_security)
        web = attach_web_payments(
            station, WebPaymentsCtrlr(participant.http.url + PATH, SECRET), identity)
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        net = Net(app, csms, node, station, web, participant, service, identity)
        node.router.observers.append(net.watch)
        await until(lambda: station.accepted)
        yield net
