"""Exactly-once storage of what stations report, over at-least-once delivery.

A node that crashes mid-drain, or a station that repeats a request after losing the answer,
delivers a message again. :func:`apply_once` claims the message's natural key in
``received_messages`` and writes its effect in the same transaction (one worker job, one
savepoint), so either both are stored or neither is; a key already claimed writes nothing
and returns what the first delivery left (the same transaction, hence the same answer).
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` makes the claim safe also when several CSMS
processes share one PostgreSQL database (the second waits for the first to commit).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from ocppnet.store import queries
from ocppnet.store.queries import SqlSession, time_text
from ocppnet.store.records import (
    Applied,
    MessageKey,
    StationEvent,
    TransactionRecord,
    TransactionUpdate,
)


def claim(db: SqlSession, key: MessageKey, at: datetime) -> bool:
    """True if ``key`` was not seen before (and is now taken)."""
    rows = db.execute(
        "INSERT INTO received_messages (station_id, kind, natural_key, at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (station_id, kind, natural_key) DO NOTHING RETURNING station_id",
        (key.station_id, key.kind, key.key, time_text(at)),
    )
    return bool(rows)


def _first_result(db: SqlSession, key: MessageKey) -> TransactionRecord | None:
    rows = db.execute(
        "SELECT transaction_key FROM received_messages"
        " WHERE station_id = ? AND kind = ? AND natural_key = ?",
        (key.station_id, key.kind, key.key),
    )
    tx_key = rows[0][0] if rows else None
    return None if tx_key is None else queries.transaction_by_key(db, tx_key)


def add_event_once(db: SqlSession, key: MessageKey, event: StationEvent,
                   at: datetime) -> bool:
    """Store ``event`` unless ``key`` was stored before; True if it was stored now."""
    if not claim(db, key, at):
        return False
    queries.add_station_event(db, event)
    return True


def apply_once(db: SqlSession, key: MessageKey, update: TransactionUpdate,
               at: datetime) -> Applied:
    """Write ``update`` unless ``key`` was applied before; see the module docstring."""
    if not claim(db, key, at):
        return Applied(_first_result(db, key), duplicate=True)
    tx: TransactionRecord | None = None
    if update.new is not None:
        tx = queries.start_transaction(db, update.new)
    elif update.transaction_id is not None:
        tx = queries.get_transaction(db, update.station_id, update.transaction_id)
    elif update.active_on_evse is not None:
        tx = queries.active_transaction(db, update.station_id, update.active_on_evse)
    if update.samples:
        samples = update.samples
        if tx is not None:
            samples = tuple(dataclasses.replace(
                s, transaction_key=tx.key,
                evse_id=s.evse_id if s.evse_id is not None else tx.evse_id) for s in samples)
        queries.add_meter_samples(db, samples)
    if tx is not None and update.register_wh is not None:
        tx = queries.update_energy(db, tx.station_id, tx.transaction_id, update.register_wh)
    if tx is not None and update.end is not None:
        tx = queries.end_transaction(db, tx.station_id, tx.transaction_id, update.end)
    if tx is not None:
        db.execute(
            "UPDATE received_messages SET transaction_key = ?"
            " WHERE station_id = ? AND kind = ? AND natural_key = ?",
            (tx.key, key.station_id, key.kind, key.key),
        )
    return Applied(tx, duplicate=False)
