"""Connector state machine: the statuses a connector can be in and the legal moves.

Like h11, the machine refuses an illegal transition with a precise error instead of
silently drifting: :class:`IllegalTransition` names the connector, the event and the state.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from ocppnet.errors import GenericError


class ConnectorStatus(StrEnum):
    """The OCPP 1.6 status set; 2.x reports the coarser :meth:`as_201`."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    FAULTED = "Faulted"
    UNAVAILABLE = "Unavailable"

    def as_201(self) -> str:
        """OCPP 2.0.1/2.1 ConnectorStatusEnumType: everything with a cable in is Occupied."""
        if self in (ConnectorStatus.AVAILABLE, ConnectorStatus.FAULTED,
                    ConnectorStatus.UNAVAILABLE):
            return self.value
        return "Occupied"


class Event(StrEnum):
    """Things that happen to a connector (from the car, the driver, the CSMS or the meter)."""

    PLUG_IN = "plug_in"
    START = "start"  # energy may flow: cable in and authorized
    SUSPEND_EV = "suspend_ev"
    SUSPEND_EVSE = "suspend_evse"
    RESUME = "resume"
    STOP = "stop"  # the transaction ends, the cable is still in
    UNPLUG = "unplug"
    FAULT = "fault"
    CLEAR_FAULT = "clear_fault"
    DISABLE = "disable"
    ENABLE = "enable"


class IllegalTransition(GenericError):
    """An event that the connector's current status does not allow."""

    def __init__(self, where: str, event: Event, status: ConnectorStatus) -> None:
        super().__init__(f"{where}: cannot {event.value} while {status.value}")
        self.event = event
        self.status = status


S = ConnectorStatus
_ACTIVE: Final = (S.CHARGING, S.SUSPENDED_EV, S.SUSPENDED_EVSE)

TRANSITIONS: Final[dict[tuple[ConnectorStatus, Event], ConnectorStatus]] = {
    (S.AVAILABLE, Event.PLUG_IN): S.PREPARING,
    (S.PREPARING, Event.START): S.CHARGING,
    (S.PREPARING, Event.UNPLUG): S.AVAILABLE,
    **{(s, Event.SUSPEND_EV): S.SUSPENDED_EV for s in _ACTIVE},
    **{(s, Event.SUSPEND_EVSE): S.SUSPENDED_EVSE for s in _ACTIVE},
    **{(s, Event.RESUME): S.CHARGING for s in _ACTIVE},
    **{(s, Event.STOP): S.FINISHING for s in _ACTIVE},
    **{(s, Event.UNPLUG): S.AVAILABLE for s in _ACTIVE},
    (S.FINISHING, Event.UNPLUG): S.AVAILABLE,
    **{(s, Event.FAULT): S.FAULTED for s in S if s is not S.FAULTED},
    (S.FAULTED, Event.CLEAR_FAULT): S.AVAILABLE,
    (S.AVAILABLE, Event.DISABLE): S.UNAVAILABLE,
    (S.UNAVAILABLE, Event.ENABLE): S.AVAILABLE,
}


def next_status(where: str, status: ConnectorStatus, event: Event) -> ConnectorStatus:
    """The status after ``event``; raises :class:`IllegalTransition` if it is not allowed."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransition(where, event, status) from None


def is_active(status: ConnectorStatus) -> bool:
    """Whether a transaction with the power path closed is running (charging or suspended)."""
    return status in _ACTIVE
