"""Fixtures of the scale-out tests: real nats-server (JetStream), PostgreSQL, HAProxy and
``ocppnet csms`` front-ends on 127.0.0.1, each in a temporary directory, all stopped at the
end (tests/cluster/processes.py). A missing binary skips the test with its name."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import processes
from tests.cluster.processes import Missing, NatsServer


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A fresh nats-server with JetStream (``.url`` = nats://127.0.0.1:PORT)."""
    try:
        with processes.nats_server(tmp_path / "nats") as server:
            yield server
    except Missing as exc:
        pytest.skip(str(exc))


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One throw-away PostgreSQL for the session (tests take a fresh schema each)."""
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed")
    try:
        with processes.postgres(max_connections=200) as server:
            yield server.url
    except Missing as exc:
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A URL whose sessions use a new, empty schema of the session's PostgreSQL."""
    return processes.fresh_schema(postgres_server, f"t_{uuid.uuid4().hex[:12]}")
