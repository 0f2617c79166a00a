"""``ocppnet demo``: the whole idea on loopback, in one process, with the dashboard.

A CSMS, two networking nodes in a chain (stations -> NODE-B -> NODE-A -> CSMS), a grid
operator (``GRID-OP``, an overlay participant of the CSMS) that signs a curtailment
(SetChargingProfile) for one station every ~20 s, and seven simulated stations charging
(four behind NODE-B, one of them OCPP 1.6; two behind NODE-A; one 1.6 station direct). The
2.x stations trust only the grid operator's key for charging limits (role
``grid-operator``: W, >= 4.2 kW) and sign their answers; NODE-A checks the same role before
forwarding, so every fourth curtailment (3 kW, out of role) is refused at NODE-A. Keys,
passwords and throw-away certificates are made at start in a temporary directory:

* NODE-B -> NODE-A: security profile 2 (TLS with the throw-away CA + Basic auth);
* NODE-A, GRID-OP and the direct station -> CSMS, stations -> NODE-B: profile 1 (Basic auth).

``Demo(DemoOptions(...))`` is the same thing for tests (``async with Demo(...) as demo``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import secrets
import signal
import ssl
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocppnet.csms.api import csms_api
from ocppnet.csms.app import CsmsApp
from ocppnet.csms.cli import ListenError, csms_router, serve_csms_app, start_dashboard
from ocppnet.csms.config import CsmsConfig
from ocppnet.csms.metrics import csms_metrics
from ocppnet.errors import OcppNetError
from ocppnet.grid.demo import add_grid_operator
from ocppnet.grid.operator import GridOperator
from ocppnet.node.config import parse_config
from ocppnet.node.overlay_csms import OverlayCsmsServer
from ocppnet.node.service import Node
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.pki.tls import ThrowawayPki
from ocppnet.rpc.frames import Call
from ocppnet.security import KeyPair, PolicySet, RoleSet, SecurityContext, TrustStore, verify
from ocppnet.security.keys import private_pem
from ocppnet.security.node_guard import signature_guard
from ocppnet.security.policy import PolicyDecision
from ocppnet.security.signer import CommandSigner, external_limit_profile
from ocppnet.security.verdicts import verdict_summary
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.station.stats import StationStats
from ocppnet.transport.csms_server import CsmsServer
from ocppnet.transport.http import HttpServer
from ocppnet.web.dashboard import Dashboard
from ocppnet.web.feed import MessageFeed, message_entry

log = logging.getLogger("ocppnet.demo")

CSMS_ID = "CSMS-1"  # "CSMS" itself is the reserved anycast id
GRID_ID = "GRID-OP"
#: (station id, where it connects, OCPP version)
STATIONS = (
    ("CS-B1", "NODE-B", "2.0.1"),
    ("CS-B2", "NODE-B", "2.0.1"),
    ("CS-B3", "NODE-B", "2.0.1"),
    ("CS-B4", "NODE-B", "1.6"),  # mixed versions share NODE-B's 2.0.1 overlay links
    ("CS-A1", "NODE-A", "2.0.1"),
    ("CS-A2", "NODE-A", "2.0.1"),
    ("CS-D1", CSMS_ID, "1.6"),
)
#: what the grid operator asks for, in turn; 3 kW is below its role's minimum: refused
CURTAIL_LIMITS_W = (6000.0, 11000.0, 7400.0, 3000.0)
GRID_ROLE = {
    "name": "grid-operator",
    "allow": [{"action": "SetChargingProfile", "constraints": [
        {"field": "chargingProfile.chargingProfilePurpose", "op": "eq",
         "value": "ChargingStationExternalConstraints"},
        {"field": "chargingProfile.chargingSchedule[*].chargingRateUnit", "op": "eq",
         "value": "W"},
        {"field": "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*].limit",
         "op": "ge", "value": 4200},
    ]}],
}


@dataclass(frozen=True, slots=True)
class DemoOptions:
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    speed: float = 30.0  # simulated seconds per real second: sessions and meter values move
    curtail_every: float = 20.0  # seconds between two signed curtailments
    first_curtailment: float = 3.0


def enforcing(grid: KeyPair, own: KeyPair | None = None,
              site: KeyPair | None = None) -> SecurityContext:
    """What a station (and NODE-A, on its behalf) enforces: charging limits only from the grid
    operator's key, within its role; with ``own``, answers are signed with it; with ``site``,
    the site's load manager (NODE-B, signing its TxDefaultProfiles) may set limits too."""
    trust = TrustStore()
    trust.add(grid.public_key, name="grid-operator")
    roles = [{**GRID_ROLE, "keys": [grid.key_id]}]
    if site is not None:
        trust.add(site.public_key, name="load-manager")
        roles.append({"name": "load-manager", "keys": [site.key_id], "allow": [
            {"action": "SetChargingProfile", "constraints": [
                {"field": "chargingProfile.chargingProfilePurpose", "op": "eq",
                 "value": "TxDefaultProfile"}]}]})
    rules: list[dict[str, Any]] = [
        {"direction": "incoming", "action": "SetChargingProfile", "kind": "request",
         "require": "role", "roles": [str(r["name"]) for r in roles]},
    ]
    if own is not None:
        rules.append({"direction": "outgoing", "action": "SetChargingProfile",
                      "kind": "response", "sign_with": ["station"]})
    config = {"policies": [{"id": "demo", "rules": rules}], "roles": roles}
    return SecurityContext(trust=trust, signing_keys={"station": own} if own else {},
                           policies=PolicySet.from_config(config),
                           roles=RoleSet.from_config(config))


class Demo:
    """Start with :meth:`start` (or ``async with``); ``url`` is the dashboard's address."""

    def __init__(self, options: DemoOptions | None = None) -> None:
        self.options = options or DemoOptions()
        self._tmp = tempfile.TemporaryDirectory(prefix="ocppnet-demo-")
        self.directory = Path(self._tmp.name)
        self.passwords = {name: secrets.token_urlsafe(12)
                          for name in ("NODE-A", "NODE-B", GRID_ID, *(s[0] for s in STATIONS))}
        self.grid_key = KeyPair.generate("secp256r1")
        self.site_key = KeyPair.generate("ed25519")  # NODE-B as a grid site and load manager
        self.station_keys = {s[0]: KeyPair.generate("ed25519") for s in STATIONS}
        self.trusted = TrustStore()  # what the dashboard checks signatures against
        for key in (self.grid_key, *self.station_keys.values()):
            self.trusted.add(key.public_key)
        self.feed = MessageFeed()
        self.app: CsmsApp | None = None
        self.server: CsmsServer | OverlayCsmsServer | None = None
        self.nodes: dict[str, Node] = {}
        self.stations: list[SimulatedStation] = []
        self.stats = StationStats()
        self.grid: Participant | None = None
        self.grid_operator: GridOperator | None = None
        self.dashboard: Dashboard | None = None
        self.http: HttpServer | None = None
        self.curtailments: list[tuple[str, float, str]] = []  # (station, limit W, outcome)
        self._grid_task: asyncio.Task[None] | None = None
        self._stack = contextlib.AsyncExitStack()

    @property
    def url(self) -> str:
        assert self.http is not None, "demo not started"
        return f"{self.http.url}/"

    async def __aenter__(self) -> Demo:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bring everything up; on failure, what was started is stopped again."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        o, stack = self.options, self._stack
        stack.callback(self._tmp.cleanup)
        pki = ThrowawayPki(self.directory / "pki", now=datetime.now(UTC))
        ca_file = self.directory / "pki" / "ca.pem"
        ca_file.write_bytes(pki.ca_pem)
        (self.directory / "grid-operator.key").write_bytes(private_pem(self.grid_key.private_key))

        self.app = app = CsmsApp(CsmsConfig(
            id=CSMS_ID, port=0, security_profile=1, store=str(self.directory / "csms.sqlite3"),
            passwords={k: self.passwords[k] for k in ("NODE-A", GRID_ID, "CS-D1")},
        ))
        # the dashboard first: a busy HTTP port fails before anything else starts
        self.dashboard = Dashboard(app.store, csms_id=CSMS_ID, feed=self.feed,
                                   kinds={GRID_ID: "peer"}, title="ocppnet demo")
        self.http = await start_dashboard(self.dashboard, o.http_host, o.http_port,
                                          api=csms_api(app, registry=csms_metrics(app)))
        stack.push_async_callback(self.http.close)
        stack.callback(self.dashboard.close)

        await app.start()
        stack.push_async_callback(app.stop)
        self.server = await serve_csms_app(app)
        stack.push_async_callback(self.server.close)
        self.dashboard.csms_router = csms_router(self.server)
        self.feed.follow(app.bus, CSMS_ID)
        stack.push_async_callback(self.feed.close)
        csms_url = f"ws://127.0.0.1:{self.server.port}/ocpp"

        node_a = await self._node({
            "id": "NODE-A", "security_profile": 2,
            "tls_cert": str(pki.server_files.cert_file), "tls_key": str(pki.server_files.key_file),
            "passwords": {k: self.passwords[k] for k in ("NODE-B", "CS-A1", "CS-A2")},
            "announce_interval": 10.0,
            "upstreams": [{"id": CSMS_ID, "url": csms_url, "mode": "overlay",
                           "password": self.passwords["NODE-A"]}],
        })
        node_a.router.guards.append(signature_guard(
            enforcing(self.grid_key), actions={"SetChargingProfile"}, node_id="NODE-A",
            on_verdict=self._node_verdict))
        node_b = await self._node({
            "id": "NODE-B", "security_profile": 1,
            "passwords": {k: self.passwords[k] for k in ("CS-B1", "CS-B2", "CS-B3", "CS-B4")},
            "announce_interval": 10.0,
            "load_management": {"capacity_w": 44000, "interval_s": 5},  # the DSO's site
            "upstreams": [{"id": "NODE-A", "url": f"wss://127.0.0.1:{node_a.port}/ocpp",
                           "mode": "overlay", "tls_ca": str(ca_file),
                           "password": self.passwords["NODE-B"]}],
        })

        self.grid = grid = Participant(
            ParticipantSection(id=GRID_ID, upstreams=(UpstreamSection(
                id=CSMS_ID, url=csms_url, password=self.passwords[GRID_ID]),)),
            signer=CommandSigner(self.grid_key, description="curtailment"))
        self.feed.tap(grid.router, verdict=self._check)
        await grid.start()
        stack.push_async_callback(grid.stop)
        self.dashboard.nodes = {"NODE-A": node_a.snapshot, "NODE-B": node_b.snapshot,
                                GRID_ID: grid.router.snapshot}
        self.grid_operator = await add_grid_operator(  # NODE-B as a §14a site (grid/demo.py)
            stack, node=node_b, participant=grid, operator_key=self.grid_key,
            site_key=self.site_key, directory=self.directory)
        self.dashboard.panels["grid"] = self.grid_operator.status

        urls = {CSMS_ID: (csms_url, None), "NODE-B": (f"ws://127.0.0.1:{node_b.port}/ocpp", None),
                "NODE-A": (f"wss://127.0.0.1:{node_a.port}/ocpp", pki.client_context())}
        clock = SimClock(o.speed)
        for index, (station_id, via, version) in enumerate(STATIONS):
            url, context = urls[via]
            self._station(index, station_id, version, url, context, clock)
        self._grid_task = asyncio.create_task(self._grid_operator(), name="grid-operator")
        log.info("event=demo_started dashboard=%s csms=%s node_a=%d node_b=%d dir=%s",
                 self.url, csms_url, node_a.port, node_b.port, self.directory)

    async def _node(self, table: dict[str, Any]) -> Node:
        node = Node(parse_config({"node": table}))
        node_id = str(table["id"])
        try:
            await node.start()
        except OSError as exc:
            raise ListenError(f"{node_id} cannot listen: {exc.strerror or exc}") from None
        self.nodes[node_id] = node
        self._stack.push_async_callback(node.stop)
        return node

    def _station(self, index: int, station_id: str, version: str, url: str,
                 context: ssl.SSLContext | None, clock: SimClock) -> None:
        station = SimulatedStation(
            station_id, url, version=version, clock=clock, password=self.passwords[station_id],
            ssl_context=context, stats=self.stats, seed=index + 1,
            scenario=Scenario(idle_s=60.0, session_s=1800.0, meter_interval_s=30.0),
            security=None if version == "1.6" else enforcing(
                self.grid_key, self.station_keys[station_id], self.site_key),
        )
        self.stations.append(station)
        task = asyncio.create_task(station.run(), name=f"station:{station_id}")

        async def stop() -> None:
            await station.close()
            with contextlib.suppress(asyncio.CancelledError, OcppNetError, OSError):
                await asyncio.wait_for(task, 5.0)

        self._stack.push_async_callback(stop)

    # --- signatures on the dashboard ----------------------------------------------------

    def _check(self, action: str, kind: str, payload: dict[str, Any]) -> str:
        """The dashboard's own look at a signed payload (it knows every public key)."""
        verdicts = verify(payload, action=action, kind=kind, version="2.0.1",
                          trusted=self.trusted, now=datetime.now(UTC))
        return ",".join(dict.fromkeys(v.status.value for v in verdicts)) or "unsigned"

    def _node_verdict(self, call: Call, decision: PolicyDecision) -> None:
        """NODE-A checked a request before forwarding it: show its verdict in the stream.

        A request for a plain station has already lost its route (the last hop strips it)."""
        self.feed.add(message_entry(
            at=datetime.now(UTC), source="NODE-A", station=call.dest or "", direction="out",
            message_type=2, message_id=call.message_id, action=call.action,
            path=call.path or ("…", "NODE-A"), signature=verdict_summary(decision)))

    # --- the grid operator --------------------------------------------------------------

    async def _grid_operator(self) -> None:
        """Every ``curtail_every`` s: a signed curtailment for the next connected 2.x station.

        The grid operator signs; the CSMS and the nodes only carry the command down the chain,
        and none of them can change it without breaking the signature."""
        assert self.app is not None and self.grid is not None
        targets = itertools.cycle([s for s, _, v in STATIONS if v != "1.6"])
        limits = itertools.cycle(CURTAIL_LIMITS_W)
        await asyncio.sleep(self.options.first_curtailment)
        while True:
            station_id = next(targets)
            if station_id in self.app.core.links:
                limit = next(limits)
                try:
                    answer = await self.grid.call(
                        station_id, "SetChargingProfile", external_limit_profile(limit))
                    outcome = str(answer.get("status"))
                except OcppNetError as exc:
                    outcome = f"{exc.code}: {exc.description}"
                self.curtailments.append((station_id, limit, outcome))
                log.info("event=curtailment by=%s station=%s limit_w=%.0f outcome=%r",
                         GRID_ID, station_id, limit, outcome)
            await asyncio.sleep(self.options.curtail_every)

    async def stop(self) -> None:
        if self._grid_task is not None:
            self._grid_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._grid_task
            self._grid_task = None
        await self._stack.aclose()


# --- command line -------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="CSMS, two nodes, a grid operator and stations on loopback, with dashboard",
        description="Start a CSMS, two networking nodes in a chain, a grid-operator signer and "
                    "seven simulated stations on 127.0.0.1, and serve the dashboard.")
    p.add_argument("--http-host", default="127.0.0.1", help="dashboard address")
    p.add_argument("--http-port", type=int, default=8080,
                   help="dashboard port (default 8080; 0 = any free port)")
    p.add_argument("--duration", type=float, default=None,
                   help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument("--speed", type=float, default=30.0,
                   help="simulated seconds per real second for the stations (default 30)")
    p.add_argument("--curtail-every", type=float, default=20.0,
                   help="seconds between signed curtailments (default 20)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    problems = [
        f"--http-port: expected 0..65535, got {args.http_port}"
        if not 0 <= args.http_port <= 65535 else "",
        "--duration must be > 0" if args.duration is not None and args.duration <= 0 else "",
        "--speed must be > 0" if args.speed <= 0 else "",
        "--curtail-every must be > 0" if args.curtail_every <= 0 else "",
    ]
    problem = next((p for p in problems if p), None)
    if problem is not None:
        print(f"ocppnet demo: {problem}", file=sys.stderr)
        return 2
    options = DemoOptions(http_host=args.http_host, http_port=args.http_port, speed=args.speed,
                          curtail_every=args.curtail_every)
    try:
        return asyncio.run(_run(options, args.duration))
    except ListenError as exc:
        print(f"ocppnet demo: {exc}", file=sys.stderr)
        return 1


async def _run(options: DemoOptions, duration: float | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with Demo(options) as demo:
        print(
            f"ocppnet demo: {len(STATIONS)} stations -> NODE-B -> NODE-A -> {CSMS_ID}, "
            f"grid operator {GRID_ID}, all on 127.0.0.1\n"
            f"  dashboard: {demo.url}\n"
            f"  keys, certificates and the store: {demo.directory} (deleted at exit)\n"
            + ("  Ctrl-C to stop" if duration is None else f"  stopping after {duration:g} s"),
            file=sys.stderr, flush=True,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
        log.info("event=demo_stopping curtailments=%d", len(demo.curtailments))
    return 0
