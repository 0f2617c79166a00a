"""Persistence for the CSMS: the :class:`Store` protocol, SQLite (default) and PostgreSQL."""

from __future__ import annotations

from ocppnet.store.interface import Store
from ocppnet.store.location import open_store
from ocppnet.store.records import (
    Applied,
    ConnectorRecord,
    Direction,
    IdTokenRecord,
    MessageKey,
    MessageLogEntry,
    MeterSample,
    NewTransaction,
    StationBoot,
    StationEvent,
    StationRecord,
    StoreError,
    TransactionEnd,
    TransactionRecord,
    TransactionUpdate,
)
from ocppnet.store.sqlite import SqliteStore

__all__ = [
    "Applied",
    "ConnectorRecord",
    "Direction",
    "IdTokenRecord",
    "MessageKey",
    "MessageLogEntry",
    "MeterSample",
    "NewTransaction",
    "SqliteStore",
    "StationBoot",
    "StationEvent",
    "StationRecord",
    "Store",
    "StoreError",
    "TransactionEnd",
    "TransactionRecord",
    "TransactionUpdate",
    "open_store",
]
