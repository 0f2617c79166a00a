"""open_store: which backend a configured location gives, and one-line refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.store import SqliteStore, StoreError, open_store
from ocppnet.store import location as location_module


def test_paths_and_memory_are_sqlite(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path / "a.sqlite3"), SqliteStore)
    assert isinstance(open_store(":memory:"), SqliteStore)


def test_unknown_scheme_is_refused_without_leaking_the_password() -> None:
    with pytest.raises(StoreError) as err:
        open_store("mysql://admin:hunter2@db/csms")
    assert "unknown scheme" in str(err.value) and "hunter2" not in str(err.value)


def test_postgres_without_psycopg_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(location_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(StoreError) as err:
        open_store("postgresql://csms:s3cret@db.example/csms")
    message = str(err.value)
    assert "psycopg" in message and "s3cret" not in message and "\n" not in message
