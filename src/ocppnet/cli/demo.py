"""``ocppnet demo``: the whole idea on loopback, in one process, with the dashboard.

A CSMS, two networking nodes in a chain (stations -> NODE-B -> NODE-A -> CSMS), a grid
operator that signs a curtailment (SetChargingProfile) for one station every ~20 s, and six
simulated stations charging (three behind NODE-B, two behind NODE-A, one direct). Keys,
passwords and throw-away certificates are made at start in a temporary directory:

* NODE-B -> NODE-A: security profile 2 (TLS with the throw-away CA + Basic auth);
* NODE-A -> CSMS and the direct station: profile 1 (Basic auth); stations -> NODE-B: profile 1.

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

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.cli import ListenError, serve_csms_app, start_dashboard
from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import OcppNetError
from ocppnet.node.config import parse_config
from ocppnet.node.overlay_csms import OverlayCsmsServer
from ocppnet.node.service import Node
from ocppnet.pki.tls import ThrowawayPki
from ocppnet.security import KeyPair, sign
from ocppnet.security.keys import private_pem
from ocppnet.station.fleet import Fleet, FleetConfig
from ocppnet.station.scenario import Scenario
from ocppnet.web.api import HttpServer
from ocppnet.web.dashboard import Dashboard
from ocppnet.web.feed import MessageFeed

log = logging.getLogger("ocppnet.demo")

CSMS_ID = "CSMS"
GRID_ID = "GRID-OP"
#: (station id, where it connects, OCPP version)
STATIONS = (
    ("CS-B1", "NODE-B", "2.0.1"),
    ("CS-B2", "NODE-B", "2.0.1"),
    ("CS-B3", "NODE-B", "2.0.1"),
    ("CS-A1", "NODE-A", "2.0.1"),
    ("CS-A2", "NODE-A", "2.1"),
    ("CS-D1", CSMS_ID, "1.6"),
)
CURTAIL_LIMITS_W = (6000.0, 4200.0, 7400.0)


@dataclass(frozen=True, slots=True)
class DemoOptions:
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    speed: float = 30.0  # simulated seconds per real second: sessions and meter values move
    curtail_every: float = 20.0  # seconds between two signed curtailments
    first_curtailment: float = 3.0


def curtailment(limit_w: float) -> dict[str, Any]:
    """A 2.0.1/2.1 SetChargingProfile capping the whole station (EVSE 0) at ``limit_w``."""
    return {
        "evseId": 0,
        "chargingProfile": {
            "id": 900,
            "stackLevel": 0,
            "chargingProfilePurpose": "ChargingStationExternalConstraints",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{
                "id": 900,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_w}],
            }],
        },
    }


class Demo:
    """Start with :meth:`start` (or ``async with``); ``url`` is the dashboard's address."""

    def __init__(self, options: DemoOptions | None = None) -> None:
        self.options = options or DemoOptions()
        self._tmp = tempfile.TemporaryDirectory(prefix="ocppnet-demo-")
        self.directory = Path(self._tmp.name)
        self.passwords = {name: secrets.token_urlsafe(12)
                          for name in ("NODE-A", "NODE-B", GRID_ID, *(s[0] for s in STATIONS))}
        self.grid_key = KeyPair.generate("secp256r1")
        self.feed = MessageFeed()
        self.app: CsmsApp | None = None
        self.server: OverlayCsmsServer | None = None
        self.nodes: dict[str, Node] = {}
        self.fleets: list[Fleet] = []
        self.dashboard: Dashboard | None = None
        self.http: HttpServer | None = None
        self.curtailments = 0
        self._tasks: list[asyncio.Task[Any]] = []
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
        o = self.options
        stack = self._stack
        stack.callback(self._tmp.cleanup)
        pki = ThrowawayPki(self.directory / "pki", now=datetime.now(UTC))
        ca_file = self.directory / "pki" / "ca.pem"
        ca_file.write_bytes(pki.ca_pem)
        (self.directory / "grid-operator.key").write_bytes(private_pem(self.grid_key.private_key))

        # the dashboard first: a busy HTTP port fails before anything else starts
        self.app = app = CsmsApp(CsmsConfig(
            id=CSMS_ID, port=0, security_profile=1, store=str(self.directory / "csms.sqlite3"),
            heartbeat_interval=300,
            passwords={k: self.passwords[k] for k in ("NODE-A", GRID_ID, "CS-D1")},
        ))
        self.dashboard = Dashboard(app.store, csms_id=CSMS_ID, feed=self.feed,
                                   kinds={GRID_ID: "peer"}, title="ocppnet demo")
        self.http = await start_dashboard(self.dashboard, o.http_host, o.http_port)
        stack.push_async_callback(self.http.close)
        stack.callback(self.dashboard.close)

        await app.start()
        stack.push_async_callback(app.stop)
        self.server = await serve_csms_app(app)
        stack.push_async_callback(self.server.close)
        self.dashboard.csms_router = self.server.router
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
        node_b = await self._node({
            "id": "NODE-B", "security_profile": 1,
            "passwords": {k: self.passwords[k] for k in ("CS-B1", "CS-B2", "CS-B3")},
            "announce_interval": 10.0,
            "upstreams": [{"id": "NODE-A", "url": f"wss://127.0.0.1:{node_a.port}/ocpp",
                           "mode": "overlay", "tls_ca": str(ca_file),
                           "password": self.passwords["NODE-B"]}],
        })
        self.dashboard.nodes = {"NODE-A": node_a.snapshot, "NODE-B": node_b.snapshot}

        urls = {CSMS_ID: (csms_url, None), "NODE-B": (f"ws://127.0.0.1:{node_b.port}/ocpp", None),
                "NODE-A": (f"wss://127.0.0.1:{node_a.port}/ocpp", pki.client_context())}
        for index, (station_id, via, version) in enumerate(STATIONS):
            url, context = urls[via]
            self._fleet(index, station_id, version, url, context)
        self._tasks.append(asyncio.create_task(self._grid_operator(), name="grid-operator"))
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

    def _fleet(
        self, index: int, station_id: str, version: str, url: str, context: ssl.SSLContext | None
    ) -> None:
        scenario = Scenario(idle_s=60.0, session_s=1800.0, meter_interval_s=30.0)
        fleet = Fleet(FleetConfig(
            url=url, count=1, id_pattern=station_id, version=version,
            password=self.passwords[station_id], ssl_context=context, scenario=scenario,
            speed=self.options.speed, progress_interval_s=3600.0, seed=index + 1,
        ))
        self.fleets.append(fleet)
        self._tasks.append(asyncio.create_task(fleet.run(None), name=f"fleet:{station_id}"))

    async def _grid_operator(self) -> None:
        """Every ``curtail_every`` s: a signed curtailment for the next connected 2.x station.

        The grid operator signs; the CSMS only carries the command down the chain, and every
        hop may read it but not change it without breaking the signature."""
        assert self.app is not None
        app = self.app
        targets = itertools.cycle([s for s, _, v in STATIONS if v != "1.6"])
        limits = itertools.cycle(CURTAIL_LIMITS_W)
        await asyncio.sleep(self.options.first_curtailment)
        while True:
            station_id = next(targets)
            link = app.core.links.get(station_id)
            if link is not None and link.is_attached:
                limit = next(limits)
                signed = sign(curtailment(limit), action="SetChargingProfile", kind="request",
                              version=link.version, key=self.grid_key, now=datetime.now(UTC),
                              name=GRID_ID, description="grid curtailment")
                try:
                    answer = await app.call(station_id, "SetChargingProfile", signed)
                    status = answer.get("status")
                except OcppNetError as exc:
                    status = f"{type(exc).__name__}: {exc.description}"
                self.curtailments += 1
                log.info("event=curtailment by=%s station=%s limit_w=%.0f status=%s",
                         GRID_ID, station_id, limit, status)
            await asyncio.sleep(self.options.curtail_every)

    async def stop(self) -> None:
        for fleet in self.fleets:
            fleet.stop()
        for task in self._tasks:
            if task.get_name() == "grid-operator":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self._stack.aclose()


# --- command line -------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "demo", help="CSMS, two nodes, a grid operator and stations on loopback, with dashboard",
        description="Start a CSMS, two networking nodes in a chain, a grid-operator signer and "
                    "six simulated stations on 127.0.0.1, and serve the dashboard.")
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
            "ocppnet demo: CSMS <- NODE-A <- NODE-B, grid operator, 6 stations on 127.0.0.1\n"
            f"  dashboard: {demo.url}\n"
            f"  keys, certificates and the store: {demo.directory} (deleted at exit)\n"
            + ("  Ctrl-C to stop" if duration is None else f"  stopping after {duration:g} s"),
            file=sys.stderr, flush=True,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
        log.info("event=demo_stopping curtailments=%d", demo.curtailments)
    return 0
