"""The persistence contract of the CSMS; SQLite and PostgreSQL implement it.

Every method is a coroutine that never blocks the event loop. Writes are durable when
the awaited call returns, except :meth:`Store.log_message`, which is write-behind (the
message log is the hottest table): it queues the entry and :meth:`Store.flush` waits
until every queued entry is committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from ocppnet.store.records import (
    Applied,
    ConnectorRecord,
    IdTokenRecord,
    MessageKey,
    MessageLogEntry,
    MeterSample,
    NewTransaction,
    StationBoot,
    StationEvent,
    StationRecord,
    TransactionEnd,
    TransactionRecord,
    TransactionUpdate,
)


@runtime_checkable
class Store(Protocol):
    async def open(self) -> None:
        """Connect and bring the schema to the current version (idempotent)."""

    async def close(self) -> None:
        """Commit what is queued and release the connection."""

    async def schema_version(self) -> int: ...

    # --- stations ---
    async def record_boot(self, boot: StationBoot) -> None:
        """Insert or update the station from its BootNotification; marks it connected."""

    async def set_connected(
        self, station_id: str, connected: bool, at: datetime, path: Sequence[str] = ()
    ) -> None: ...

    async def touch_station(self, station_id: str, at: datetime) -> None:
        """Update last_seen (creating a bare station row if it never booted)."""

    def note_seen(self, station_id: str, at: datetime) -> None:
        """:meth:`touch_station`, write-behind like the message log (queued, committed with
        the next batch; never blocks): for a Heartbeat, whose answer waits for nothing."""

    async def get_station(self, station_id: str) -> StationRecord | None: ...

    async def list_stations(self) -> list[StationRecord]: ...

    # --- connectors / EVSEs ---
    async def set_connector_status(self, record: ConnectorRecord) -> None: ...

    async def list_connectors(self, station_id: str) -> list[ConnectorRecord]: ...

    # --- transactions ---
    async def start_transaction(self, tx: NewTransaction) -> TransactionRecord:
        """Insert a transaction; if (station, transaction_id) exists, return it unchanged."""

    async def get_transaction(
        self, station_id: str, transaction_id: str
    ) -> TransactionRecord | None: ...

    async def update_energy(
        self, station_id: str, transaction_id: str, meter_value: float
    ) -> TransactionRecord | None:
        """Record the latest energy register reading (Wh); sets meter_start if absent."""

    async def end_transaction(
        self, station_id: str, transaction_id: str, end: TransactionEnd
    ) -> TransactionRecord | None: ...

    async def find_transactions(self, transaction_id: str) -> list[TransactionRecord]:
        """The transactions with this id, any station (ids are unique per station only)."""

    async def list_transactions(
        self, station_id: str | None = None, *, active_only: bool = False
    ) -> list[TransactionRecord]: ...

    async def apply_once(
        self, key: MessageKey, update: TransactionUpdate, at: datetime
    ) -> Applied:
        """Apply ``update`` (start/find the transaction, add samples, energy, end) in one
        transaction, unless ``key`` was applied before: then write nothing and return the
        first delivery's transaction with ``duplicate=True`` (exactly-once storage)."""

    async def add_station_event_once(
        self, key: MessageKey, event: StationEvent, at: datetime
    ) -> bool:
        """Store ``event`` unless ``key`` was stored before (True: stored now)."""

    # --- meter values ---
    async def add_meter_samples(self, samples: Sequence[MeterSample]) -> None: ...

    async def list_meter_samples(self, transaction_key: int) -> list[MeterSample]: ...

    # --- id tokens ---
    async def put_id_token(self, token: IdTokenRecord) -> None: ...

    async def get_id_token(self, token: str) -> IdTokenRecord | None: ...

    # --- message log and station events ---
    def log_message(self, entry: MessageLogEntry) -> None:
        """Queue a message-log entry (write-behind, batched); never blocks."""

    async def flush(self) -> None:
        """Wait until every queued write is committed."""

    async def list_messages(
        self,
        station_id: str | None = None,
        *,
        limit: int = 100,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[MessageLogEntry]:
        """Most recent first; filtered by station, action and time (``since`` <= at <
        ``until``) when given."""

    async def add_station_event(self, event: StationEvent) -> None: ...

    async def list_station_events(
        self, station_id: str, kind: str | None = None
    ) -> list[StationEvent]: ...
