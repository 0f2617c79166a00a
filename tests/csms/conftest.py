"""Shared fixtures: a CsmsApp on a real SQLite file, a fixed clock, and a helper that sends a
request through the app's handler registry with a plain-dataclass context, checking both
the request and the response against the official OCPP schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.validation import validate

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakeContext:
    """What the transport's CallContext carries; no network behind it."""

    remote_id: str
    version: str
    action: str
    message_id: str = "m-1"
    path: tuple[str, ...] = ()
    connection: Any = None
    dest: str | None = None


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config() -> CsmsConfig:
    return CsmsConfig(heartbeat_interval=60, accept_unknown_tokens=False,
                      id_tokens={"GOOD": "Accepted", "BAD": "Blocked"})


@pytest.fixture
async def app(tmp_path: Path, config: CsmsConfig, clock: Clock) -> AsyncIterator[CsmsApp]:

    a = CsmsApp(config.model_copy(update={"store": str(tmp_path / "csms.sqlite3")}), clock=clock)
    await a.start()
    yield a
    await a.stop()


async def send(
    app: CsmsApp, version: str, station: str, action: str, payload: dict[str, Any],
    path: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One request as a station would send it; asserts both sides are schema-valid."""
    assert validate(version, action, "request", payload) is None, "test request is invalid"
    handler = app.handlers.get(action)
    assert handler is not None, f"no handler for {action}"
    response = await handler(FakeContext(station, version, action, path=path), payload)  # type: ignore[arg-type]
    assert response is not None
    failure = validate(version, action, "response", response)
    assert failure is None, f"{action}Response invalid: {failure}"
    return response
