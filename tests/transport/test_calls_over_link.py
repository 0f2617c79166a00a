"""Call rules over a real loopback WebSocket: queueing, timeouts, validation, both directions,
reconnect after a server restart, and a station that connects twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ocppnet.errors import CallErrorReceived, CallTimeout, ConnectionClosed
from ocppnet.transport import (
    Backoff,
    CallContext,
    Connection,
    Handlers,
    connect_station,
    serve_csms,
)
from tests.transport.helpers import NOW, REQUESTS, boot_heartbeat_authorize, csms_handlers

AUTH = REQUESTS["2.0.1"]["Authorize"]


async def test_second_call_waits_until_the_first_is_answered() -> None:
    release, first_in = asyncio.Event(), asyncio.Event()
    received: list[str] = []
    handlers = Handlers()

    @handlers.on("Authorize")
    async def authorize(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        received.append(payload["idToken"]["idToken"])
        first_in.set()
        await release.wait()
        return {"idTokenInfo": {"status": "Accepted"}}

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        received.append("heartbeat")
        return {"currentTime": NOW}

    async with await serve_csms(handlers) as csms, connect_station(
        f"ws://127.0.0.1:{csms.port}", "CP1", backoff=None, handlers=station_handlers()
    ) as conn:
        first = asyncio.create_task(conn.call("Authorize", AUTH))
        await first_in.wait()
        second = asyncio.create_task(conn.call("Heartbeat", {}))
        # A round trip the other way proves frames flow while the second call waits.
        server_conn = csms.connections["CP1"]
        assert await _ping_station(server_conn)
        assert received == ["04A1B2C3"] and not second.done()
        release.set()
        assert (await first)["idTokenInfo"]["status"] == "Accepted"
        assert await second == {"currentTime": NOW}
        assert received == ["04A1B2C3", "heartbeat"]


async def _ping_station(server_conn: Connection) -> bool:
    """The CSMS calls the station (its Reset handler); True when it answered."""
    result = await server_conn.call("Reset", {"type": "Immediate"})
    return result == {"status": "Accepted"}


def station_handlers() -> Handlers:
    handlers = Handlers()

    @handlers.on("Reset")
    async def reset(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}

    return handlers


async def test_call_timeout_then_the_link_keeps_working() -> None:
    never = asyncio.Event()
    handlers = csms_handlers()

    @handlers.on("StatusNotification")
    async def stuck(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await never.wait()
        return {}

    status = {
        "timestamp": NOW, "connectorStatus": "Available", "evseId": 1, "connectorId": 1,
    }
    async with (
        await serve_csms(handlers) as csms,
        connect_station(f"ws://127.0.0.1:{csms.port}", "CP1", backoff=None) as conn,
    ):
        with pytest.raises(CallTimeout):
            await conn.call("StatusNotification", status, timeout=0.05)
        never.set()  # the late CALLRESULT is logged and dropped by the station
        await boot_heartbeat_authorize(conn)


async def test_validation_errors_come_back_with_code_and_field_name() -> None:
    async with await serve_csms(csms_handlers()) as csms, connect_station(
        f"ws://127.0.0.1:{csms.port}", "CP1", backoff=None, validate_messages=False,
        subprotocols=["ocpp2.0.1"],
    ) as conn:
        cases = [
            ({"idToken": {"type": "ISO14443"}}, "OccurrenceConstraintViolation", "idToken"),
            ({"idToken": {"idToken": 7, "type": "ISO14443"}}, "TypeConstraintViolation",
             "idToken.idToken"),
            ({"idToken": {"idToken": "x", "type": "Bogus"}}, "PropertyConstraintViolation",
             "idToken.type"),
        ]
        for payload, code, field in cases:
            with pytest.raises(CallErrorReceived) as caught:
                await conn.call("Authorize", payload)
            assert caught.value.code == code
            assert field in caught.value.description


async def test_csms_calls_the_station_from_on_connect() -> None:
    answered: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def on_connect(conn: Connection) -> None:
        answered.set_result(await conn.call("Reset", {"type": "Immediate"}))

    async with (
        await serve_csms(csms_handlers(), on_connect=on_connect) as csms,
        connect_station(
            f"ws://127.0.0.1:{csms.port}", "CP1", backoff=None, handlers=station_handlers()
        ),
    ):
        assert await answered == {"status": "Accepted"}


async def test_station_reconnects_after_the_server_restarts_on_the_same_port() -> None:
    connected: asyncio.Queue[str] = asyncio.Queue()
    first = await serve_csms(
        csms_handlers(), on_connect=lambda c: connected.put_nowait(c.remote_id)
    )
    port = first.port
    lost = asyncio.Event()
    async with connect_station(
        f"ws://127.0.0.1:{port}", "CP1",
        backoff=Backoff(base=0.01, cap=0.05, jitter=0.01),
        on_disconnect=lambda c: lost.set(),
    ) as conn:
        assert await connected.get() == "CP1"
        await first.close()
        await lost.wait()
        with pytest.raises(ConnectionClosed):
            await conn.call("Heartbeat", {})
        second = await serve_csms(
            csms_handlers(), port=port, on_connect=lambda c: connected.put_nowait(c.remote_id)
        )
        try:
            assert await connected.get() == "CP1"
            await conn.wait_attached()
            await boot_heartbeat_authorize(conn)
        finally:
            await second.close()


async def test_a_station_connecting_again_replaces_its_old_link() -> None:
    gone: asyncio.Queue[Connection] = asyncio.Queue()
    async with await serve_csms(csms_handlers(), on_disconnect=gone.put_nowait) as csms:
        url = f"ws://127.0.0.1:{csms.port}"
        async with connect_station(url, "CP1", backoff=None) as old:
            old_server_side = csms.connections["CP1"]
            async with connect_station(url, "CP1", backoff=None) as new:
                await boot_heartbeat_authorize(new)
                assert csms.connections["CP1"] is not old_server_side
                assert await gone.get() is old_server_side
                with pytest.raises(ConnectionClosed):
                    await old.call("Heartbeat", {})
            await gone.get()
            assert "CP1" not in csms.connections
