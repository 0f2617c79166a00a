"""A networking node as a site's grid connection point: the DSO limit caps its load manager.

``[node.grid]`` in the node's TOML (with ``[node.load_management]`` and ``[security]``)
makes the node answer the grid operator's messages addressed to its own id: the limit in
force (or the failsafe limit) becomes :meth:`LoadManager.set_grid_limit`, which shares
``min(capacity - reserve, limit)`` among the charging EVSEs with TxDefaultProfiles. Every
``measurement_interval_s`` the node sends the grid connection point's power to the operator
as a signed GridMeasurement (SEND on OCPP 2.1 links, CALL otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocppnet.config import read_toml
from ocppnet.errors import ConfigError, OcppNetError
from ocppnet.grid.config import GridSiteSection
from ocppnet.grid.lpc import LpcStatus
from ocppnet.grid.messages import measurement_request
from ocppnet.grid.meter import GridMeter, SessionMeter
from ocppnet.grid.site import GridSite, check_signing_key
from ocppnet.node.config import NodeConfig, parse_config
from ocppnet.node.service import Node
from ocppnet.security.context import SecurityContext
from ocppnet.security.settings import load_security

__all__ = ["NodeGridSite", "load_node_file"]

log = logging.getLogger("ocppnet.grid.node")


def load_node_file(
    path: str | Path,
) -> tuple[NodeConfig, GridSiteSection | None, SecurityContext | None]:
    """The node's configuration, its ``[node.grid]`` table and its ``[security]`` context
    (errors name the file and the dotted key like every other table)."""
    source = str(path)
    document = read_toml(path)
    base = Path(path).parent
    config = parse_config(document, source, base)
    grid = config.grid
    security = load_security(path)  # the same [security] every process reads
    if grid is not None:
        if config.load_management is None:
            raise ConfigError(f"{source}: node.grid: needs [node.load_management] "
                              "(the load manager enforces the limit)")
        if security is None:
            raise ConfigError(f"{source}: node.grid: needs a [security] table "
                              "(the operator's key and role, the key that signs receipts)")
    return config, grid, security


class NodeGridSite:
    """The grid site of a started :class:`Node` (its load manager enforces)."""

    def __init__(
        self,
        node: Node,
        section: GridSiteSection,
        security: SecurityContext,
        *,
        meter: GridMeter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        manager = node.load_manager
        if manager is None:
            raise ConfigError("node.grid: needs [node.load_management] (start the node first)")
        check_signing_key(security, section.signing_key, "node.grid.signing_key")
        self.node = node
        self.manager = manager
        self.section = section
        self.security = security
        self.clock = clock
        self.meter = meter or SessionMeter(manager.tracker, section.base_load_w)
        self.site = GridSite(node.config.id, section, security, self._enforce, clock=clock)
        self.measurements_sent = 0
        self._task: asyncio.Task[None] | None = None

    def _enforce(self, status: LpcStatus) -> None:
        self.manager.set_grid_limit(status.limit_w)

    async def start(self) -> None:
        handlers = self.manager.endpoint.handlers
        for action, handler in self.site.handlers().items():
            handlers.add(action, handler)
        await self.site.start()
        if self.section.measurement_interval_s > 0:
            self._task = asyncio.create_task(self._measure(), name="grid-measure")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.site.stop()

    def _link_version(self) -> str | None:
        """The OCPP version of the overlay towards the operator (None: no upstream up)."""
        for upstream in self.node.upstreams.values():
            attached = self.node.router.links.get(upstream.link_id)
            if attached is not None:
                return attached.version
        return None

    async def measure_once(self) -> dict[str, Any] | None:
        """Read the meter and send one signed GridMeasurement to the operator (None: no
        upstream link is up, nothing sent)."""
        now = self.clock()
        version = self._link_version()
        if version is None:
            return None
        self.measurements_sent += 1
        payload = measurement_request(
            target=self.node.config.id, sequence=self.measurements_sent, now=now,
            power_w=self.meter.read_w(now), meter=self.meter.name, status=self.site.status())
        signed = self.security.sign_with([self.section.signing_key], "GridMeasurement",
                                         "request", payload, version=version,
                                         now=datetime.now(UTC))
        conn = self.manager.endpoint.connection(self.section.operator, version,
                                                (self.section.operator,))
        conn.version = version  # the overlay's version (signatures are bound to it)
        if conn.version == "2.1":
            await conn.send("GridMeasurement", signed)
        else:
            await conn.call("GridMeasurement", signed)
        return signed

    async def _measure(self) -> None:
        while True:
            await asyncio.sleep(self.section.measurement_interval_s)
            try:
                payload = await self.measure_once()
                if payload is None:
                    continue
                log.info("event=grid_measurement target=%s power_w=%.0f state=%s",
                         self.node.config.id, payload["powerW"], payload["state"])
            except OcppNetError as exc:
                log.warning("event=grid_measurement_failed target=%s error=%r",
                            self.node.config.id, exc.description or type(exc).__name__)
