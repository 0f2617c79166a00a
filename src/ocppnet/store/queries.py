"""The store's operations as blocking functions over one SQL session, shared by the SQL
dialects (SQLite, PostgreSQL): each takes a :class:`SqlSession` and values, and is run
by the store's writer thread inside a transaction. SQL uses ``?`` placeholders; a
dialect that wants another style translates them in its session.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

import orjson

from ocppnet.rpc.timestamps import format_timestamp, parse_timestamp
from ocppnet.store.records import (
    ConnectorRecord,
    IdTokenRecord,
    MessageLogEntry,
    MeterSample,
    NewTransaction,
    StationBoot,
    StationEvent,
    StationRecord,
    TransactionEnd,
    TransactionRecord,
    TransactionState,
)

Row = tuple[Any, ...]


class SqlSession(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


# --- value conversions ---


def time_text(at: datetime) -> str:
    """Fixed-width ISO 8601 UTC, so text order is time order (naive times count as UTC)."""
    if at.tzinfo is UTC and at.microsecond:  # most rows: isoformat() is then fixed-width
        return at.isoformat()[:-6] + "Z"
    return format_timestamp(at, "microseconds")


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)


def _path_text(path: Sequence[str]) -> str:
    if not path:  # a station connected directly: most rows
        return "[]"
    return orjson.dumps(list(path)).decode()


def _path(text: str) -> tuple[str, ...]:
    return tuple(cast(list[str], orjson.loads(text)))


# --- stations ---

_STATION_COLS = (
    "id, vendor, model, serial_number, firmware, ocpp_version, boot_status, boot_reason,"
    " last_seen, connected, via_path"
)


def _station(row: Row) -> StationRecord:
    return StationRecord(
        station_id=row[0],
        vendor=row[1],
        model=row[2],
        serial_number=row[3],
        firmware=row[4],
        ocpp_version=row[5],
        boot_status=row[6],
        boot_reason=row[7],
        last_seen=parse_time(row[8]),
        connected=bool(row[9]),
        path=_path(row[10]),
    )


def record_boot(db: SqlSession, boot: StationBoot) -> None:
    db.execute(
        f"INSERT INTO stations ({_STATION_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
        " ON CONFLICT (id) DO UPDATE SET vendor = excluded.vendor, model = excluded.model,"
        " serial_number = excluded.serial_number, firmware = excluded.firmware,"
        " ocpp_version = excluded.ocpp_version, boot_status = excluded.boot_status,"
        " boot_reason = excluded.boot_reason, last_seen = excluded.last_seen,"
        " connected = 1, via_path = excluded.via_path",
        (
            boot.station_id,
            boot.vendor,
            boot.model,
            boot.serial_number,
            boot.firmware,
            boot.ocpp_version,
            boot.boot_status,
            boot.boot_reason,
            time_text(boot.at),
            _path_text(boot.path),
        ),
    )


def set_connected(
    db: SqlSession, station_id: str, connected: bool, at: datetime, path: Sequence[str]
) -> None:
    db.execute(
        "INSERT INTO stations (id, last_seen, connected, via_path) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen,"
        " connected = excluded.connected, via_path = excluded.via_path",
        (station_id, time_text(at), int(connected), _path_text(path)),
    )


def touch_station(db: SqlSession, station_id: str, at: datetime) -> None:
    db.execute(
        "INSERT INTO stations (id, last_seen) VALUES (?, ?)"
        " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
        (station_id, time_text(at)),
    )


def touch_stations(db: SqlSession, seen: Sequence[tuple[str, datetime]]) -> None:
    """:func:`touch_station` for many (station, time) pairs, in order (the last one wins)."""
    db.executemany(
        "INSERT INTO stations (id, last_seen) VALUES (?, ?)"
        " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
        [(station_id, time_text(at)) for station_id, at in seen],
    )


def get_station(db: SqlSession, station_id: str) -> StationRecord | None:
    rows = db.execute(f"SELECT {_STATION_COLS} FROM stations WHERE id = ?", (station_id,))
    return _station(rows[0]) if rows else None


def list_stations(db: SqlSession) -> list[StationRecord]:
    return [_station(r) for r in db.execute(f"SELECT {_STATION_COLS} FROM stations ORDER BY id")]


# --- connectors ---


def set_connector_status(db: SqlSession, c: ConnectorRecord) -> None:
    db.execute(
        "INSERT INTO connectors (station_id, evse_id, connector_id, status, error_code,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (station_id, evse_id, connector_id)"
        " DO UPDATE SET status = excluded.status, error_code = excluded.error_code,"
        " updated_at = excluded.updated_at",
        (c.station_id, c.evse_id, c.connector_id, c.status, c.error_code, time_text(c.updated_at)),
    )


def list_connectors(db: SqlSession, station_id: str) -> list[ConnectorRecord]:
    rows = db.execute(
        "SELECT station_id, evse_id, connector_id, status, updated_at, error_code"
        " FROM connectors WHERE station_id = ? ORDER BY evse_id, connector_id",
        (station_id,),
    )
    return [
        ConnectorRecord(r[0], r[1], r[2], r[3], cast(datetime, parse_time(r[4])), r[5])
        for r in rows
    ]


# --- transactions ---

_TX_COLS = (
    "key, station_id, transaction_id, evse_id, connector_id, id_token, started_at, stopped_at,"
    " meter_start, meter_stop, energy_wh, stop_reason, state, remote_start_id"
)


def _transaction(row: Row) -> TransactionRecord:
    return TransactionRecord(
        key=row[0],
        station_id=row[1],
        transaction_id=row[2],
        evse_id=row[3],
        connector_id=row[4],
        id_token=row[5],
        started_at=cast(datetime, parse_time(row[6])),
        stopped_at=parse_time(row[7]),
        meter_start=row[8],
        meter_stop=row[9],
        energy_wh=row[10],
        stop_reason=row[11],
        state=cast(TransactionState, row[12]),
        remote_start_id=row[13],
    )


def get_transaction(
    db: SqlSession, station_id: str, transaction_id: str
) -> TransactionRecord | None:
    rows = db.execute(
        f"SELECT {_TX_COLS} FROM transactions WHERE station_id = ? AND transaction_id = ?",
        (station_id, transaction_id),
    )
    return _transaction(rows[0]) if rows else None


def active_transaction(db: SqlSession, station_id: str, evse_id: int) -> TransactionRecord | None:
    """The station's latest active transaction on ``evse_id``, if any."""
    rows = db.execute(
        f"SELECT {_TX_COLS} FROM transactions WHERE station_id = ? AND state = 'active'"
        " AND evse_id = ? ORDER BY key DESC LIMIT 1",
        (station_id, evse_id),
    )
    return _transaction(rows[0]) if rows else None


def transaction_by_key(db: SqlSession, key: int) -> TransactionRecord | None:
    rows = db.execute(f"SELECT {_TX_COLS} FROM transactions WHERE key = ?", (key,))
    return _transaction(rows[0]) if rows else None


def start_transaction(db: SqlSession, tx: NewTransaction) -> TransactionRecord:
    if tx.transaction_id is not None:
        existing = get_transaction(db, tx.station_id, tx.transaction_id)
        if existing is not None:
            return existing
    rows = db.execute(
        "INSERT INTO transactions (station_id, transaction_id, evse_id, connector_id, id_token,"
        " started_at, meter_start, energy_wh, state, remote_start_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?) RETURNING key",
        (
            tx.station_id,
            tx.transaction_id,
            tx.evse_id,
            tx.connector_id,
            tx.id_token,
            time_text(tx.started_at),
            tx.meter_start,
            0.0 if tx.meter_start is not None else None,
            tx.remote_start_id,
        ),
    )
    key = rows[0][0]
    if tx.transaction_id is None:
        db.execute("UPDATE transactions SET transaction_id = ? WHERE key = ?", (str(key), key))
    return _transaction(db.execute(f"SELECT {_TX_COLS} FROM transactions WHERE key = ?", (key,))[0])


def update_energy(
    db: SqlSession, station_id: str, transaction_id: str, meter_value: float
) -> TransactionRecord | None:
    tx = get_transaction(db, station_id, transaction_id)
    if tx is None:
        return None
    start = tx.meter_start if tx.meter_start is not None else meter_value
    db.execute(
        "UPDATE transactions SET meter_start = ?, energy_wh = ? WHERE key = ?",
        (start, meter_value - start, tx.key),
    )
    return get_transaction(db, station_id, transaction_id)


def end_transaction(
    db: SqlSession, station_id: str, transaction_id: str, end: TransactionEnd
) -> TransactionRecord | None:
    tx = get_transaction(db, station_id, transaction_id)
    if tx is None:
        return None
    energy = end.energy_wh
    if energy is None and end.meter_stop is not None and tx.meter_start is not None:
        energy = end.meter_stop - tx.meter_start
    if energy is None:
        energy = tx.energy_wh
    db.execute(
        "UPDATE transactions SET state = 'ended', stopped_at = ?, meter_stop = ?, energy_wh = ?,"
        " stop_reason = ?, id_token = COALESCE(id_token, ?) WHERE key = ?",
        (time_text(end.stopped_at), end.meter_stop, energy, end.stop_reason, end.id_token, tx.key),
    )
    return get_transaction(db, station_id, transaction_id)


def find_transactions(db: SqlSession, transaction_id: str) -> list[TransactionRecord]:
    """Every station's transaction with this id (ids are unique per station only)."""
    rows = db.execute(
        f"SELECT {_TX_COLS} FROM transactions WHERE transaction_id = ? ORDER BY key",
        (transaction_id,),
    )
    return [_transaction(r) for r in rows]


def list_transactions(
    db: SqlSession, station_id: str | None, active_only: bool
) -> list[TransactionRecord]:
    where: list[str] = []
    params: list[Any] = []
    if station_id is not None:
        where.append("station_id = ?")
        params.append(station_id)
    if active_only:
        where.append("state = 'active'")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = db.execute(f"SELECT {_TX_COLS} FROM transactions{clause} ORDER BY key", params)
    return [_transaction(r) for r in rows]


# --- meter values ---

_MV_COLS = (
    "station_id, timestamp, value, measurand, unit, context, phase, location, evse_id,"
    " transaction_key, signed_data"
)


def add_meter_samples(db: SqlSession, samples: Sequence[MeterSample]) -> None:
    times: dict[datetime, str] = {}  # the samples of one reading share its timestamp
    db.executemany(
        f"INSERT INTO meter_values ({_MV_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.station_id,
                times.get(s.timestamp) or times.setdefault(s.timestamp, time_text(s.timestamp)),
                s.value,
                s.measurand,
                s.unit,
                s.context,
                s.phase,
                s.location,
                s.evse_id,
                s.transaction_key,
                None if s.signed_data is None else orjson.dumps(s.signed_data).decode(),
            )
            for s in samples
        ],
    )


def list_meter_samples(db: SqlSession, transaction_key: int) -> list[MeterSample]:
    rows = db.execute(
        f"SELECT {_MV_COLS} FROM meter_values WHERE transaction_key = ? ORDER BY id",
        (transaction_key,),
    )
    return [
        MeterSample(
            station_id=r[0],
            timestamp=cast(datetime, parse_time(r[1])),
            value=r[2],
            measurand=r[3],
            unit=r[4],
            context=r[5],
            phase=r[6],
            location=r[7],
            evse_id=r[8],
            transaction_key=r[9],
            signed_data=None if r[10] is None else orjson.loads(r[10]),
        )
        for r in rows
    ]


# --- id tokens ---


def put_id_token(db: SqlSession, t: IdTokenRecord) -> None:
    db.execute(
        "INSERT INTO id_tokens (token, type, status, expiry) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (token) DO UPDATE SET type = excluded.type, status = excluded.status,"
        " expiry = excluded.expiry",
        (t.token, t.type, t.status, None if t.expiry is None else time_text(t.expiry)),
    )


def get_id_token(db: SqlSession, token: str) -> IdTokenRecord | None:
    rows = db.execute("SELECT token, status, type, expiry FROM id_tokens WHERE token = ?", (token,))
    if not rows:
        return None
    r = rows[0]
    return IdTokenRecord(token=r[0], status=r[1], type=r[2], expiry=parse_time(r[3]))


# --- message log ---

_LOG_COLS = (
    "at, station_id, direction, message_type, message_id, action, path, signature, payload_size"
)


def log_messages(db: SqlSession, entries: Sequence[MessageLogEntry]) -> None:
    db.executemany(
        f"INSERT INTO message_log ({_LOG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                time_text(e.at),
                e.station_id,
                e.direction,
                e.message_type,
                e.message_id,
                e.action,
                _path_text(e.path),
                e.signature,
                e.payload_size,
            )
            for e in entries
        ],
    )


def list_messages(
    db: SqlSession,
    station_id: str | None,
    limit: int,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[MessageLogEntry]:
    """Most recent first; each filter given narrows (``since`` inclusive, ``until`` not)."""
    where: list[str] = []
    params: list[Any] = []
    for clause, value in (("station_id = ?", station_id), ("action = ?", action),
                          ("at >= ?", None if since is None else time_text(since)),
                          ("at < ?", None if until is None else time_text(until))):
        if value is not None:
            where.append(clause)
            params.append(value)
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    rows = db.execute(
        f"SELECT {_LOG_COLS} FROM message_log{condition} ORDER BY id DESC LIMIT ?",
        (*params, limit),
    )
    return [
        MessageLogEntry(
            at=cast(datetime, parse_time(r[0])),
            station_id=r[1],
            direction=r[2],
            message_type=r[3],
            message_id=r[4],
            action=r[5],
            path=_path(r[6]),
            signature=r[7],
            payload_size=r[8],
        )
        for r in rows
    ]


# --- station events ---


def add_station_event(db: SqlSession, e: StationEvent) -> None:
    db.execute(
        "INSERT INTO station_events (station_id, at, kind, data) VALUES (?, ?, ?, ?)",
        (e.station_id, time_text(e.at), e.kind, orjson.dumps(e.data).decode()),
    )


def list_station_events(db: SqlSession, station_id: str, kind: str | None) -> list[StationEvent]:
    if kind is None:
        rows = db.execute(
            "SELECT station_id, at, kind, data FROM station_events WHERE station_id = ?"
            " ORDER BY id",
            (station_id,),
        )
    else:
        rows = db.execute(
            "SELECT station_id, at, kind, data FROM station_events"
            " WHERE station_id = ? AND kind = ? ORDER BY id",
            (station_id, kind),
        )
    return [
        StationEvent(r[0], cast(datetime, parse_time(r[1])), r[2], orjson.loads(r[3]))
        for r in rows
    ]
