"""Schema migrations, shared by every SQL store: migration N brings the schema from
version N-1 to N. The ``schema_version`` table holds the applied version; migrations are
only ever appended, never edited, so an old database file upgrades in place.

The SQL sticks to the subset SQLite and PostgreSQL share (TEXT times in ISO 8601 UTC,
INTEGER booleans); the only dialect difference, the auto-increment key, is a placeholder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ocppnet.store.records import StoreError

AUTO_KEY = "{auto_key}"  # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT; PostgreSQL: BIGSERIAL ...

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: initial schema
    (
        """CREATE TABLE stations (
            id TEXT PRIMARY KEY,
            vendor TEXT, model TEXT, serial_number TEXT, firmware TEXT,
            ocpp_version TEXT, boot_status TEXT, boot_reason TEXT,
            last_seen TEXT,
            connected INTEGER NOT NULL DEFAULT 0,
            via_path TEXT NOT NULL DEFAULT '[]')""",
        """CREATE TABLE connectors (
            station_id TEXT NOT NULL,
            evse_id INTEGER NOT NULL,
            connector_id INTEGER NOT NULL,
            status TEXT NOT NULL,
            error_code TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (station_id, evse_id, connector_id))""",
        f"""CREATE TABLE transactions (
            key {AUTO_KEY},
            station_id TEXT NOT NULL,
            transaction_id TEXT,
            evse_id INTEGER, connector_id INTEGER,
            id_token TEXT,
            started_at TEXT NOT NULL, stopped_at TEXT,
            meter_start DOUBLE PRECISION, meter_stop DOUBLE PRECISION,
            energy_wh DOUBLE PRECISION,
            stop_reason TEXT,
            state TEXT NOT NULL DEFAULT 'active',
            remote_start_id INTEGER,
            UNIQUE (station_id, transaction_id))""",
        "CREATE INDEX transactions_state ON transactions (state)",
        f"""CREATE TABLE meter_values (
            id {AUTO_KEY},
            transaction_key BIGINT,
            station_id TEXT NOT NULL,
            evse_id INTEGER,
            timestamp TEXT NOT NULL,
            measurand TEXT NOT NULL,
            value DOUBLE PRECISION,
            unit TEXT, context TEXT, phase TEXT, location TEXT,
            signed_data TEXT)""",
        "CREATE INDEX meter_values_tx ON meter_values (transaction_key)",
        """CREATE TABLE id_tokens (
            token TEXT PRIMARY KEY,
            type TEXT,
            status TEXT NOT NULL,
            expiry TEXT)""",
        f"""CREATE TABLE message_log (
            id {AUTO_KEY},
            at TEXT NOT NULL,
            station_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            message_type INTEGER NOT NULL,
            action TEXT,
            message_id TEXT NOT NULL,
            path TEXT NOT NULL,
            signature TEXT,
            payload_size INTEGER NOT NULL)""",
        "CREATE INDEX message_log_station ON message_log (station_id, id)",
        f"""CREATE TABLE station_events (
            id {AUTO_KEY},
            station_id TEXT NOT NULL,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL)""",
        "CREATE INDEX station_events_station ON station_events (station_id, kind)",
    ),
    # 2: exactly-once storage of station messages delivered more than once (store/once.py)
    (
        """CREATE TABLE received_messages (
            station_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            natural_key TEXT NOT NULL,
            transaction_key BIGINT,
            at TEXT NOT NULL,
            PRIMARY KEY (station_id, kind, natural_key))""",
    ),
    # 3: calibration law: signed meter readings (exact text + verdict) and meter keys
    (
        f"""CREATE TABLE signed_readings (
            id {AUTO_KEY},
            station_id TEXT NOT NULL,
            transaction_key BIGINT,
            transaction_id TEXT,
            evse_id INTEGER,
            context TEXT,
            received_at TEXT NOT NULL,
            encoding TEXT NOT NULL,
            signed_data TEXT NOT NULL,
            digest TEXT NOT NULL,
            public_key TEXT,
            valid INTEGER NOT NULL,
            reason TEXT NOT NULL,
            signed_wh DOUBLE PRECISION,
            unsigned_wh DOUBLE PRECISION,
            matches INTEGER,
            UNIQUE (station_id, digest))""",
        "CREATE INDEX signed_readings_tx ON signed_readings (transaction_key)",
        """CREATE TABLE meter_keys (
            station_id TEXT NOT NULL,
            meter_serial TEXT NOT NULL,
            public_key TEXT NOT NULL,
            origin TEXT NOT NULL,
            pinned_at TEXT NOT NULL,
            PRIMARY KEY (station_id, meter_serial))""",
    ),
)

LATEST_VERSION = len(MIGRATIONS)


def migration_sql(version: int, auto_key: str) -> tuple[str, ...]:
    """The statements of migration ``version`` (1-based) for a dialect's auto-key column."""
    return tuple(stmt.replace(AUTO_KEY, auto_key) for stmt in MIGRATIONS[version - 1])


class _Session(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


def applied_version(db: _Session) -> int:
    """The schema version recorded in the database (0 for a fresh one)."""
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    rows = db.execute("SELECT MAX(version) FROM schema_version")
    return int(rows[0][0] or 0) if rows else 0


def migrate(db: _Session, auto_key: str, *, lock: str | None = None) -> int:
    """Apply the pending migrations, inside the caller's transaction; returns the version.

    ``lock`` is a statement run first that serialises concurrent migrations until the
    transaction ends (PostgreSQL: an advisory lock), so that several processes starting at
    once on a fresh database do not race in the first migration. Refuses a database written
    by a newer ocppnet rather than guessing at its schema.
    """
    if lock is not None:
        db.execute(lock)
    version = applied_version(db)
    if version > LATEST_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this ocppnet ({LATEST_VERSION})"
        )
    for v in range(version + 1, LATEST_VERSION + 1):
        for stmt in migration_sql(v, auto_key):
            db.execute(stmt)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (v,))
    return LATEST_VERSION
