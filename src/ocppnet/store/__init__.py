"""Persistence for the CSMS: the :class:`Store` protocol, SQLite (default) and PostgreSQL."""

from __future__ import annotations

from ocppnet.store.interface import Store
from ocppnet.store.location import open_store
from ocppnet.store.records import (
    ConnectorRecord,
    Direction,
    IdTokenRecord,
    MessageLogEntry,
    MeterSample,
    NewTransaction,
    StationBoot,
    StationEvent,
    StationRecord,
    StoreError,
    TransactionEnd,
    TransactionRecord,
)
from ocppnet.store.sqlite import SqliteStore

__all__ = [
    "ConnectorRecord",
    "Direction",
    "IdTokenRecord",
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
    "open_store",
]
