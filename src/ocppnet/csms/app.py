"""The embedded CSMS: a store, an event bus and a :class:`Handlers` registry for the
transport, plus the requests a CSMS sends to stations (remote start/stop, profiles, ...).

One registry serves all versions: each action's entry picks the 1.6 or the 2.x handler by
``ctx.version``, and records the request and its answer in the message log and on the bus.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

import orjson

from ocppnet.csms import handlers_v2, handlers_v16
from ocppnet.csms.config import CsmsConfig
from ocppnet.csms.core import CsmsCore, CsmsHandler, Payload, StationLink, utc_now
from ocppnet.csms.events import EventBus, MessageSeen
from ocppnet.csms.server_security import server_security
from ocppnet.csms.signed_meter import MeteringSection, SignedMeterService
from ocppnet.errors import NotImplementedAction, OcppNetError, UnknownClient
from ocppnet.node.overlay_csms import OverlayCsmsServer, serve_overlay_csms
from ocppnet.routing import is_node_id
from ocppnet.security.verdicts import verdict_summary
from ocppnet.store import Direction, IdTokenRecord, MessageLogEntry, Store, open_store
from ocppnet.transport.connection import Connection
from ocppnet.transport.csms_server import CsmsServer, serve_csms
from ocppnet.transport.handlers import CallContext, Handlers
from ocppnet.transport.secured import security_decision
from ocppnet.transport.security import ServerSecurity

log = logging.getLogger("ocppnet.csms")

CALL, CALLRESULT, CALLERROR = 2, 3, 4


class RemoteStations(Protocol):
    """Stations held by other front-ends of a scale-out CSMS (:mod:`ocppnet.cluster`)."""

    async def version(self, station_id: str) -> str: ...

    async def call(self, station_id: str, action: str, payload: Payload, *,
                   timeout: float | None = None) -> Payload: ...  # noqa: ASYNC109


class CsmsApp:
    """``app = CsmsApp(config)``; ``await app.start()``; serve ``app.handlers`` (or call
    :meth:`serve`); ``await app.stop()``. ``store`` overrides ``config.store``; ``clock``
    is injected so tests control every timestamp."""

    def __init__(
        self,
        config: CsmsConfig | None = None,
        *,
        store: Store | None = None,
        bus: EventBus | None = None,
        clock: Callable[[], datetime] = utc_now,
        metering: MeteringSection | None = None,
    ) -> None:
        self.config = config or CsmsConfig()
        self.store: Store = store if store is not None else open_store(self.config.store)
        self.bus = bus or EventBus()
        self.core = CsmsCore(self.config, self.store, self.bus, clock)
        # calibration law: signed meter readings verified and kept ([metering]; None: off)
        self.signed_meter = None if metering is None else \
            SignedMeterService(self.store, metering, clock=clock)
        self.handlers = Handlers()
        for action in sorted(set(handlers_v2.HANDLERS) | set(handlers_v16.HANDLERS)):
            self.handlers.add(action, self._dispatcher(action))
        self._remote_start_ids = itertools.count(1)
        self.remote: RemoteStations | None = None  # scale-out: set by ocppnet.cluster

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (migrating it) and seed the id tokens listed in the config."""
        await self.store.open()
        for token, status in self.config.id_tokens.items():
            await self.store.put_id_token(IdTokenRecord(token, status))

    async def stop(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> CsmsApp:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def serve(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        security: ServerSecurity | None = None,
        **kwargs: Any,
    ) -> CsmsServer | OverlayCsmsServer:
        """Listen for stations (host/port/security from the config unless given); the app
        must be started. With ``overlay_allowed`` (the default) networking nodes may connect
        too, and every station behind them is a station of this CSMS, stored with its path
        (:func:`serve_overlay_csms`, node id ``config.id`` unless that is a reserved id such
        as ``CSMS``); otherwise only plain stations (:func:`serve_csms`). Extra keyword
        arguments go to the chosen function."""
        listen_host = self.config.host if host is None else host
        listen_port = self.config.port if port is None else port
        if security is None:
            security = server_security(self.config)
        if self.config.overlay_allowed:
            node_id = self.config.id if is_node_id(self.config.id) else "CSMS-1"
            return await serve_overlay_csms(
                self.handlers, listen_host, listen_port, node_id=node_id, security=security,
                on_connect=self.on_connect, on_disconnect=self.on_disconnect, **kwargs,
            )
        return await serve_csms(
            self.handlers, listen_host, listen_port, security=security,
            on_connect=self.on_connect, on_disconnect=self.on_disconnect, **kwargs,
        )

    async def on_connect(self, connection: Connection, path: Sequence[str] = ()) -> None:
        """Transport callback: a station's link is up."""
        await self.core.station_connected(connection.remote_id, connection, path)

    async def on_disconnect(self, connection: Connection) -> None:
        """Transport callback: a station's link is gone (ignored if a newer link replaced it)."""
        current = self.core.links.get(connection.remote_id)
        if current is None or current is connection:
            await self.core.station_disconnected(connection.remote_id)

    # --- incoming requests --------------------------------------------------------------

    def _dispatcher(self, action: str) -> Callable[[CallContext, Payload], Any]:
        async def dispatch(ctx: CallContext, payload: Payload) -> Payload:
            table = handlers_v16.HANDLERS if ctx.version == "1.6" else handlers_v2.HANDLERS
            handler: CsmsHandler | None = table.get(action)
            station = ctx.remote_id
            decision = security_decision()  # set when the handlers run under secure_handlers
            self.record_message(
                station, "in", CALL, ctx.message_id, action, payload, ctx.path,
                signature=verdict_summary(decision) if decision is not None else None,
            )
            if handler is None:
                self.record_message(station, "out", CALLERROR, ctx.message_id, action, None,
                                    ctx.path)
                raise NotImplementedAction(f"{action} is not an OCPP {ctx.version} message")
            try:
                response = await handler(self.core, ctx, payload)
            except Exception:
                self.record_message(station, "out", CALLERROR, ctx.message_id, action, None,
                                    ctx.path)
                raise
            if self.signed_meter is not None:
                await self.signed_meter.observe_safely(station, ctx.version, action, payload)
            self.record_message(station, "out", CALLRESULT, ctx.message_id, action, response,
                                ctx.path)
            return response

        dispatch.__name__ = f"csms_{action}"
        return dispatch

    def record_message(
        self,
        station_id: str,
        direction: Direction,
        message_type: int,
        message_id: str,
        action: str | None,
        payload: Payload | None,
        path: Sequence[str] = (),
        *,
        signature: str | None = None,
    ) -> None:
        """Log one message and publish it on the bus; never blocks. A payload carrying
        ``signatures`` gets no verdict here: only the security layer knows one (it may call
        this method itself with ``signature=``)."""
        if signature is None and payload is not None and "signatures" not in payload:
            signature = "unsigned"
        size = 0 if payload is None else 2 if not payload else len(orjson.dumps(payload))
        at = self.core.clock()
        route = path if type(path) is tuple else tuple(path)
        self.store.log_message(
            MessageLogEntry(at, station_id, direction, message_type, message_id, action, route,
                            signature, size)
        )
        if self.bus.listened:  # nobody subscribed: no event to build
            self.bus.publish(
                MessageSeen(at, station_id, direction, message_type, message_id, action,
                            route, signature, size)
            )

    # --- requests to stations -----------------------------------------------------------

    def link(self, station_id: str) -> StationLink:
        """The live connection to a station; UnknownClient if it is not connected."""
        link = self.core.links.get(station_id)
        if link is None or not link.is_attached:
            raise UnknownClient(f"station {station_id} is not connected")
        return link

    def is_local(self, station_id: str) -> bool:
        """Whether this process holds the station's link (with ``remote``, it may be on
        another front-end)."""
        link = self.core.links.get(station_id)
        return link is not None and link.is_attached

    async def call(
        self, station_id: str, action: str, payload: Payload, *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call timeouts are the OCPP API
    ) -> Payload:
        """Send any request to a station and return its response payload (logged both ways).

        Raises UnknownClient, CallErrorReceived, CallTimeout or ConnectionClosed. A
        station on another front-end is called there (and logged there)."""
        if self.remote is not None and not self.is_local(station_id):
            return await self.remote.call(station_id, action, payload, timeout=timeout)
        link = self.link(station_id)
        path = self.core.paths.get(station_id, ())
        self.record_message(station_id, "out", CALL, "", action, payload, path)
        try:
            response = await (link.call(action, payload) if timeout is None
                              else link.call(action, payload, timeout=timeout))
        except OcppNetError:
            self.record_message(station_id, "in", CALLERROR, "", action, None, path)
            raise
        self.record_message(station_id, "in", CALLRESULT, "", action, response, path)
        return response

    def version(self, station_id: str) -> str:
        return self.link(station_id).version

    async def station_version(self, station_id: str) -> str:
        """The OCPP version of a station here or, with ``remote``, on another front-end."""
        if self.remote is not None and not self.is_local(station_id):
            return await self.remote.version(station_id)
        return self.version(station_id)

    async def remote_start(
        self,
        station_id: str,
        id_token: str,
        *,
        evse_id: int | None = None,
        charging_profile: Payload | None = None,
        token_type: str = "Central",
    ) -> Payload:
        """RequestStartTransaction (2.x) or RemoteStartTransaction (1.6, evse_id = connector)."""
        if await self.station_version(station_id) == "1.6":
            req: Payload = {"idTag": id_token}
            if evse_id is not None:
                req["connectorId"] = evse_id
            if charging_profile is not None:
                req["chargingProfile"] = charging_profile
            return await self.call(station_id, "RemoteStartTransaction", req)
        req = {
            "idToken": {"idToken": id_token, "type": token_type},
            "remoteStartId": next(self._remote_start_ids),
        }
        if evse_id is not None:
            req["evseId"] = evse_id
        if charging_profile is not None:
            req["chargingProfile"] = charging_profile
        return await self.call(station_id, "RequestStartTransaction", req)

    async def remote_stop(self, station_id: str, transaction_id: str) -> Payload:
        """RequestStopTransaction (2.x) or RemoteStopTransaction (1.6: integer id)."""
        if await self.station_version(station_id) == "1.6":
            return await self.call(
                station_id, "RemoteStopTransaction", {"transactionId": int(transaction_id)}
            )
        return await self.call(
            station_id, "RequestStopTransaction", {"transactionId": transaction_id}
        )

    async def set_charging_profile(
        self, station_id: str, evse_id: int, profile: Payload
    ) -> Payload:
        """SetChargingProfile; ``profile`` is in the station's version's own shape."""
        if await self.station_version(station_id) == "1.6":
            req = {"connectorId": evse_id, "csChargingProfiles": profile}
        else:
            req = {"evseId": evse_id, "chargingProfile": profile}
        return await self.call(station_id, "SetChargingProfile", req)

    async def reset(self, station_id: str, *, immediate: bool = True) -> Payload:
        """Reset: 2.x Immediate/OnIdle, 1.6 Hard/Soft."""
        if await self.station_version(station_id) == "1.6":
            return await self.call(station_id, "Reset", {"type": "Hard" if immediate else "Soft"})
        return await self.call(
            station_id, "Reset", {"type": "Immediate" if immediate else "OnIdle"}
        )

    async def get_variables(
        self, station_id: str, variables: Sequence[tuple[str, str]]
    ) -> Payload:
        """GetVariables for (component, variable) pairs (2.x); GetConfiguration by variable
        name in 1.6, where configuration keys have no component."""
        if await self.station_version(station_id) == "1.6":
            return await self.call(
                station_id, "GetConfiguration", {"key": [v for _, v in variables]}
            )
        data = [{"component": {"name": c}, "variable": {"name": v}} for c, v in variables]
        return await self.call(station_id, "GetVariables", {"getVariableData": data})
