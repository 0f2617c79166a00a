"""Values the store reads and writes: one frozen dataclass per table row.

Times are timezone-aware UTC datetimes; every write takes its time from the caller
(the store never reads a clock), so tests and replays are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ocppnet.errors import InternalError

Direction = Literal["in", "out"]
TransactionState = Literal["active", "ended"]


@dataclass(frozen=True, slots=True)
class StationBoot:
    """What a BootNotification tells about a station."""

    station_id: str
    ocpp_version: str
    vendor: str
    model: str
    boot_status: str
    at: datetime
    serial_number: str | None = None
    firmware: str | None = None
    boot_reason: str | None = None
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StationRecord:
    station_id: str
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware: str | None
    ocpp_version: str | None
    boot_status: str | None
    boot_reason: str | None
    last_seen: datetime | None
    connected: bool
    path: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ConnectorRecord:
    """Status of one connector; OCPP 1.6 connectors are stored with evse_id = connector_id."""

    station_id: str
    evse_id: int
    connector_id: int
    status: str
    updated_at: datetime
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class NewTransaction:
    """A transaction as it starts. ``transaction_id`` None asks the store to assign one
    (OCPP 1.6: the CSMS assigns the integer id; the store uses the row key)."""

    station_id: str
    started_at: datetime
    transaction_id: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    meter_start: float | None = None
    remote_start_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionRecord:
    key: int
    station_id: str
    transaction_id: str
    evse_id: int | None
    connector_id: int | None
    id_token: str | None
    started_at: datetime
    stopped_at: datetime | None
    meter_start: float | None
    meter_stop: float | None
    energy_wh: float | None
    stop_reason: str | None
    state: TransactionState
    remote_start_id: int | None = None


@dataclass(frozen=True, slots=True)
class TransactionEnd:
    """How a transaction ended; ``energy_wh`` None lets the store compute stop - start."""

    stopped_at: datetime
    meter_stop: float | None = None
    stop_reason: str | None = None
    energy_wh: float | None = None
    id_token: str | None = None


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampled value. ``transaction_key`` is None for MeterValues outside a transaction;
    ``value`` is None for a signed-only sample whose reading is inside ``signed_data``."""

    station_id: str
    timestamp: datetime
    value: float | None
    measurand: str = "Energy.Active.Import.Register"
    unit: str | None = None
    context: str | None = None
    phase: str | None = None
    location: str | None = None
    evse_id: int | None = None
    transaction_key: int | None = None
    signed_data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class IdTokenRecord:
    token: str
    status: str = "Accepted"
    type: str | None = None
    expiry: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageLogEntry:
    """One OCPP message seen by the CSMS, in or out. ``signature`` is the verdict if known
    (e.g. "valid", "invalid", "unsigned"); ``path`` is the record route."""

    at: datetime
    station_id: str
    direction: Direction
    message_type: int
    message_id: str
    action: str | None = None
    path: tuple[str, ...] = ()
    signature: str | None = None
    payload_size: int = 0


@dataclass(frozen=True, slots=True)
class StationEvent:
    """A report a station sent that the CSMS keeps as data (security events, NotifyEvent,
    NotifyReport, DataTransfer)."""

    station_id: str
    at: datetime
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageKey:
    """The natural key of a station message whose effect is stored exactly once, e.g.
    ("CS-1", "TransactionEvent", "T-42/7") for transactionId T-42, seqNo 7."""

    station_id: str
    kind: str
    key: str


@dataclass(frozen=True, slots=True)
class TransactionUpdate:
    """What one TransactionEvent, StartTransaction, StopTransaction or MeterValues writes,
    applied as one unit. ``new`` starts (or finds) the transaction; without it,
    ``transaction_id`` names an existing one, or ``active_on_evse`` asks for the station's
    latest active transaction on that EVSE (both None, or none active: samples outside a
    transaction). Samples get the transaction's key (and EVSE, if they have none) when it
    is known."""

    station_id: str
    new: NewTransaction | None = None
    transaction_id: str | None = None
    samples: tuple[MeterSample, ...] = ()
    register_wh: float | None = None  # latest energy register reading
    end: TransactionEnd | None = None
    active_on_evse: int | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """The transaction after the update; ``duplicate``: the key was seen before, so nothing
    was written and ``transaction`` is what the first delivery left."""

    transaction: TransactionRecord | None
    duplicate: bool


class StoreError(InternalError):
    """The store cannot do what was asked (bad location, schema from the future, I/O)."""
