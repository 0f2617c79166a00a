"""The station as a pure state machine: EVSEs, connectors, sessions, power and energy.

Nothing here does I/O or reads a clock: every method takes ``now`` (POSIX seconds) and
returns the :mod:`events <ocppnet.station.events>` that the protocol layer turns into
OCPP messages. The energy register of each EVSE only ever increases.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from ocppnet.errors import GenericError
from ocppnet.station.ev import ElectricVehicle
from ocppnet.station.events import (
    ChargingStateChanged,
    ModelEvent,
    StatusChanged,
    TransactionEnded,
    TransactionStarted,
)
from ocppnet.station.profile_store import Electrical, ProfileStore
from ocppnet.station.states import ConnectorStatus, Event, is_active, next_status


@dataclass(frozen=True, slots=True)
class StationConfig:
    """Hardware of the simulated station."""

    evse_count: int = 1
    connectors_per_evse: int = 1
    evse_max_power_w: float = 22_000.0
    electrical: Electrical = field(default_factory=Electrical)
    max_step_s: float = 10.0  # integration step: small enough to follow the taper

    def __post_init__(self) -> None:
        if self.evse_count < 1 or self.connectors_per_evse < 1:
            raise ValueError("a station needs at least one EVSE with one connector")
        if self.evse_max_power_w <= 0 or self.max_step_s <= 0:
            raise ValueError("evse_max_power_w and max_step_s must be > 0")


@dataclass(slots=True)
class Session:
    """A car on an EVSE, from plug-in (or authorization) to unplug."""

    connector_id: int
    ev: ElectricVehicle | None = None
    id_token: str | None = None
    remote_start_id: int | None = None
    transaction_id: str | None = None
    started_at: float | None = None
    meter_start_wh: float = 0.0
    charging_s: float = 0.0
    ended: bool = False


@dataclass(slots=True)
class Evse:
    id: int
    max_power_w: float
    statuses: list[ConnectorStatus]
    energy_wh: float = 0.0
    power_w: float = 0.0
    offered_w: float = 0.0
    session: Session | None = None

    def status(self, connector_id: int) -> ConnectorStatus:
        return self.statuses[connector_id - 1]


class StationModel:
    """All EVSEs of one station plus its charging-profile table."""

    __slots__ = ("config", "evses", "last_update", "new_transaction_id", "profiles")

    def __init__(
        self,
        config: StationConfig,
        now: float,
        *,
        new_transaction_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.config = config
        self.profiles = ProfileStore(config.electrical)
        self.evses: dict[int, Evse] = {
            i: Evse(i, config.evse_max_power_w,
                    [ConnectorStatus.AVAILABLE] * config.connectors_per_evse)
            for i in range(1, config.evse_count + 1)
        }
        self.last_update = now
        self.new_transaction_id = new_transaction_id

    # --- queries -----------------------------------------------------------------------

    def evse(self, evse_id: int) -> Evse:
        try:
            return self.evses[evse_id]
        except KeyError:
            raise GenericError(f"no EVSE {evse_id}") from None

    def find_transaction(self, transaction_id: str) -> Evse | None:
        for evse in self.evses.values():
            if evse.session is not None and evse.session.transaction_id == transaction_id \
                    and not evse.session.ended:
                return evse
        return None

    def free_evse(self) -> Evse | None:
        """The first EVSE with no car and connector 1 Available."""
        for evse in self.evses.values():
            if evse.session is None and evse.status(1) is ConnectorStatus.AVAILABLE:
                return evse
        return None

    # --- driver and car ----------------------------------------------------------------

    def plug_in(
        self, evse_id: int, ev: ElectricVehicle, now: float, connector_id: int = 1
    ) -> list[ModelEvent]:
        """Cable in; starts the transaction if the driver already authorized."""
        events = self.advance(now)
        evse = self.evse(evse_id)
        session = evse.session
        if session is not None and session.ev is not None:
            raise GenericError(f"EVSE {evse_id} already has a car plugged in")
        if session is not None and session.connector_id != connector_id:
            raise GenericError(f"EVSE {evse_id} was authorized for connector "
                               f"{session.connector_id}, not {connector_id}")
        events += self._move(evse, connector_id, Event.PLUG_IN)
        if session is None:
            session = evse.session = Session(connector_id)
        session.ev = ev
        if session.id_token is not None:
            events += self._start(evse, now)
        return events

    def authorize(
        self,
        evse_id: int,
        id_token: str,
        now: float,
        *,
        remote_start_id: int | None = None,
        connector_id: int = 1,
    ) -> list[ModelEvent]:
        """Driver (or the CSMS) authorized; starts the transaction if a car is plugged in."""
        events = self.advance(now)
        evse = self.evse(evse_id)
        session = evse.session
        if session is not None and (session.id_token is not None or session.ended):
            raise GenericError(f"EVSE {evse_id} already has an authorized session")
        if session is None:
            status = evse.status(connector_id)
            if status is not ConnectorStatus.AVAILABLE:
                raise GenericError(f"EVSE {evse_id} connector {connector_id} is {status}")
            session = evse.session = Session(connector_id)
        session.id_token = id_token
        session.remote_start_id = remote_start_id
        if session.ev is not None:
            events += self._start(evse, now)
        return events

    def stop(self, evse_id: int, reason: str, now: float) -> list[ModelEvent]:
        """End the transaction (driver, CSMS or reset); the cable stays in (Finishing)."""
        events = self.advance(now)
        evse = self.evse(evse_id)
        session = evse.session
        if session is None or session.transaction_id is None or session.ended:
            raise GenericError(f"EVSE {evse_id} has no running transaction")
        events += self._move(evse, session.connector_id, Event.STOP)
        events.append(self._end(evse, reason))
        return events

    def unplug(self, evse_id: int, now: float) -> list[ModelEvent]:
        """Cable out; ends a running transaction with EVDisconnected."""
        events = self.advance(now)
        evse = self.evse(evse_id)
        session = evse.session
        if session is None or session.ev is None:
            raise GenericError(f"EVSE {evse_id} has no car plugged in")
        events += self._move(evse, session.connector_id, Event.UNPLUG)
        if session.transaction_id is not None and not session.ended:
            events.append(self._end(evse, "EVDisconnected"))
        evse.session = None
        return events

    def set_status(self, evse_id: int, connector_id: int, event: Event,
                   now: float) -> list[ModelEvent]:
        """Fault, clear a fault, disable or enable a connector (no transaction bookkeeping)."""
        events = self.advance(now)
        return events + self._move(self.evse(evse_id), connector_id, event)

    # --- time --------------------------------------------------------------------------

    def advance(self, now: float) -> list[ModelEvent]:
        """Integrate energy up to ``now`` and report charging-state changes.

        Power is recomputed every ``max_step_s`` so the taper and schedule periods are followed.
        """
        t = self.last_update
        while t < now:
            dt = min(self.config.max_step_s, now - t)
            self._set_power(t)
            for evse in self.evses.values():
                session = evse.session
                if evse.power_w > 0 and session is not None and session.ev is not None:
                    wh = evse.power_w * dt / 3600.0
                    evse.energy_wh += wh
                    session.ev.absorb(wh)
                    session.charging_s += dt
            t += dt
        self.last_update = max(self.last_update, now)
        self._set_power(self.last_update)
        events: list[ModelEvent] = []
        for evse in self.evses.values():
            session = evse.session
            if session is None or session.ended or session.transaction_id is None:
                continue
            current = evse.status(session.connector_id)
            if not is_active(current):
                continue
            wanted = self._charging_status(evse)
            if wanted is not current:
                event = {ConnectorStatus.CHARGING: Event.RESUME,
                         ConnectorStatus.SUSPENDED_EV: Event.SUSPEND_EV,
                         ConnectorStatus.SUSPENDED_EVSE: Event.SUSPEND_EVSE}[wanted]
                events += self._move(evse, session.connector_id, event)
                events.append(ChargingStateChanged(evse.id, session.transaction_id, wanted))
        return events

    def _set_power(self, now: float) -> None:
        station_cap = self.profiles.station_limit_w(now)
        total = 0.0
        for evse in self.evses.values():
            session = evse.session
            status = evse.status(session.connector_id) if session else None
            if session is None or session.ev is None or status is None or not is_active(status):
                evse.power_w = evse.offered_w = 0.0
                continue
            offered = evse.max_power_w
            limit = self.profiles.evse_limit_w(evse.id, now, transaction_id=session.transaction_id,
                                               tx_start=session.started_at)
            if limit is not None:
                offered = min(offered, limit)
            evse.offered_w = max(0.0, offered)
            evse.power_w = min(session.ev.demand_w(), evse.offered_w)
            total += evse.power_w
        if station_cap is not None and total > station_cap:
            scale = max(0.0, station_cap) / total
            for evse in self.evses.values():
                evse.power_w *= scale
                evse.offered_w = min(evse.offered_w, evse.power_w)

    def _charging_status(self, evse: Evse) -> ConnectorStatus:
        session = evse.session
        assert session is not None and session.ev is not None
        if evse.offered_w <= 0.0:
            return ConnectorStatus.SUSPENDED_EVSE
        if session.ev.demand_w() <= 0.0:
            return ConnectorStatus.SUSPENDED_EV
        return ConnectorStatus.CHARGING

    # --- internals ---------------------------------------------------------------------

    def _move(self, evse: Evse, connector_id: int, event: Event) -> list[ModelEvent]:
        if not 1 <= connector_id <= len(evse.statuses):
            raise GenericError(f"EVSE {evse.id} has no connector {connector_id}")
        where = f"EVSE {evse.id} connector {connector_id}"
        new = next_status(where, evse.status(connector_id), event)
        evse.statuses[connector_id - 1] = new
        return [StatusChanged(evse.id, connector_id, new)]

    def _start(self, evse: Evse, now: float) -> list[ModelEvent]:
        session = evse.session
        assert session is not None and session.id_token is not None
        events = self._move(evse, session.connector_id, Event.START)
        session.transaction_id = self.new_transaction_id()
        session.started_at = now
        session.meter_start_wh = evse.energy_wh
        events.append(TransactionStarted(evse.id, session.connector_id, session.transaction_id,
                                         session.id_token, session.remote_start_id,
                                         evse.energy_wh))
        events += self.advance(now)  # settle Charging vs Suspended right away
        return events

    def _end(self, evse: Evse, reason: str) -> TransactionEnded:
        session = evse.session
        assert session is not None and session.transaction_id is not None
        session.ended = True
        evse.power_w = evse.offered_w = 0.0
        self.profiles.end_transaction(session.transaction_id)
        return TransactionEnded(evse.id, session.connector_id, session.transaction_id,
                                session.id_token, reason, evse.energy_wh)
