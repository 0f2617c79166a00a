"""Telemetry of a simulated OCPP 2.1 station: periodic event streams for a digital twin.

Once booted, the station opens one stream per quantity and EVSE (OpenPeriodicEventStream,
each described in ``customData``, :mod:`ocppnet.telemetry.streams`), samples every
``interval_s`` simulated seconds and sends ``batch`` samples per NotifyPeriodicEventStream
(a SEND frame), chained and signed once per batch with the station's telemetry key
(:mod:`ocppnet.telemetry.chain`). While offline, samples wait in a bounded buffer; what does
not fit is counted (``dropped``) and the chain shows the gap.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocppnet.errors import ConnectionClosed, OcppNetError
from ocppnet.rpc.timestamps import format_seconds
from ocppnet.security.keys import KeyPair
from ocppnet.security.signatures import sign
from ocppnet.telemetry.chain import StreamChain
from ocppnet.telemetry.streams import (
    QUANTITIES,
    EvseReading,
    StreamSpec,
    describe,
    read_value,
    station_streams,
)

if TYPE_CHECKING:
    from ocppnet.station.runtime import SimulatedStation

__all__ = ["StationTelemetry", "TelemetryPlan"]

log = logging.getLogger("ocppnet.station.telemetry")


@dataclass(frozen=True, slots=True)
class TelemetryPlan:
    """What a station streams: ``quantities`` every ``interval_s`` (simulated) seconds, in
    batches of ``batch`` values, signed with ``key`` (None: unsigned, chained only)."""

    key: KeyPair | None = None
    quantities: tuple[str, ...] = tuple(QUANTITIES)
    interval_s: float = 1.0
    batch: int = 10
    buffer: int = 600
    """Samples per stream kept while offline; older ones are dropped (and counted)."""
    key_name: str = "station-telemetry"

    def __post_init__(self) -> None:
        if not self.interval_s > 0 or self.batch < 1 or self.buffer < self.batch:
            raise ValueError("interval_s must be > 0, batch >= 1 and buffer >= batch")


class StationTelemetry:
    """The streams of one station (2.1 only: NotifyPeriodicEventStream is a SEND)."""

    def __init__(self, station: SimulatedStation, plan: TelemetryPlan) -> None:
        if station.version != "2.1":
            raise ValueError("periodic event streams need OCPP 2.1")
        self.station = station
        self.plan = plan
        self.specs: list[StreamSpec] = station_streams(sorted(station.model.evses),
                                                      plan.quantities)
        self.chains = {spec.id: StreamChain(spec.id) for spec in self.specs}
        self.samples: dict[int, deque[tuple[float, str]]] = {
            spec.id: deque(maxlen=plan.buffer) for spec in self.specs}
        self.open: set[int] = set()
        self.sent_batches = 0
        self.dropped = 0
        self._opened_for: object | None = None  # the Connection the streams were opened on

    async def run(self) -> None:
        """Sample and send until cancelled."""
        clock = self.station.clock
        next_at = clock.now()
        while True:
            await asyncio.sleep(clock.real_delay(next_at - clock.now()))
            now = clock.now()
            self.sample(now)
            next_at += self.plan.interval_s * max(1, int((now - next_at) // self.plan.interval_s)
                                                  + 1)
            if self.station.accepted and self.station.online:
                try:
                    await self._ensure_open()
                    await self._flush()
                except ConnectionClosed:
                    continue
                except OcppNetError as exc:
                    log.warning("event=telemetry_failed station=%s error=%r",
                                self.station.station_id, str(exc))

    def sample(self, now: float) -> None:
        """Take one value of every stream from the station's model (brought up to ``now``)."""
        if self.station.accepted:
            self.station.apply(self.station.model.advance(now))
        readings = {evse_id: self._reading(evse_id) for evse_id in self.station.model.evses}
        for spec in self.specs:
            value = read_value(spec, readings[spec.evse_id])
            if value is None:
                continue
            buffer = self.samples[spec.id]
            if len(buffer) == buffer.maxlen:
                self.dropped += 1
            buffer.append((now, value))

    def _reading(self, evse_id: int) -> EvseReading:
        evse = self.station.model.evses[evse_id]
        electrical = self.station.model.config.electrical
        session = evse.session
        ev = session.ev if session is not None else None
        status = self.station.dialect.status_value(evse.status(1))
        return EvseReading(
            power_w=evse.power_w, voltage_v=electrical.voltage_v, phases=electrical.phases,
            temperature_c=25.0 + evse.power_w / 2000.0,
            soc_percent=None if ev is None else ev.soc * 100.0, connector=status)

    async def _ensure_open(self) -> None:
        connection = self.station.connection
        if self._opened_for is not connection:  # a new link (or a reboot): open them again
            self.open.clear()
            self._opened_for = connection
        for spec in self.specs:
            if spec.id in self.open:
                continue
            response = await self.station._call("OpenPeriodicEventStream", {
                "constantStreamData": {
                    "id": spec.id, "variableMonitoringId": spec.id,
                    "params": {"interval": max(1, round(self.plan.interval_s)),
                               "values": self.plan.batch},
                    "customData": describe(spec)}})
            if response.get("status") == "Accepted":
                self.open.add(spec.id)
            else:
                log.info("event=stream_refused station=%s stream=%d", self.station.station_id,
                         spec.id)

    async def _flush(self) -> None:
        for spec in self.specs:
            buffer = self.samples[spec.id]
            while spec.id in self.open and len(buffer) >= self.plan.batch:
                items = [buffer.popleft() for _ in range(self.plan.batch)]
                base = items[0][0]
                payload = self.chains[spec.id].batch(
                    format_seconds(base), [{"t": round(at - base, 3), "v": v} for at, v in items],
                    pending=len(buffer))
                await self.station.connection.send("NotifyPeriodicEventStream",
                                                   self._signed(payload))
                self.sent_batches += 1

    def _signed(self, payload: dict[str, Any]) -> dict[str, Any]:
        key = self.plan.key
        if key is None:
            return payload
        # the signature's own timestamp is wall time: verifiers check it against theirs
        return sign(payload, action="NotifyPeriodicEventStream", kind="request", version="2.1",
                    key=key, now=datetime.now(UTC), name=self.plan.key_name)
