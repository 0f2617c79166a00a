"""The running participant: a router with no stations of its own, overlay upstreams with
fail-over, an endpoint for what it answers and calls to any destination id.

    async with Participant(section, security=ctx) as grid:
        await grid.call("CS-B1", "SetChargingProfile", payload)   # signed per policy
        await grid.send("NODE-A", "NotifyGridMeasurement", data)  # a SEND (OCPP 2.1)

Every upstream gets a static default route (and one for ``CSMS``) with its priority; the
routing table prefers routes whose link is up, so traffic moves to the next upstream while
the preferred one is down and back when it returns (docs/routing.md "Precedence").
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from ocppnet.api import TokenTable, check_bind, tokens_of
from ocppnet.errors import SecurityError
from ocppnet.node.endpoint import LocalEndpoint
from ocppnet.node.router import Router
from ocppnet.node.upstream import Upstream
from ocppnet.participant.config import ParticipantSection
from ocppnet.routing import CSMS, DEFAULT_ROUTE
from ocppnet.rpc.frames import JsonObject
from ocppnet.security.context import SecurityContext
from ocppnet.security.signer import CommandSigner
from ocppnet.security.verdicts import Clock, wall_clock
from ocppnet.transport.backoff import Backoff
from ocppnet.transport.connection import Connection
from ocppnet.transport.handlers import Handlers
from ocppnet.transport.http import HttpServer, serve_http
from ocppnet.transport.secured import secure_handlers, signed_call
from ocppnet.transport.tasks import cancel_and_wait

__all__ = ["Participant"]

log = logging.getLogger("ocppnet.participant")


class Participant:
    """One process on the overlay; see the module docstring."""

    def __init__(
        self,
        section: ParticipantSection,
        *,
        security: SecurityContext | None = None,
        signer: CommandSigner | None = None,
        handlers: Handlers | None = None,
        http_app: ASGIApp | None = None,
        clock: Clock = wall_clock,
        backoff: Backoff | None = None,
    ) -> None:
        self.section = section
        self.id = section.id
        self.version = section.version
        self.security = security
        self.signer = signer
        """Signs every request this participant sends, on top of its outgoing policy."""
        self.clock = clock
        self.handlers = handlers or Handlers()
        """What this participant answers; checked by ``security``'s incoming policy."""
        self.http_app = http_app
        self.http: HttpServer | None = None
        self.router = Router(section.id, request_timeout=section.request_timeout)
        served = self.handlers if security is None else secure_handlers(
            self.handlers, security, clock=clock)
        self.endpoint = LocalEndpoint(self.router, served, call_timeout=section.call_timeout)
        self.upstreams: dict[str, Upstream] = {}
        for upstream in section.upstreams:
            self.upstreams[upstream.id] = Upstream(
                self.router, upstream.link_config(section.version),
                backoff=backoff or Backoff(base=0.2, cap=5.0, jitter=0.2),
            )
            for destination in (DEFAULT_ROUTE, CSMS):
                self.router.table.add_static(destination, upstream.id,
                                             priority=upstream.priority)
        self.sent: deque[tuple[str, str, JsonObject]] = deque(maxlen=100)
        """(destination, action, payload as sent) of the latest requests, newest last."""
        self._tasks: list[asyncio.Task[None]] = []

    # --- life cycle ---------------------------------------------------------------------

    async def start(self, *, wait: float = 10.0) -> None:
        """Dial every upstream, serve the HTTP app, and wait (up to ``wait`` s) until one
        upstream is up; on failure what was started is stopped again."""
        try:
            self.router.start()
            for upstream in self.upstreams.values():
                self._tasks.append(asyncio.create_task(
                    upstream.run(), name=f"{self.id}:up:{upstream.link_id}"))
            if self.http_app is not None and self.section.http_port is not None:
                # never off loopback without a token (its file's [api] table)
                check_bind(self.section.http_host, tokens_of(self.http_app)
                           if isinstance(self.http_app, FastAPI) else TokenTable(),
                           what=f"{self.id}'s HTTP API (participant.http_host)")
                try:
                    self.http = await serve_http(self.http_app, self.section.http_host,
                                                 self.section.http_port)
                except OSError as exc:
                    where = f"{self.section.http_host}:{self.section.http_port}"
                    raise OSError(exc.errno, f"participant.http_port: cannot listen on "
                                             f"{where}: {exc.strerror}") from None
            async with asyncio.timeout(wait):  # not wait_for: it can swallow a cancel on 3.11
                await self.any_upstream_up()
        except BaseException:
            await self.stop()
            raise
        log.info("event=participant_started id=%s upstreams=%s http=%s", self.id,
                 ",".join(u.link_id for u in self.upstreams.values() if u.state == "up"),
                 self.http.url if self.http else "-")

    async def any_upstream_up(self) -> None:
        """Return once at least one upstream link is up."""
        waits = [asyncio.ensure_future(u.link_up.wait()) for u in self.upstreams.values()]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        if self.http is not None:
            await self.http.close()
            self.http = None
        await self.router.stop()

    async def __aenter__(self) -> Participant:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- calls --------------------------------------------------------------------------

    def connection(self, dest: str) -> Connection:
        """The logical peer ``dest`` (any id the overlay can reach)."""
        return self.endpoint.connection(dest, self.version, (dest,))

    def now(self) -> datetime:
        return self.clock()

    def sign(self, action: str, payload: Mapping[str, Any], kind: str = "request") -> JsonObject:
        """``payload`` signed as this participant signs what it sends (policy, then signer)."""
        signed = dict(payload)
        if self.security is not None:
            signed = self.security.sign_outgoing(action, kind, signed, version=self.version,
                                                 now=self.clock())
        if self.signer is not None and kind == "request":
            signed = self.signer.sign(action, signed, version=self.version, now=self.clock())
        return signed

    async def call(
        self,
        dest: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call timeout, as Connection.call
    ) -> JsonObject:
        """Sign ``payload``, send it to ``dest`` and return the checked response.

        Raises CallErrorReceived (e.g. SecurityError from the station or a node on the way),
        UnknownClient, CallTimeout, ConnectionClosed, and SecurityError when the response
        does not satisfy this participant's incoming policy. With ``[security] jws = "send"``
        on OCPP 2.1 the request goes out as ``<action>-Signed`` (security/jws.py)."""
        if self.security is not None and self.security.wants_jws(self.version):
            return await signed_call(self.connection(dest), self.security, action, payload,
                                     clock=self.clock, timeout=timeout)
        return await self.call_signed(dest, action, self.sign(action, payload), timeout=timeout)

    async def call_signed(
        self,
        dest: str,
        action: str,
        signed: JsonObject,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> JsonObject:
        """Send an already signed payload as it is (also: to replay one, in tests)."""
        self.sent.append((dest, action, signed))
        response = await self.connection(dest).call(action, signed, timeout=timeout)
        if self.security is not None:
            decision = self.security.check_incoming(action, "response", response,
                                                    version=self.version, now=self.clock())
            if not decision.accepted:
                log.warning("event=response_refused participant=%s dest=%s action=%s "
                            "reason=%r", self.id, dest, action, decision.reason)
                raise SecurityError(f"response refused: {decision.reason}")
        return response

    async def send(self, dest: str, action: str, payload: Mapping[str, Any]) -> None:
        """A SEND frame (OCPP 2.1: no response) to ``dest``, signed like a request."""
        signed = self.sign(action, payload)
        self.sent.append((dest, action, signed))
        await self.connection(dest).send(action, signed)

    def status(self) -> dict[str, Any]:
        """JSON-ready state for an application's HTTP API."""
        return {
            "id": self.id,
            "version": self.version,
            "upstreams": [u.status() for u in self.upstreams.values()],
            "http": self.http.url if self.http else None,
        }

    def upstream_ids(self) -> Sequence[str]:
        return list(self.upstreams)
