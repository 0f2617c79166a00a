"""A station client hands binary messages (file transfer chunks) to its ``on_binary`` hook."""

from __future__ import annotations

import asyncio

from ocppnet.transport import Link, connect_station, serve


async def test_binary_messages_reach_on_binary() -> None:
    got: list[bytes] = []
    arrived = asyncio.Event()

    async def on_link(link: Link) -> None:
        await link.send_binary(b"\x00\x00\x00\x02[]chunk")
        async for _ in link:
            pass

    async def on_binary(data: bytes) -> None:
        got.append(data)
        arrived.set()

    server = await serve(on_link)
    try:
        client = connect_station(
            f"ws://127.0.0.1:{server.port}/ocpp", "CS-1", backoff=None, on_binary=on_binary
        )
        async with client:
            await asyncio.wait_for(arrived.wait(), 5)
        assert got == [b"\x00\x00\x00\x02[]chunk"]
    finally:
        await server.close()
