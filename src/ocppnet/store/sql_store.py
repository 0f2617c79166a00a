"""The :class:`~ocppnet.store.interface.Store` implementation over any SQL session:
each method submits one function of :mod:`ocppnet.store.queries` to the session worker.
The dialects (SQLite, PostgreSQL) only say how to connect and which worker runs the jobs
(PostgreSQL: a thread, :mod:`.worker`; SQLite: the event loop, :mod:`.loop_worker`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from types import TracebackType

from ocppnet.store import migrations, once, queries, signed_readings
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
from ocppnet.store.signed_readings import MeterKeyRecord, SignedReadingRecord
from ocppnet.store.worker import JobRunner, SessionWorker, TransactionalSession


class SqlStore:
    """A store backed by one SQL session with group commit: on its own thread (see
    :mod:`.worker`) unless ``worker`` says otherwise."""

    def __init__(
        self, connect: Callable[[], TransactionalSession], *, auto_key: str, name: str,
        worker: JobRunner[TransactionalSession] | None = None,
    ) -> None:
        self._worker: JobRunner[TransactionalSession] = \
            worker if worker is not None else SessionWorker(connect, name)
        self._auto_key = auto_key
        self.name = name

    migration_lock: str | None = None
    """A statement that serialises concurrent migrations (see ``migrations.migrate``)."""

    async def open(self) -> None:
        await self._worker.start()
        await self._worker.run(partial(migrations.migrate, auto_key=self._auto_key,
                                       lock=self.migration_lock))

    async def close(self) -> None:
        await self._worker.stop()

    async def __aenter__(self) -> SqlStore:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def batches(self) -> int:
        """Transactions committed so far (for benchmarks: jobs / batches = batching)."""
        return self._worker.batches

    async def schema_version(self) -> int:
        return await self._worker.run(migrations.applied_version)

    # --- stations ---
    async def record_boot(self, boot: StationBoot) -> None:
        await self._worker.run(partial(queries.record_boot, boot=boot))

    async def set_connected(
        self, station_id: str, connected: bool, at: datetime, path: Sequence[str] = ()
    ) -> None:
        await self._worker.run(
            partial(queries.set_connected, station_id=station_id, connected=connected, at=at,
                    path=tuple(path))
        )

    async def touch_station(self, station_id: str, at: datetime) -> None:
        await self._worker.run(partial(queries.touch_station, station_id=station_id, at=at))

    def note_seen(self, station_id: str, at: datetime) -> None:
        self._worker.put_row(queries.touch_stations, (station_id, at))

    async def get_station(self, station_id: str) -> StationRecord | None:
        return await self._worker.run(partial(queries.get_station, station_id=station_id))

    async def list_stations(self) -> list[StationRecord]:
        return await self._worker.run(queries.list_stations)

    # --- connectors ---
    async def set_connector_status(self, record: ConnectorRecord) -> None:
        await self._worker.run(partial(queries.set_connector_status, c=record))

    async def list_connectors(self, station_id: str) -> list[ConnectorRecord]:
        return await self._worker.run(partial(queries.list_connectors, station_id=station_id))

    # --- transactions ---
    async def start_transaction(self, tx: NewTransaction) -> TransactionRecord:
        return await self._worker.run(partial(queries.start_transaction, tx=tx))

    async def get_transaction(
        self, station_id: str, transaction_id: str
    ) -> TransactionRecord | None:
        return await self._worker.run(
            partial(queries.get_transaction, station_id=station_id, transaction_id=transaction_id)
        )

    async def update_energy(
        self, station_id: str, transaction_id: str, meter_value: float
    ) -> TransactionRecord | None:
        return await self._worker.run(
            partial(queries.update_energy, station_id=station_id,
                    transaction_id=transaction_id, meter_value=meter_value)
        )

    async def end_transaction(
        self, station_id: str, transaction_id: str, end: TransactionEnd
    ) -> TransactionRecord | None:
        return await self._worker.run(
            partial(queries.end_transaction, station_id=station_id,
                    transaction_id=transaction_id, end=end)
        )

    async def find_transactions(self, transaction_id: str) -> list[TransactionRecord]:
        return await self._worker.run(
            partial(queries.find_transactions, transaction_id=transaction_id)
        )

    async def list_transactions(
        self, station_id: str | None = None, *, active_only: bool = False
    ) -> list[TransactionRecord]:
        return await self._worker.run(
            partial(queries.list_transactions, station_id=station_id, active_only=active_only)
        )

    async def apply_once(
        self, key: MessageKey, update: TransactionUpdate, at: datetime
    ) -> Applied:
        return await self._worker.run(partial(once.apply_once, key=key, update=update, at=at))

    async def add_station_event_once(
        self, key: MessageKey, event: StationEvent, at: datetime
    ) -> bool:
        return await self._worker.run(
            partial(once.add_event_once, key=key, event=event, at=at))

    # --- meter values ---
    async def add_meter_samples(self, samples: Sequence[MeterSample]) -> None:
        if samples:
            await self._worker.run(partial(queries.add_meter_samples, samples=tuple(samples)))

    async def list_meter_samples(self, transaction_key: int) -> list[MeterSample]:
        return await self._worker.run(
            partial(queries.list_meter_samples, transaction_key=transaction_key)
        )

    # --- id tokens ---
    async def put_id_token(self, token: IdTokenRecord) -> None:
        await self._worker.run(partial(queries.put_id_token, t=token))

    async def get_id_token(self, token: str) -> IdTokenRecord | None:
        return await self._worker.run(partial(queries.get_id_token, token=token))

    # --- message log and station events ---
    def log_message(self, entry: MessageLogEntry) -> None:
        self._worker.put_row(queries.log_messages, entry)

    async def flush(self) -> None:
        await self._worker.run(_nothing)

    async def list_messages(
        self,
        station_id: str | None = None,
        *,
        limit: int = 100,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[MessageLogEntry]:
        return await self._worker.run(
            partial(queries.list_messages, station_id=station_id, limit=limit, action=action,
                    since=since, until=until)
        )

    async def add_station_event(self, event: StationEvent) -> None:
        await self._worker.run(partial(queries.add_station_event, e=event))

    async def list_station_events(
        self, station_id: str, kind: str | None = None
    ) -> list[StationEvent]:
        return await self._worker.run(
            partial(queries.list_station_events, station_id=station_id, kind=kind)
        )

    # --- signed meter readings (calibration law; see store/signed_readings.py) ---
    async def add_signed_reading(self, reading: SignedReadingRecord) -> bool:
        return await self._worker.run(
            partial(signed_readings.add_signed_reading, reading=reading))

    async def list_signed_readings(self, transaction_key: int) -> list[SignedReadingRecord]:
        return await self._worker.run(
            partial(signed_readings.list_signed_readings, transaction_key=transaction_key))

    async def get_meter_key(self, station_id: str, meter_serial: str) -> MeterKeyRecord | None:
        return await self._worker.run(partial(signed_readings.get_meter_key,
                                              station_id=station_id, meter_serial=meter_serial))

    async def pin_meter_key(self, key: MeterKeyRecord) -> MeterKeyRecord:
        return await self._worker.run(partial(signed_readings.pin_meter_key, key=key))


def _nothing(session: TransactionalSession) -> None:
    """A job that only waits for its batch: everything queued before it is committed."""
