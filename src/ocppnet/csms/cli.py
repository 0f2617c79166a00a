"""``ocppnet csms``: the embedded CSMS (overlay-aware) with its dashboard over HTTP.

``ocppnet csms --config csms.toml`` (or flags only: ``--port``, ``--store``, ...). Flags
override the file (read once). ``--bus nats://HOST:PORT`` (or ``[cluster]``) makes the process
one front-end of a scale-out CSMS (docs/scale-out.md). A bad file, a store that cannot be
opened, an unreachable bus or a port in use end the command with one line on stderr and a
non-zero exit code; SIGINT/SIGTERM stop it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import FastAPI

from ocppnet.api import ApiSection, check_bind, new_registry, token_table, tokens_of
from ocppnet.cli.main import run_async
from ocppnet.cluster import BusUnavailable, ClusterSection, Frontend, cluster_router
from ocppnet.cluster.config import check_bus_url, redacted
from ocppnet.csms.api import csms_api
from ocppnet.csms.api.settings import CsmsFile, load_csms_file
from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.csms.metering_api import calibration_routers
from ocppnet.csms.metrics import csms_metrics
from ocppnet.csms.nap_api import nap_routers
from ocppnet.csms.nap_config import NapSettings, nap_from
from ocppnet.csms.signed_meter import MeteringSection
from ocppnet.csms.tariff_api import tariff_router
from ocppnet.csms.tariff_check import price_lines
from ocppnet.errors import ConfigError
from ocppnet.node.overlay_csms import OverlayCsmsServer
from ocppnet.node.router import Router
from ocppnet.security.context import SecurityContext
from ocppnet.security.settings import security_from
from ocppnet.transport.csms_server import CsmsServer
from ocppnet.transport.http import HttpServer, serve_http
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.secured import record_verdicts, secure_handlers
from ocppnet.web.dashboard import Dashboard, NodeSource
from ocppnet.web.feed import MessageFeed

log = logging.getLogger("ocppnet.csms.cli")

DEFAULT_HTTP_PORT = 8080
T = TypeVar("T")


class ListenError(Exception):
    """A port could not be bound; the message names the address and what it was for."""


def register(subparsers: Any) -> None:
    """Add the ``csms`` subcommand to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "csms", help="run the embedded CSMS with its dashboard",
        description="Run the embedded CSMS (stations connect directly or through networking "
                    "nodes) and serve the dashboard over HTTP.")
    p.add_argument("--config", help="TOML file with a [csms] table (see examples/csms.toml)")
    p.add_argument("--id", help="node id of the CSMS in the overlay (default CSMS)")
    p.add_argument("--host", help="address stations and nodes connect to (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="WebSocket port (default 9000; 0 = any free port)")
    p.add_argument("--store", help="SQLite file, ':memory:' or postgresql:// URL")
    p.add_argument("--http-host", default="127.0.0.1", help="dashboard address")
    p.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT,
                   help=f"dashboard port (default {DEFAULT_HTTP_PORT}; 0 = any free port)")
    p.add_argument("--no-dashboard", action="store_true", help="serve no HTTP at all")
    p.add_argument("--node-url", action="append", default=[], metavar="NAME=URL",
                   help="a node's HTTP address to show its routing table, e.g. "
                        "NODE-A=http://127.0.0.1:8081 (repeatable)")
    scale = p.add_argument_group("scale-out (docs/scale-out.md)")
    scale.add_argument("--bus", metavar="nats://HOST:PORT",
                       help="join the NATS JetStream bus as one front-end of a scale-out CSMS "
                            "(share one postgresql:// --store); without it: single process")
    scale.add_argument("--frontend-id", metavar="ID",
                       help="this front-end's id (default <hostname>-<pid>)")
    scale.add_argument("--reuse-port", action="store_true", default=None,
                       help="SO_REUSEPORT on the station port: several front-ends, one port")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace, file: CsmsFile | None = None) -> CsmsConfig:
    """The file's configuration (or the defaults) with the flags applied; ConfigError if bad.
    ``file``: the already read ``--config`` (read here when not given)."""
    if file is None and args.config:
        file = load_csms_file(args.config)
    config = file.csms if file is not None else CsmsConfig()
    overrides = {k: getattr(args, k) for k in ("id", "host", "port", "store")
                 if getattr(args, k) is not None}
    if "port" in overrides and not 0 <= overrides["port"] <= 65535:
        raise ConfigError(f"--port: expected 0..65535, got {overrides['port']}")
    if not 0 <= args.http_port <= 65535:
        raise ConfigError(f"--http-port: expected 0..65535, got {args.http_port}")
    return config.model_copy(update=overrides)


def cluster_from_args(args: argparse.Namespace, file: CsmsFile | None) -> ClusterSection | None:
    """``[cluster]`` with ``--bus``/``--frontend-id``/``--reuse-port`` applied; None when
    there is no bus (a single process, as without scale-out). ConfigError names the flag."""
    section = file.cluster if file is not None and file.cluster is not None \
        else ClusterSection()
    overrides: dict[str, Any] = {}
    bus = getattr(args, "bus", None)
    if bus is not None:
        try:
            overrides["bus"] = check_bus_url(bus)
        except ValueError as exc:
            raise ConfigError(f"--bus: {exc}") from None
    frontend_id = getattr(args, "frontend_id", None)
    if frontend_id is not None:
        if not frontend_id.strip():
            raise ConfigError("--frontend-id: expected a non-empty id")
        overrides["frontend_id"] = frontend_id
    if getattr(args, "reuse_port", None):
        overrides["reuse_port"] = True
    section = section.model_copy(update=overrides)
    if section.bus is None:
        for key, flag in (("frontend_id", "--frontend-id"), ("reuse_port", "--reuse-port")):
            if key in overrides:
                raise ConfigError(f"{flag}: needs --bus (or [cluster].bus)")
        return None
    return section


def node_sources(specs: list[str]) -> dict[str, NodeSource]:
    """``["NODE-A=http://..."]`` -> ``{"NODE-A": "http://..."}``; ConfigError names a bad one."""
    sources: dict[str, NodeSource] = {}
    for spec in specs:
        name, sep, url = spec.partition("=")
        if not sep or not name or not url.startswith(("http://", "https://")):
            raise ConfigError(f"--node-url: expected NAME=http://host:port, got {spec!r}")
        sources[name] = url
    return sources


def run(args: argparse.Namespace) -> int:
    file_path: str = args.config or ""
    file = load_csms_file(file_path) if file_path else None
    config = config_from_args(args, file)
    api = file.api if file is not None else ApiSection()
    metering = file.metering if file is not None else None
    cluster = cluster_from_args(args, file)
    if cluster is not None and not config.store.startswith(("postgresql://", "postgres://")):
        log.warning("event=cluster_store_not_shared store=%s note=front-ends_need_one_"
                    "postgresql_store_for_exactly_once", config.store)
    # [security] and [nap] from the same reading of the file
    security = security_from(file.document, file_path) if file is not None else None
    nodes = node_sources(args.node_url)
    http = None if args.no_dashboard else (args.http_host, args.http_port)
    if http is not None:
        check_bind(args.http_host, token_table(api, source=args.config),
                   what="the dashboard and operator API")
    nap = nap_from(file.document, file_path) if file is not None else None  # [nap] exports
    try:
        return run_async(_serve(config, http, nodes, api, metering, security, nap, cluster))
    except ListenError as exc:
        print(f"ocppnet csms: {exc}", file=sys.stderr)
        return 1
    except BusUnavailable as exc:
        print(f"ocppnet csms: --bus: {exc}", file=sys.stderr)
        return 1


async def listen(what: str, host: str, port: int, start: Callable[[], Awaitable[T]]) -> T:
    """Await ``start()``; an OSError (port in use, bad address) becomes a ListenError naming
    ``what`` and the address."""
    try:
        return await start()
    except OSError as exc:
        raise ListenError(
            f"cannot listen on {host}:{port} for {what}: {exc.strerror or exc}"
        ) from None


async def serve_csms_app(app: CsmsApp, *, reuse_port: bool = False
                         ) -> CsmsServer | OverlayCsmsServer:
    """The app's WebSocket server (plain stations, and networking nodes when
    ``overlay_allowed``; ``reuse_port``: SO_REUSEPORT, so front-ends share the port);
    ListenError names the address when it cannot listen."""
    if not reuse_port:
        return await listen("stations and nodes", app.config.host, app.config.port, app.serve)
    return await listen("stations and nodes", app.config.host, app.config.port,
                        lambda: app.serve(options=LinkOptions(reuse_port=True)))


def csms_router(server: CsmsServer | OverlayCsmsServer) -> Router | None:
    """The overlay-aware server's router (its routing table is on the dashboard)."""
    return server.router if isinstance(server, OverlayCsmsServer) else None


async def start_dashboard(dashboard: Dashboard, host: str, port: int,
                          api: FastAPI | None = None) -> HttpServer:
    """The dashboard, mounted under the operator API ``api`` when given (one port)."""
    app: Any = dashboard.asgi()
    if api is not None:
        check_bind(host, tokens_of(api), what="the dashboard and operator API")
        api.mount("/", app)
        app = api
    return await listen("the dashboard", host, port, lambda: serve_http(app, host, port))


def ws_url(config: CsmsConfig, port: int) -> str:
    scheme = "wss" if config.security_profile >= 2 else "ws"
    return f"{scheme}://{config.host}:{port}/ocpp"


async def _serve(
    config: CsmsConfig, http: tuple[str, int] | None, nodes: dict[str, NodeSource],
    api: ApiSection | None = None, metering: MeteringSection | None = None,
    security: SecurityContext | None = None,
    nap: NapSettings | None = None,
    cluster: ClusterSection | None = None,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    app = CsmsApp(config, metering=metering)
    if security is not None:  # verify what stations send; verdicts go to the message log
        app.handlers = secure_handlers(app.handlers, security,
                                       on_verdict=record_verdicts(app, refused_only=True))
        app.core.tariff_trust = security  # the issuers it trusts for tariffs (docs/tariffs.md)
    async with contextlib.AsyncExitStack() as stack:
        await app.start()
        stack.push_async_callback(app.stop)
        registry = new_registry()
        frontend: Frontend | None = None
        if cluster is not None:  # before the stations come: it follows their presence
            frontend = Frontend(app, cluster, registry=registry)
            await frontend.start()
            stack.push_async_callback(frontend.stop)
        server = await serve_csms_app(app, reuse_port=cluster is not None and cluster.reuse_port)
        stack.push_async_callback(server.close)
        router = csms_router(server)
        csms_id = router.node_id if router is not None else config.id
        feed = MessageFeed()
        feed.follow(app.bus, csms_id)
        stack.push_async_callback(feed.close)
        dashboard_url = api_url = "off"
        if http is not None:
            dashboard = Dashboard(app.store, csms_id=csms_id, csms_router=router,
                                  nodes=nodes, feed=feed, title=f"ocppnet CSMS {csms_id}")
            operator_api = csms_api(app, auth=api,
                                    registry=csms_metrics(app, router, registry=registry),
                                    extra_routers=[*calibration_routers(app, [price_lines(app)]),
                                                   tariff_router(app),
                                                   *nap_routers(app.store, nap),
                                                   *([cluster_router(frontend)]
                                                     if frontend is not None else [])])
            web = await start_dashboard(dashboard, *http, api=operator_api)
            stack.push_async_callback(web.close)
            stack.callback(dashboard.close)
            dashboard_url = f"{web.url}/"
            api_url = f"{web.url}/api/v1/docs"
        accepts = "stations and nodes" if router is not None else "stations"
        print(
            f"ocppnet csms {csms_id}\n"
            f"  {accepts + ':':<20}{ws_url(config, server.port)}/<id>"
            f"  (security profile {config.security_profile})\n"
            f"  {'dashboard:':<20}{dashboard_url}\n"
            f"  {'operator API:':<20}{api_url}\n"
            f"  {'store:':<20}{config.store}\n"
            + (f"  {'bus:':<20}{redacted(cluster.bus or '')}  (front-end "
               f"{frontend.frontend_id})\n"
               if cluster is not None and frontend is not None else "") +
            "  Ctrl-C to stop",
            file=sys.stderr, flush=True,
        )
        log.info("event=csms_started id=%s port=%d dashboard=%s store=%s frontend=%s",
                 csms_id, server.port, dashboard_url, config.store,
                 frontend.frontend_id if frontend is not None else "-")
        await stop.wait()
        log.info("event=csms_stopping id=%s", csms_id)
    return 0
