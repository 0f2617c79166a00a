"""What the station model reports; the protocol layer turns each into OCPP messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from ocppnet.station.states import ConnectorStatus


@dataclass(frozen=True, slots=True)
class StatusChanged:
    evse_id: int
    connector_id: int
    status: ConnectorStatus


@dataclass(frozen=True, slots=True)
class TransactionStarted:
    evse_id: int
    connector_id: int
    transaction_id: str  # local id; 1.6 maps it to the CSMS's integer
    id_token: str
    remote_start_id: int | None
    meter_wh: float


@dataclass(frozen=True, slots=True)
class ChargingStateChanged:
    evse_id: int
    transaction_id: str
    status: ConnectorStatus  # Charging, SuspendedEV or SuspendedEVSE


@dataclass(frozen=True, slots=True)
class TransactionEnded:
    evse_id: int
    connector_id: int
    transaction_id: str
    id_token: str | None
    reason: str  # OCPP 2.x ReasonEnumType; 1.6 maps it
    meter_wh: float


ModelEvent: TypeAlias = StatusChanged | TransactionStarted | ChargingStateChanged | TransactionEnded
