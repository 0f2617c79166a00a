"""A signing overlay participant: a third party's service (e.g. ``GRID-1``, a grid operator)
that joins the overlay as a node and sends signed commands to stations end to end.

It dials one upstream (a CSMS or a networking node that accepts overlay links) with its own
node id, routes everything through it, and calls stations by id as if they were connected
directly; its signatures are what the station checks, whatever the path::

    async with SigningParticipant("GRID-1", "ws://csms:9000/ocpp", CommandSigner(key)) as grid:
        await grid.set_external_limit("CS-1", 6000)          # signed SetChargingProfile
        await grid.send("CS-1", "Reset", {"type": "Immediate"})  # signed, may be refused

This is the asyncio side of :mod:`ocppnet.security.signer` (which is pure).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from ocppnet.node.config import UpstreamConfig
from ocppnet.node.endpoint import LocalEndpoint
from ocppnet.node.router import Router
from ocppnet.node.upstream import Upstream
from ocppnet.routing import CSMS, DEFAULT_ROUTE
from ocppnet.rpc.frames import JsonObject
from ocppnet.rpc.versions import subprotocol_for_version
from ocppnet.security.context import SecurityContext
from ocppnet.security.endpoint import Clock, wall_clock
from ocppnet.security.signer import CommandSigner, external_limit_profile
from ocppnet.transport.backoff import Backoff
from ocppnet.transport.handlers import Handlers

__all__ = ["SigningParticipant"]


class SigningParticipant:
    """An overlay node without stations: its local application signs and sends commands."""

    def __init__(
        self,
        node_id: str,
        upstream_url: str,
        signer: CommandSigner,
        *,
        upstream_id: str = "UPSTREAM",
        version: str = "2.0.1",
        password: str | None = None,
        security: SecurityContext | None = None,
        clock: Clock = wall_clock,
        call_timeout: float = 30.0,
        handlers: Handlers | None = None,
    ) -> None:
        self.node_id = node_id
        self.signer = signer
        self.version = version
        self.security = security
        self.clock = clock
        self.router = Router(node_id)
        self.router.table.add_static(DEFAULT_ROUTE, upstream_id)
        self.router.table.add_static(CSMS, upstream_id)
        self.endpoint = LocalEndpoint(self.router, handlers or Handlers(),
                                      call_timeout=call_timeout)
        self.upstream = Upstream(
            self.router,
            UpstreamConfig(id=upstream_id, url=upstream_url, mode="overlay", password=password,
                           subprotocols=(subprotocol_for_version(version),)),
            backoff=Backoff(base=0.2, cap=5.0, jitter=0.2),
        )
        self._task: asyncio.Task[None] | None = None
        self.sent: list[tuple[str, str, JsonObject]] = []
        """(station id, action, signed payload) of every command sent, oldest first."""

    async def start(self, *, wait: float = 10.0) -> None:
        """Dial the upstream and wait (up to ``wait`` s) until the overlay link is up."""
        self.router.start()
        self._task = asyncio.create_task(self.upstream.run(), name=f"up:{self.node_id}")
        async with asyncio.timeout(wait):  # not wait_for: it can swallow a cancel on 3.11
            await self.upstream.link_up.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.router.stop()

    async def __aenter__(self) -> SigningParticipant:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def sign(self, action: str, payload: Mapping[str, Any]) -> JsonObject:
        """``payload`` signed by this participant's signer (now, in its OCPP version)."""
        return self.signer.sign(action, payload, version=self.version, now=self.clock())

    async def send_signed(self, station_id: str, action: str, signed: JsonObject) -> JsonObject:
        """Send an already signed payload as is (also: to replay one, in tests and demos).

        Raises CallErrorReceived (e.g. ``SecurityError`` from the station or a node),
        UnknownClient, CallTimeout, ConnectionClosed.
        """
        conn = self.endpoint.connection(station_id, self.version, (station_id,))
        self.sent.append((station_id, action, signed))
        response = await conn.call(action, signed)
        if self.security is not None:
            decision = self.security.check_incoming(
                action, "response", response, version=self.version, now=self.clock()
            )
            if not decision.accepted:
                raise decision.error()
        return response

    async def send(
        self, station_id: str, action: str, payload: Mapping[str, Any]
    ) -> JsonObject:
        """Sign ``payload`` and send it to ``station_id``; returns the response payload."""
        return await self.send_signed(station_id, action, self.sign(action, payload))

    async def set_external_limit(
        self, station_id: str, limit_w: float, **profile: Any
    ) -> JsonObject:
        """A signed ChargingStationExternalConstraints SetChargingProfile (see
        :func:`~ocppnet.security.signer.external_limit_profile` for ``profile``)."""
        payload = external_limit_profile(limit_w, **profile)
        return await self.send(station_id, "SetChargingProfile", payload)
