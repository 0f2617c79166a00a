"""The running networking node: downstream server, upstream links, router, queue, announcer.

``node = Node(config)``; ``await node.start()``; ``await node.stop()``. Stations (standard mode)
and child nodes (overlay mode) connect to ``node.port``; each configured upstream gets one
overlay link (or the per-station fallback towards a plain CSMS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocppnet.api import ApiSection, TokenTable, serve_api
from ocppnet.errors import ConfigError
from ocppnet.loadmgmt.config import LoadConfig
from ocppnet.loadmgmt.manager import LoadManager
from ocppnet.node.config import NodeConfig
from ocppnet.node.endpoint import LocalEndpoint
from ocppnet.node.http_api import node_http_app
from ocppnet.node.mirror import Mirror, MirrorCollector
from ocppnet.node.queue import ForwardQueue
from ocppnet.node.router import Router
from ocppnet.node.upstream import Upstream
from ocppnet.pki.tls import CertFiles, server_ssl_context
from ocppnet.plausibility.checker import PlausibilityChecker
from ocppnet.plausibility.node_guard import plausibility_guard
from ocppnet.routing import DEFAULT_ROUTE, LinkInfo, build_announcement
from ocppnet.routing.topology import ACTION as TOPOLOGY_ACTION
from ocppnet.transport.handlers import Handlers
from ocppnet.transport.http import HttpServer
from ocppnet.transport.link import Link
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.security import ServerSecurity, StaticPasswords
from ocppnet.transport.server import LinkServer, serve
from ocppnet.transport.tasks import cancel_and_wait

log = logging.getLogger("ocppnet.node")


def load_manager_for(router: Router, config: LoadConfig) -> LoadManager:
    """A load manager on ``router``, reusing its local application when it already is an
    endpoint (docs/load-management.md); the caller starts it."""
    local = router.local
    endpoint = local if isinstance(local, LocalEndpoint) else LocalEndpoint(
        router, Handlers(), call_timeout=config.call_timeout_s)
    return LoadManager(router, endpoint, config)


def node_security(config: NodeConfig) -> ServerSecurity:
    """What stations and child nodes must present to this node (ConfigError names the key)."""
    profile = config.security_profile
    passwords = StaticPasswords(config.passwords) if profile in (1, 2) else None
    context = None
    if profile >= 2:
        assert config.tls_cert is not None and config.tls_key is not None
        try:
            ca = Path(config.tls_ca).read_bytes() if profile == 3 and config.tls_ca else None
            context = server_ssl_context(
                CertFiles(Path(config.tls_cert), Path(config.tls_key)), client_ca_pem=ca
            )
        except OSError as exc:
            raise ConfigError(f"node.tls_cert/tls_key/tls_ca: cannot load: {exc}") from None
    return ServerSecurity(profile, passwords, context)


def downstream_link_info(link: Link, counter: int) -> LinkInfo:
    """A station (standard mode) or a child node (overlay mode), seen by the router."""
    info = link.info
    link_id = f"{info.station_id}#{counter}"
    if info.overlay:
        return LinkInfo(link_id, "overlay", info.station_id, "downstream")
    return LinkInfo(link_id, "standard", info.station_id, "downstream")


class Node:
    """A networking node (local controller) built from a :class:`NodeConfig`."""

    def __init__(
        self,
        config: NodeConfig,
        *,
        security: ServerSecurity | None = None,
        options: LinkOptions | None = None,
        api: TokenTable | ApiSection | None = None,
    ) -> None:
        self.config = config
        self.api = api  # [api] tokens of the HTTP server (http_port)
        self.security = security
        self.options = options or config.link_options()
        self.queue = ForwardQueue(config.queue) if config.queue else None
        self.router = Router(
            config.id,
            hop_limit=config.hop_limit,
            learned_ttl=config.learned_ttl,
            request_timeout=config.request_timeout,
            filters=config.filters,
            queue=self.queue,
        )
        self._topology_changed = asyncio.Event()
        self.upstreams: dict[str, Upstream] = {}
        for index, upstream in enumerate(config.upstreams):
            self.upstreams[upstream.id] = Upstream(
                self.router, upstream, options=self.options,
                station_passwords=self._station_password,
                on_up=self._topology_changed.set,
            )
            destinations = upstream.routes or (("CSMS", DEFAULT_ROUTE) if index == 0 else ())
            for destination in destinations:
                self.router.table.add_static(
                    destination, upstream.id, priority=upstream.priority, weight=upstream.weight
                )
        for route in config.routes:
            self.router.table.add_static(
                route.destination, route.via, priority=route.priority, weight=route.weight
            )
        self.router.on_new_versions = self.announce
        self.load_manager: LoadManager | None = None
        self.mirror = None if config.mirror is None else Mirror(self.router, config.mirror)
        if self.mirror is not None:
            self.router.observers.append(self.mirror.observe)
            self.router.filters = self.mirror.filters(self.router.filters)
        if config.plausibility is not None:
            self.router.guards.append(
                plausibility_guard(PlausibilityChecker(config.plausibility), node_id=config.id)
            )
        self.server: LinkServer | None = None
        self.http: HttpServer | None = None
        self._station_links: dict[str, Link] = {}
        self._counter = 0
        self._tasks: list[asyncio.Task[Any]] = []

    @property
    def port(self) -> int:
        assert self.server is not None, "node not started"
        return self.server.port

    def _station_password(self, station_id: str) -> str | None:
        return self.config.passwords.get(station_id)

    async def start(self) -> None:
        """Listen downstream, dial every upstream, start housekeeping.

        OSError (a port taken; its strerror names the key) or ConfigError (TLS files); what
        was started before the failure is stopped again.
        """
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        security = self.security or node_security(self.config)
        self.router.start()
        try:
            self.server = await serve(
                self._on_link,
                self.config.host,
                self.config.port,
                security=security,
                subprotocols=self.config.subprotocols,
                allow_overlay=True,
                options=self.options,
            )
        except OSError as exc:
            where = f"{self.config.host}:{self.config.port}"
            raise OSError(
                exc.errno, f"node.port: cannot listen on {where}: {exc.strerror}"
            ) from None
        for upstream in self.upstreams.values():
            self._tasks.append(asyncio.create_task(upstream.run(), name=f"up:{upstream.link_id}"))
        self._tasks.append(asyncio.create_task(self._announce_loop(), name="announce"))
        if self.mirror is not None:
            self._tasks.append(asyncio.create_task(self.mirror.run(), name="mirror"))
        if self.config.load_management is not None:
            self.load_manager = load_manager_for(self.router, self.config.load_management)
            self.load_manager.start()
        if self.config.http_port is not None:
            app = node_http_app(self.config.id, self.router, self.snapshot, auth=self.api,
                                queue=self.queue, upstreams=self.upstreams.keys,
                                collectors=[MirrorCollector(self.mirror)] if self.mirror else [])
            try:
                self.http = await serve_api(app, self.config.http_host, self.config.http_port,
                                            what="the node's HTTP API (node.http_host)")
            except OSError as exc:
                where = f"{self.config.http_host}:{self.config.http_port}"
                raise OSError(
                    exc.errno, f"node.http_port: cannot listen on {where}: {exc.strerror}"
                ) from None
        log.info(
            "event=node_started node=%s listen=%s:%d upstreams=%s",
            self.config.id, self.config.host, self.port, ",".join(self.upstreams) or "-",
        )

    async def stop(self) -> None:
        if self.load_manager is not None:
            await self.load_manager.stop()
            self.load_manager = None
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        if self.http is not None:
            await self.http.close()
            self.http = None
        if self.server is not None:
            await self.server.close()
        await self.router.stop()
        if self.queue is not None:
            self.queue.close()

    async def __aenter__(self) -> Node:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- downstream links ---------------------------------------------------------------

    async def _on_link(self, link: Link) -> None:
        station_id = link.info.station_id
        if station_id == self.config.id or station_id in self.upstreams:
            await link.close(1008, f"{station_id} is this node or one of its upstreams")
            return
        previous = self._station_links.get(station_id)
        if previous is not None:
            log.info("event=link_replaced node=%s station=%s", self.config.id, station_id)
            await previous.close(1000, "replaced by a newer connection")
        self._counter += 1
        info = downstream_link_info(link, self._counter)
        self._station_links[station_id] = link
        if not info.overlay:
            for upstream in self.upstreams.values():
                upstream.station_up(station_id, link.info.version)
        early = not info.overlay and self._needs_early_announce(link.info.version)
        self._topology_changed.set()
        try:
            await self.router.run_link(
                link, info, link.info.version, on_attached=self.announce if early else None
            )
        finally:
            if self._station_links.get(station_id) is link:
                del self._station_links[station_id]
                if not info.overlay:
                    for upstream in self.upstreams.values():
                        upstream.station_down(station_id)
            self._topology_changed.set()

    def _needs_early_announce(self, version: str) -> bool:
        """An overlay link carries one OCPP version (agreed with the upstream). A station of
        another version must be announced, with its version, before its first message, so
        the upstream validates it with the right schemas."""
        for up in self.upstreams.values():
            attached = self.router.links.get(up.link_id)
            if attached is not None and up.fallback is None and attached.version != version:
                return True
        return False

    # --- topology announcements ---------------------------------------------------------

    async def _announce_loop(self) -> None:
        """Tell every overlay upstream which ids are behind this node (full state), on change
        (debounced) and every ``announce_interval`` seconds."""
        interval = self.config.announce_interval
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that
            # arrives in the same turn as the event, and Node.stop() would hang
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._topology_changed.wait()
            await asyncio.sleep(0.2)  # coalesce a burst of connects into one announcement
            self._topology_changed.clear()
            await self.announce()

    async def announce(self) -> None:
        now = self.router.clock()
        destinations = sorted(
            {*self.router.table.downstream_destinations(now),
             *self.router.store_forward.answering_for()} - {self.config.id}
        )
        ttl = max(1, int(self.config.announce_interval * 3))
        versions = dict(self.router.peer_versions)
        for attached in self.router.links.values():
            if attached.info.mode == "standard":
                versions[attached.info.remote_id] = attached.version
        payload = build_announcement(
            self.config.id, destinations, ttl_seconds=ttl, timestamp=datetime.now(UTC),
            versions=versions,
        )
        for upstream in self.upstreams.values():
            if upstream.state != "up":
                continue
            try:
                answer = await self.router.call_neighbour(
                    upstream.link_id, TOPOLOGY_ACTION, payload, wait=10.0
                )
            except Exception as exc:
                log.warning(
                    "event=announce_failed node=%s upstream=%s reason=%r",
                    self.config.id, upstream.link_id, str(exc) or type(exc).__name__,
                )
                continue
            log.info(
                "event=announced node=%s upstream=%s destinations=%d answer=%s",
                self.config.id, upstream.link_id, len(destinations), type(answer).__name__,
            )

    # --- introspection ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        data = self.router.snapshot()
        data["upstreams"] = [u.status() for u in self.upstreams.values()]
        data["listen"] = f"{self.config.host}:{self.port}" if self.server else None
        if self.mirror is not None:
            data["mirror"] = self.mirror.status()
        return data
