"""Storage for the calibration law: each signed meter reading as received, with its verdict,
and the meter keys the CSMS pinned or was given.

``signed_data`` is the exact OCMF text (what the signature covers), never re-serialized;
``digest`` (SHA-256 of it) makes a reading that arrives twice (OCPP 1.6 repeats the begin
reading in StopTransaction) one row. :class:`SignedReadingStore` is what
:class:`~ocppnet.store.sql_store.SqlStore` adds to the :class:`~ocppnet.store.Store`
contract; the query functions run on the store's worker like those of :mod:`.queries`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast, runtime_checkable

from ocppnet.store.queries import SqlSession, parse_time, time_text

__all__ = [
    "MeterKeyRecord",
    "SignedReadingRecord",
    "SignedReadingStore",
    "add_signed_reading",
    "get_meter_key",
    "list_signed_readings",
    "pin_meter_key",
]


@dataclass(frozen=True, slots=True)
class SignedReadingRecord:
    """One signed reading: where it came from, the exact signed text, the CSMS's verdict."""

    station_id: str
    received_at: datetime
    signed_data: str
    encoding: str               # how it travelled: base64, plain or hex
    valid: bool
    reason: str
    transaction_key: int | None = None
    transaction_id: str | None = None
    evse_id: int | None = None
    context: str | None = None  # OCPP ReadingContext: Transaction.Begin, Transaction.End, ...
    public_key: str | None = None  # hex DER of the key it was checked with
    signed_wh: float | None = None
    unsigned_wh: float | None = None
    matches: bool | None = None  # signed == unsigned within the tolerance; None: no unsigned
    id: int | None = None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.signed_data.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class MeterKeyRecord:
    station_id: str
    meter_serial: str
    public_key: str  # hex DER
    origin: str      # "pinned" (first seen) or "trusted" (configured)
    pinned_at: datetime


@runtime_checkable
class SignedReadingStore(Protocol):
    async def add_signed_reading(self, reading: SignedReadingRecord) -> bool:
        """Store a reading; False when the same signed text of the station is already there."""

    async def list_signed_readings(self, transaction_key: int) -> list[SignedReadingRecord]:
        """A transaction's readings, oldest first."""

    async def get_meter_key(self, station_id: str, meter_serial: str) -> MeterKeyRecord | None:
        ...

    async def pin_meter_key(self, key: MeterKeyRecord) -> MeterKeyRecord:
        """Store the key unless one is known for the meter; returns the key in force."""


_COLS = ("station_id, transaction_key, transaction_id, evse_id, context, received_at, encoding,"
         " signed_data, digest, public_key, valid, reason, signed_wh, unsigned_wh, matches, id")


def add_signed_reading(db: SqlSession, reading: SignedReadingRecord) -> bool:
    known = db.execute("SELECT id FROM signed_readings WHERE station_id = ? AND digest = ?",
                       (reading.station_id, reading.digest))
    if known:
        return False
    db.execute(
        f"INSERT INTO signed_readings ({_COLS.removesuffix(', id')}) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (reading.station_id, reading.transaction_key, reading.transaction_id, reading.evse_id,
         reading.context, time_text(reading.received_at), reading.encoding, reading.signed_data,
         reading.digest, reading.public_key, int(reading.valid), reading.reason,
         reading.signed_wh, reading.unsigned_wh,
         None if reading.matches is None else int(reading.matches)))
    return True


def list_signed_readings(db: SqlSession, transaction_key: int) -> list[SignedReadingRecord]:
    rows = db.execute(f"SELECT {_COLS} FROM signed_readings WHERE transaction_key = ? "
                      "ORDER BY id", (transaction_key,))
    return [SignedReadingRecord(
        station_id=r[0], transaction_key=r[1], transaction_id=r[2], evse_id=r[3], context=r[4],
        received_at=cast(datetime, parse_time(r[5])), encoding=r[6], signed_data=r[7],
        public_key=r[9], valid=bool(r[10]), reason=r[11], signed_wh=r[12], unsigned_wh=r[13],
        matches=None if r[14] is None else bool(r[14]), id=r[15]) for r in rows]


def get_meter_key(db: SqlSession, station_id: str, meter_serial: str) -> MeterKeyRecord | None:
    rows = db.execute("SELECT station_id, meter_serial, public_key, origin, pinned_at "
                      "FROM meter_keys WHERE station_id = ? AND meter_serial = ?",
                      (station_id, meter_serial))
    if not rows:
        return None
    r = rows[0]
    return MeterKeyRecord(r[0], r[1], r[2], r[3], cast(datetime, parse_time(r[4])))


def pin_meter_key(db: SqlSession, key: MeterKeyRecord) -> MeterKeyRecord:
    known = get_meter_key(db, key.station_id, key.meter_serial)
    if known is not None:
        return known
    db.execute("INSERT INTO meter_keys (station_id, meter_serial, public_key, origin, pinned_at)"
               " VALUES (?, ?, ?, ?, ?)", (key.station_id, key.meter_serial, key.public_key,
                                           key.origin, time_text(key.pinned_at)))
    return key
