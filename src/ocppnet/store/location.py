"""Choose a store from its configured location: a file path or ``:memory:`` means SQLite,
a ``postgresql://`` URL means PostgreSQL (needs the optional ``psycopg`` package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ocppnet.store.interface import Store
from ocppnet.store.records import StoreError
from ocppnet.store.sqlite import SqliteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def open_store(location: str | Path) -> Store:
    """A closed store for ``location``; the caller awaits ``open()``.

    Raises :class:`StoreError` with a one-line reason for a location it cannot serve.
    """
    text = str(location)
    if text.startswith(POSTGRES_SCHEMES):
        if importlib.util.find_spec("psycopg") is None:
            raise StoreError(
                f"store {_redact(text)}: PostgreSQL needs the 'psycopg' package"
                " (pip install 'psycopg[binary]')"
            )
        from ocppnet.store.postgres import PostgresStore

        return PostgresStore(text)
    if "://" in text:
        raise StoreError(f"store {_redact(text)}: unknown scheme (use a file path or postgresql://)")
    return SqliteStore(text)


def _redact(url: str) -> str:
    """The URL without its password, fit for an error message."""
    scheme, _, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
