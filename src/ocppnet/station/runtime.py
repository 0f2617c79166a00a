"""One simulated station on a real OCPP link: boot, heartbeat, status, sessions, meter values.

A single task per station (:meth:`SimulatedStation.run`) plus the transport's reader: the
task sleeps until the next thing is due (boot retry, heartbeat, meter sample, a driver's
action) or until something wakes it (a CSMS request, a reconnect). Transaction messages go
through the :class:`~ocppnet.station.offline_queue.OfflineQueue`, so what happens while the
CSMS is unreachable is delivered in order after the link comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import random
import ssl
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ocppnet.errors import CallTimeout, ConnectionClosed, OcppNetError
from ocppnet.rpc.frames import JsonObject
from ocppnet.rpc.versions import check_version, subprotocol_for_version
from ocppnet.security.context import SecurityContext
from ocppnet.station.clock import Clock, SimClock
from ocppnet.station.dialect import Dialect
from ocppnet.station.events import (
    ModelEvent,
    StatusChanged,
    TransactionEnded,
    TransactionStarted,
)
from ocppnet.station.model import StationConfig, StationModel
from ocppnet.station.offline_queue import OfflineQueue, QueuedMessage
from ocppnet.station.offline_store import QueueFile
from ocppnet.station.scenario import Scenario
from ocppnet.station.signed_meter import SigningMeter
from ocppnet.station.states import ConnectorStatus, is_active
from ocppnet.station.stats import StationStats
from ocppnet.station.telemetry import StationTelemetry, TelemetryPlan
from ocppnet.station.variables import Tunables
from ocppnet.transport import Backoff, Connection, Handlers, LinkOptions, LinkRefused
from ocppnet.transport.client import StationClient
from ocppnet.transport.secured import secure_handlers, sign_request, signed_call

if TYPE_CHECKING:
    from ocppnet.station.webpay import StationWebPayments

log = logging.getLogger("ocppnet.station")

DEFAULT_BACKOFF = Backoff(base=1.0, cap=30.0)
_RETRY_REAL_S = 5.0  # after a timeout, wait this long (wall clock) before sending again
TX_MESSAGE_ATTEMPTS = 3  # OCPP 2.x OCPPCommCtrlr.MessageAttempts(TransactionEvent) default
_ATTEMPT_REAL_S = 0.5  # MessageAttemptInterval, in wall-clock seconds


class SimulatedStation:
    """A charging station speaking ``version`` ("2.0.1", "2.1", "1.6") to the CSMS at ``url``."""

    def __init__(
        self,
        station_id: str,
        url: str,
        *,
        version: str = "2.0.1",
        config: StationConfig | None = None,
        scenario: Scenario | None = None,
        clock: Clock | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        stats: StationStats | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        seed: int | None = None,
        call_timeout: float = 30.0,
        queue_limit: int = 1_000,
        options: LinkOptions | None = None,
        security: SecurityContext | None = None,
        telemetry: TelemetryPlan | None = None,
        signing_meter: SigningMeter | None = None,
        queue_file: QueueFile | None = None,
    ) -> None:
        self.station_id = station_id
        self.signing_meter = signing_meter  # OCMF: signs begin/end (and periodic) readings
        self.security = security  # end-to-end signatures: verify commands, sign per policy
        self.version = check_version(version)
        self.config = config or StationConfig()
        if self.version == "1.6" and self.config.connectors_per_evse != 1:
            raise ValueError("an OCPP 1.6 station has one connector per EVSE (connectorId)")
        self.scenario = scenario or Scenario()
        self.clock: Clock = clock or SimClock()
        self.model = StationModel(self.config, self.clock.now())
        self.stats = stats or StationStats()
        self.queue = OfflineQueue(queue_limit, file=queue_file, station=station_id)
        self.rng = random.Random(seed)
        self.tunables = Tunables(station_id, self.scenario.heartbeat_s or 300.0,
                                 self.scenario.meter_interval_s, self.config.evse_count)
        self.backoff = backoff
        self.handlers = Handlers()
        self.web_payments: StationWebPayments | None = None  # C25, see station/webpay.py
        self.dialect: Dialect = self._make_dialect()
        self.dialect.register(self.handlers)
        incoming = self.handlers if security is None else secure_handlers(self.handlers, security)
        self.client = StationClient(
            url, station_id, handlers=incoming,
            subprotocols=[subprotocol_for_version(self.version)], password=password,
            ssl_context=ssl_context, backoff=backoff, call_timeout=call_timeout,
            options=options, on_connect=self._on_connect, on_disconnect=self._on_disconnect,
        )
        self.accepted = False
        self.boot_reason = "PowerUp"
        self.reset_pending: str | None = None  # a stop reason while a reset waits for idle
        self._next_boot = 0.0
        self._next_heartbeat = math.inf
        self._next_meter = math.inf
        self._retry_at = 0.0
        self._plan: dict[int, tuple[str, float]] = {}
        self._status_out: list[tuple[int, int, ConnectorStatus]] = []  # to report, in order
        self._status_sent: dict[tuple[int, int], str] = {}  # last status on the wire
        self._triggers: list[tuple[str, int | None]] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._online = False
        self.telemetry = None if telemetry is None else StationTelemetry(self, telemetry)

    def _make_dialect(self) -> Dialect:
        if self.version == "1.6":
            from ocppnet.station.ocpp16 import Ocpp16

            return Ocpp16(self)
        from ocppnet.station.ocpp2 import Ocpp2

        return Ocpp2(self)

    # --- life --------------------------------------------------------------------------

    @property
    def connection(self) -> Connection:
        return self.client.connection

    @property
    def online(self) -> bool:
        return self._online

    async def run(self) -> None:
        """Connect (retrying with back-off), then live until :meth:`close`."""
        if not await self._connect():
            return
        streams = None if self.telemetry is None else asyncio.create_task(
            self.telemetry.run(), name=f"telemetry:{self.station_id}")
        try:
            while not self._closing:
                await self._step()
                await self._sleep_until(self._next_deadline())
        except ConnectionClosed:
            if not self._closing:
                raise
        finally:
            if streams is not None:
                streams.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await streams

    async def close(self) -> None:
        self._closing = True
        self._wake.set()
        await self.client.close()

    def wake(self) -> None:
        self._wake.set()

    async def _connect(self) -> bool:
        delays: Iterable[float] = itertools.chain([0.0], self.backoff.schedule())
        for delay in delays:
            if self._closing:
                return False
            if delay:
                await self._sleep_real(delay)
            try:
                await self.client.start()
                return True
            except LinkRefused as exc:
                log.warning("event=connect_failed station=%s error=%r", self.station_id, str(exc))
        return False

    def _on_connect(self, _: Connection) -> None:
        self._online = True
        self.stats.connected += 1
        # after an outage only the latest status of each connector is worth reporting
        latest = {(e, c): s for e, c, s in self._status_out}
        self._status_out = [(e, c, s) for (e, c), s in latest.items()]
        self._retry_at = 0.0
        self._wake.set()

    def _on_disconnect(self, _: Connection) -> None:
        if self._online:
            self._online = False
            self.stats.connected -= 1
        self._wake.set()

    async def _sleep_real(self, seconds: float) -> None:
        handle = asyncio.get_running_loop().call_later(seconds, self._wake.set)
        await self._wake.wait()
        self._wake.clear()
        handle.cancel()

    async def _sleep_until(self, deadline: float) -> None:
        if self._wake.is_set():
            self._wake.clear()
            return
        delay = self.clock.real_delay(deadline - self.clock.now())
        if delay <= 0:
            await asyncio.sleep(0)
            return
        handle = (asyncio.get_running_loop().call_later(delay, self._wake.set)
                  if math.isfinite(delay) else None)
        await self._wake.wait()
        self._wake.clear()
        if handle is not None:
            handle.cancel()

    def _next_deadline(self) -> float:
        deadlines = [self._retry_at] if self._online and self._retry_at else []
        if self._online and not self.accepted:
            deadlines.append(self._next_boot)
        if self.accepted:
            deadlines.append(self._next_meter)
            deadlines.extend(at for _, at in self._plan.values())
            if self._online and self._retry_at == 0.0:
                deadlines.append(self._next_heartbeat)
                if self.queue or self._triggers or self._status_out:
                    deadlines.append(0.0)
        return min(deadlines, default=math.inf)

    async def _step(self) -> None:
        now = self.clock.now()
        if self._retry_at and now >= self._retry_at:
            self._retry_at = 0.0
        if self._online and not self.accepted and now >= self._next_boot:
            await self._boot(now)
        if not self.accepted:
            return
        await self._drive(now)
        if self._online and not self._retry_at:
            await self._flush()

    # --- outgoing ----------------------------------------------------------------------

    async def _call(self, action: str, payload: JsonObject) -> JsonObject:
        """conn.call with bookkeeping; ConnectionClosed/CallTimeout mean "try again later"."""
        try:
            if self.security is not None and self.security.wants_jws(self.version):
                response = await signed_call(self.connection, self.security, action, payload)
            else:
                if self.security is not None:
                    payload = sign_request(self.security, action, payload, version=self.version)
                response = await self.connection.call(action, payload)
        except ConnectionClosed:
            raise
        except CallTimeout:
            self.stats.errors += 1
            self._retry_at = self.clock.now() + _RETRY_REAL_S * self.clock.speed
            raise
        except OcppNetError as exc:
            self.stats.errors += 1
            log.warning("event=call_failed station=%s action=%s error=%r",
                        self.station_id, action, str(exc))
            raise
        self.stats.messages_sent += 1
        return response

    async def _boot(self, now: float) -> None:
        try:
            response = await self._call("BootNotification",
                                        self.dialect.boot_request(self.boot_reason))
        except ConnectionClosed:
            return
        except OcppNetError:
            self._next_boot = now + 30.0
            return
        interval = int(response.get("interval", 0))
        if response.get("status") != "Accepted":
            self._next_boot = self.clock.now() + (interval if interval > 0 else 30.0)
            log.info("event=boot_retry station=%s status=%s interval=%s",
                     self.station_id, response.get("status"), interval)
            return
        self.accepted = True
        self.stats.booted += 1
        self.stats.boots_accepted += 1
        if self.scenario.heartbeat_s is None and interval > 0:
            self.tunables.heartbeat_s = float(interval)
        now = self.clock.now()
        self._next_heartbeat = now + self.tunables.heartbeat_s
        self._next_meter = now + self.tunables.meter_interval_s
        self._status_out = [(e, c, s) for (e, c), s in self._current_statuses()]
        self._status_sent.clear()
        self._replan(now)

    async def _flush(self) -> None:
        """Queue first (oldest first), then status changes, triggered messages, heartbeat."""
        try:
            while (message := self.queue.peek()) is not None:
                payload = self.dialect.prepare(message)
                if payload is None:
                    self.queue.pop()
                    continue
                try:
                    response = await self._call(message.action, payload)
                except (ConnectionClosed, CallTimeout):
                    return
                except OcppNetError:
                    # a CALLERROR: tried again, as OCPP's MessageAttempts says, then given up
                    # (a refusal that lasts would block the queue); a node on the way that
                    # lost its upstream answers like this too, and the retry gets through
                    message.attempts += 1
                    if message.attempts < TX_MESSAGE_ATTEMPTS:
                        self._retry_at = self.clock.now() + _ATTEMPT_REAL_S * self.clock.speed
                        return
                    log.warning("event=transaction_message_given_up station=%s action=%s "
                                "attempts=%d", self.station_id, message.action,
                                message.attempts)
                    self.queue.pop()
                    continue
                self.queue.pop()
                self.dialect.delivered(message, response)
            while self._status_out:
                evse_id, connector_id, status = self._status_out[0]
                wire = self.dialect.status_value(status)
                if self._status_sent.get((evse_id, connector_id)) == wire:
                    self._status_out.pop(0)  # 2.x: Preparing -> Charging is Occupied twice
                    continue
                await self._call_quietly("StatusNotification", self.dialect.status_request(
                    evse_id, connector_id, status, self.clock.now()))
                self._status_out.pop(0)
                self._status_sent[(evse_id, connector_id)] = wire
            while self._triggers:
                what, target = self._triggers.pop(0)
                await self._send_triggered(what, target)
            now = self.clock.now()
            if now >= self._next_heartbeat:
                self._next_heartbeat = now + self.tunables.heartbeat_s
                await self._call_quietly("Heartbeat", {})
        except (ConnectionClosed, CallTimeout):
            return

    async def _call_quietly(self, action: str, payload: JsonObject) -> JsonObject | None:
        """A non-transaction message: a CALLERROR is counted and forgotten."""
        try:
            return await self._call(action, payload)
        except (ConnectionClosed, CallTimeout):
            raise
        except OcppNetError:
            return None

    async def _send_triggered(self, what: str, evse_id: int | None) -> None:
        now = self.clock.now()
        if what == "Heartbeat":
            await self._call_quietly("Heartbeat", {})
        elif what == "BootNotification":
            await self._call_quietly("BootNotification", self.dialect.boot_request("Triggered"))
        elif what == "MeterValues":
            for evse in self.model.evses.values():
                if evse_id in (None, 0, evse.id):
                    await self._call_quietly(*self.dialect.triggered_meter_values(evse, now))
        elif what == "TransactionEvent":
            for evse in self.model.evses.values():
                if evse_id in (None, 0, evse.id):
                    message = self.dialect.meter_message(evse, now, False, triggered=True)
                    if message is not None:
                        self.queue.push(message)

    def trigger(self, what: str, evse_id: int | None = None) -> None:
        """Send ``what`` soon (TriggerMessage); StatusNotification re-reports current status."""
        if what == "StatusNotification":
            for (e, c), s in self._current_statuses():
                if evse_id in (None, 0, e):
                    self._status_sent.pop((e, c), None)
                    self._status_out.append((e, c, s))
        else:
            self._triggers.append((what, evse_id))
        self._wake.set()

    def _current_statuses(self) -> list[tuple[tuple[int, int], ConnectorStatus]]:
        return [((evse.id, i + 1), status) for evse in self.model.evses.values()
                for i, status in enumerate(evse.statuses)]

    # --- model events ------------------------------------------------------------------

    def apply(self, events: list[ModelEvent]) -> None:
        """Turn model events into queued messages and wake the loop."""
        now = self.clock.now()
        offline = not self._online
        for event in events:
            if isinstance(event, StatusChanged):
                self._status_out.append((event.evse_id, event.connector_id, event.status))
            elif isinstance(event, TransactionStarted):
                self.stats.transactions_started += 1
            elif isinstance(event, TransactionEnded):
                self.stats.transactions_ended += 1
            for message in self.dialect.transaction_messages(event, now, offline):
                self._enqueue(message, offline)
        self._replan(now)
        self._wake.set()

    def _enqueue(self, message: QueuedMessage, offline: bool) -> None:
        messages = [message] if self.signing_meter is None else \
            self.signing_meter.sign(message, self.clock.now())
        for item in messages:
            if not self.queue.push(item):
                self.stats.dropped += 1
            elif offline:
                self.stats.queued_offline += 1

    def stop_all(self, reason: str) -> None:
        now = self.clock.now()
        for evse in self.model.evses.values():
            session = evse.session
            if session is not None and session.transaction_id is not None and not session.ended:
                self.apply(self.model.stop(evse.id, reason, now))

    def reboot(self) -> None:
        """A simulated reboot: boot again (transactions were stopped by the caller)."""
        self.reset_pending = None
        if self.accepted:
            self.stats.booted -= 1
        self.accepted = False
        self.boot_reason = "RemoteReset"
        self._next_boot = 0.0
        self._wake.set()

    def _busy(self) -> bool:
        return any(evse.session is not None and evse.session.transaction_id is not None
                   and not evse.session.ended for evse in self.model.evses.values())

    # --- the drivers -------------------------------------------------------------------

    async def present_token(self, evse_id: int, id_token: str) -> bool:
        """A driver badges: Authorize with the CSMS (locally accepted while offline)."""
        web = self.web_payments
        if web is not None and web.blocks_local(evse_id, self.clock.now()):
            return False  # a web payment runs on this EVSE (C25 NotifyWebPaymentStarted)
        accepted = True
        if self._online:
            try:
                response = await self._call("Authorize", self.dialect.authorize_request(id_token))
                accepted = self.dialect.authorize_accepted(response)
            except (ConnectionClosed, CallTimeout):
                accepted = True
            except OcppNetError:
                accepted = False
        if accepted:
            self.apply(self.model.authorize(evse_id, id_token, self.clock.now()))
        return accepted

    async def _drive(self, now: float) -> None:
        for evse_id, (what, at) in list(self._plan.items()):
            if now < at:
                continue
            del self._plan[evse_id]
            try:
                if what == "plug":
                    self.apply(self.model.plug_in(evse_id, self.scenario.new_ev(self.rng), now))
                    await self.present_token(evse_id, self.scenario.id_token)
                elif what == "stop":
                    self.apply(self.model.stop(evse_id, "Local", now))
                else:
                    self.apply(self.model.unplug(evse_id, now))
            except OcppNetError as exc:  # e.g. the CSMS made the connector Unavailable
                log.info("event=scenario_skipped station=%s evse=%d action=%s reason=%r",
                         self.station_id, evse_id, what, str(exc))
            self._replan(self.clock.now())
        if now >= self._next_meter:
            self.apply(self.model.advance(now))
            for evse in self.model.evses.values():
                message = self.dialect.meter_message(evse, now, not self._online)
                if message is not None:
                    self._enqueue(message, not self._online)
            interval = self.tunables.meter_interval_s
            self._next_meter += math.ceil((now - self._next_meter + 1e-9) / interval) * interval
        if self.reset_pending is not None and not self._busy():
            self.reboot()

    def _replan(self, now: float) -> None:
        """Decide each EVSE's next driver action; keep the time of an unchanged plan."""
        for evse in self.model.evses.values():
            session = evse.session
            wanted: tuple[str, float] | None = None
            if session is None:
                if self.scenario.auto and evse.status(1) is ConnectorStatus.AVAILABLE:
                    wanted = ("plug", now + self.scenario.next_arrival(self.rng))
            elif session.ev is not None and (session.ended or session.transaction_id is None):
                wanted = ("unplug", now + self.scenario.unplug_after_s)
            elif session.transaction_id is not None and self.scenario.auto \
                    and is_active(evse.status(session.connector_id)):
                wanted = ("stop", (session.started_at or now) + self.scenario.session_s)
            current = self._plan.get(evse.id)
            if wanted is None:
                self._plan.pop(evse.id, None)
            elif current is None or current[0] != wanted[0]:
                self._plan[evse.id] = wanted
