"""Fixtures of the scale-out tests: a real nats-server (JetStream) per test, and the
throw-away PostgreSQL of tests/store (one schema per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.natsd import NatsServer, running_nats
from tests.store.conftest import _fresh_schema, postgres_url

__all__ = ["postgres_url"]  # the session fixture, shared with tests/store


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    with running_nats(tmp_path / "jetstream") as server:
        yield server


@pytest.fixture
def pg_store(postgres_url: str) -> str:
    """A postgresql:// URL of a new, empty schema."""
    return _fresh_schema(postgres_url)
