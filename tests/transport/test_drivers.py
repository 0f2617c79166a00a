"""Both WebSocket drivers on real loopback servers, against each other and against websockets
as a peer nobody here wrote: messages, close codes, limits, keep-alive, deflate, coalescing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from http import HTTPStatus

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed as WsConnectionClosed
from websockets.typing import Subprotocol

from ocppnet.errors import ConnectionClosed
from ocppnet.pki import ThrowawayPki
from ocppnet.transport import Link, LinkOptions, LinkRefused, ServerSecurity, open_link, serve
from ocppnet.transport.options import DRIVER_ENV, resolve_driver
from ocppnet.transport.picows_link import PicowsLink
from ocppnet.transport.server import server_driver

DRIVERS = ["picows", "websockets"]
OCPP = [Subprotocol("ocpp2.0.1")]


@contextlib.asynccontextmanager
async def echo_server(**options: object) -> AsyncIterator[tuple[int, list[Link]]]:
    """Our server echoing every message back; the list holds its server-side links."""
    links: list[Link] = []

    async def on_link(link: Link) -> None:
        links.append(link)
        async for message in link:
            if isinstance(message, str):
                await link.send_text(message)
            else:
                await link.send_binary(message)

    async with await serve(on_link, options=LinkOptions(**options)) as server:  # type: ignore[arg-type]
        yield server.port, links


async def until(check: object, limit: float = 10.0) -> None:
    async with asyncio.timeout(limit):  # a hang guard, not a timing assertion
        while not check():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def test_the_driver_comes_from_the_option_then_the_environment() -> None:
    assert resolve_driver(None, {}) == "picows"
    assert resolve_driver(None, {DRIVER_ENV: "websockets"}) == "websockets"
    assert resolve_driver("picows", {DRIVER_ENV: "websockets"}) == "picows"
    with pytest.raises(ValueError, match="OCPPNET_WS_DRIVER='ws': must be one of"):
        resolve_driver(None, {DRIVER_ENV: "ws"})
    with pytest.raises(ValueError, match="driver: 'x'"):
        LinkOptions(driver="x")


def test_an_async_password_check_keeps_the_server_on_websockets() -> None:
    async def check(station_id: str, password: str) -> bool:
        return True

    picows = LinkOptions(driver="picows")
    assert server_driver(picows, ServerSecurity(1, check_password=check)) == "websockets"
    assert server_driver(picows, ServerSecurity(1, check_password=lambda s, p: True)) == "picows"


@pytest.mark.parametrize("server", DRIVERS)
@pytest.mark.parametrize("client", DRIVERS)
async def test_text_binary_and_close_codes_cross_the_drivers(server: str, client: str) -> None:
    async with echo_server(driver=server) as (port, links):
        link = await open_link(f"ws://127.0.0.1:{port}", "CP1",
                               options=LinkOptions(driver=client))
        assert link.driver == client
        messages = link.__aiter__()
        await link.send_text('[2,"1","Heartbeat",{}]')
        await link.send_binary(b"\x00\x01\xff")
        await link.send_text("é" * 70_000)  # a 64-bit length frame
        assert await messages.__anext__() == '[2,"1","Heartbeat",{}]'
        assert await messages.__anext__() == b"\x00\x01\xff"
        assert await messages.__anext__() == "é" * 70_000
        assert links[0].driver == server and links[0].close_code is None
        await link.close(4001, "going home")
        assert link.close_code == 4001
        await until(lambda: links[0].close_code is not None)
        assert links[0].close_code == 4001
        with pytest.raises(ConnectionClosed):
            await link.send_text("[]")


async def test_the_picows_server_reassembles_fragments_from_websockets() -> None:
    async with echo_server(driver="picows") as (port, _), ws_connect(
            f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=OCPP, proxy=None) as peer:
        await peer.send(["[2,", '"7",', '"Heartbeat",', "{}]"])  # four frames, one message
        assert await peer.recv() == '[2,"7","Heartbeat",{}]'


@pytest.mark.parametrize(("payload", "code"), [
    (b"\xff\xfe", 1007),  # a text message that is not UTF-8
    (b"x" * 5000, 1009),  # larger than max_size
])
async def test_the_picows_server_closes_on_bad_text_and_big_messages(
    payload: bytes, code: int
) -> None:
    async with echo_server(driver="picows", max_size=4096) as (port, _), ws_connect(
            f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=OCPP, proxy=None) as peer:
        await peer.send(payload, text=True)
        with pytest.raises(WsConnectionClosed) as closed:
            await peer.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_a_fragmented_message_past_max_size_is_refused() -> None:
    async with echo_server(driver="picows", max_size=4096) as (port, _), ws_connect(
            f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=OCPP, proxy=None) as peer:
        await peer.send(["x" * 3000, "x" * 3000])
        with pytest.raises(WsConnectionClosed) as closed:
            await peer.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_keepalive_answers_pings_and_drops_a_silent_peer() -> None:
    async with echo_server(driver="picows", ping_interval=0.05, ping_timeout=0.05) as (
            port, links):
        # a websockets peer answers pings by itself: the link stays open over many intervals
        async with ws_connect(f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=OCPP,
                              proxy=None, ping_interval=None) as peer:
            for _ in range(10):
                await peer.send("[]")
                await asyncio.sleep(0.03)
                assert await peer.recv() == "[]"
            await asyncio.sleep(0.3)  # idle: several pings, all answered
            await peer.send("[]")
            assert await peer.recv() == "[]"
        # a peer that completes the handshake and then never reads: no pong, link closed
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /ocpp/CP2 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n")
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        await until(lambda: len(links) == 2)
        await until(lambda: links[1].close_code is not None)
        writer.close()
    assert links[1].close_code == 1006  # we closed it: the silent peer never answered


@pytest.mark.parametrize("client", DRIVERS)
async def test_permessage_deflate_between_our_drivers(client: str) -> None:
    async with echo_server(driver="picows", compression="deflate") as (port, links):
        link = await open_link(f"ws://127.0.0.1:{port}", "CP1",
                               options=LinkOptions(driver=client, compression="deflate"))
        messages = link.__aiter__()
        big = '[2,"1","DataTransfer",{"vendorId":"x","data":"' + "abc" * 20_000 + '"}]'
        for message in ("[]", big, big, "é"):
            await link.send_text(message)
            assert await messages.__anext__() == message
        assert isinstance(links[0], PicowsLink) and links[0]._deflate is not None
        await link.close()


async def test_websockets_negotiates_deflate_with_the_picows_server() -> None:
    async with echo_server(driver="picows", compression="deflate") as (port, _), ws_connect(
            f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=OCPP, proxy=None,
            compression="deflate") as peer:
        assert peer.response is not None
        assert peer.response.headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
        for message in ("x" * 10_000, "[1]", "x" * 10_000):
            await peer.send(message)
            assert await peer.recv() == message
        await peer.send(["frag", "mented"])  # a compressed message in two frames
        assert await peer.recv() == "fragmented"


async def test_the_picows_client_negotiates_deflate_with_a_websockets_server() -> None:
    async def echo(websocket: ServerConnection) -> None:
        async for message in websocket:
            await websocket.send(message)

    async with ws_serve(echo, "127.0.0.1", 0, subprotocols=OCPP, compression="deflate") as ws:
        port = ws.sockets[0].getsockname()[1]
        link = await open_link(f"ws://127.0.0.1:{port}", "CP1", subprotocols=["ocpp2.0.1"],
                               options=LinkOptions(driver="picows", compression="deflate"))
        assert isinstance(link, PicowsLink) and link._deflate is not None
        messages = link.__aiter__()
        for message in ("y" * 50_000, "[]", "y" * 50_000):
            await link.send_text(message)
            assert await messages.__anext__() == message
        await link.close()


@pytest.mark.parametrize("server", DRIVERS)
async def test_without_the_option_deflate_is_not_answered(server: str) -> None:
    async with echo_server(driver=server) as (port, _), ws_connect(
            f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=OCPP, proxy=None,
            compression="deflate") as peer:
        assert peer.response is not None
        assert "Sec-WebSocket-Extensions" not in peer.response.headers


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("deflate", [None, "deflate"])
async def test_coalesced_frames_keep_their_order_with_direct_sends(
    driver: str, deflate: str | None
) -> None:
    async with echo_server(driver=driver, compression=deflate) as (port, links):
        # client side (masked frames) through our client, then server side (plain frames)
        link = await open_link(f"ws://127.0.0.1:{port}", "NODE1",
                               options=LinkOptions(driver=driver, compression=deflate))
        sender = link.coalescing_sender("NODE1")
        for n in range(50):
            await sender.send_text(f'[2,"{n}","Heartbeat",{{}}]')
        await link.send_binary(b"after")  # flushes what the coalescer holds first
        await sender.send_text("x" * 70_000)
        messages = link.__aiter__()
        received = [await messages.__anext__() for _ in range(52)]
        assert received[:50] == [f'[2,"{n}","Heartbeat",{{}}]' for n in range(50)]
        assert received[50:] == [b"after", "x" * 70_000]
        server_sender = links[0].coalescing_sender("CP")
        for n in range(20):
            await server_sender.send_text(str(n))
        assert [await messages.__anext__() for _ in range(20)] == [str(n) for n in range(20)]
        await link.close()
        with pytest.raises(ConnectionClosed):
            await sender.send_text("[]")


async def test_a_server_link_cut_when_its_peer_stops_reading(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "ocppnet.transport.link")
    outcome: list[BaseException] = []

    async def flood(link: Link) -> None:
        try:
            for _ in range(2000):
                await link.send_text("z" * 16_000)
        except ConnectionClosed as exc:
            outcome.append(exc)

    options = LinkOptions(driver="picows", send_buffer_limit=262_144)
    async with await serve(flood, options=options) as server:
        _, writer = await asyncio.open_connection("127.0.0.1", server.port, limit=1024)
        writer.transport.set_write_buffer_limits(0)
        writer.write(b"GET /ocpp/SLOW HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n")
        writer.transport.pause_reading()  # and never read again
        await until(lambda: bool(outcome))
        writer.close()
    [record] = [r for r in caplog.records if "send_buffer_exceeded" in r.message]
    assert "station=SLOW" in record.message and "limit=262144" in record.message


async def test_aiofastnet_transports_carry_links_and_the_profile_3_check(
    pki: ThrowawayPki,
) -> None:
    options = LinkOptions(driver="picows", aiofastnet=True)
    security = ServerSecurity(3, ssl_context=pki.server_context(mutual=True))

    async def echo(link: Link) -> None:
        async for message in link:
            await link.send_text(message)

    async with await serve(echo, security=security, options=options) as server:
        url = f"wss://127.0.0.1:{server.port}/ocpp"
        with pytest.raises(LinkRefused) as refused:
            await open_link(url, "CP1", ssl_context=pki.client_context("CP2"), options=options)
        assert refused.value.status == HTTPStatus.FORBIDDEN
        link = await open_link(url, "CP1", ssl_context=pki.client_context("CP1"),
                               options=options)
        await link.send_text("[]")
        assert await link.__aiter__().__anext__() == "[]"
        await link.close()


async def test_a_sync_check_that_returns_an_awaitable_is_refused_on_picows() -> None:
    async def verdict() -> bool:
        return True

    security = ServerSecurity(1, check_password=lambda station, password: verdict())
    async with await serve(lambda link: link.close(), security=security,
                           options=LinkOptions(driver="picows")) as server:
        assert server.driver == "picows"  # not a coroutine function: no fallback
        with pytest.raises(LinkRefused) as refused:
            await open_link(f"ws://127.0.0.1:{server.port}", "CP1", password="secret-secret")
    assert refused.value.status == HTTPStatus.SERVICE_UNAVAILABLE


async def test_a_close_reason_longer_than_a_control_frame_is_cut_on_picows() -> None:
    async with echo_server(driver="picows") as (port, links), ws_connect(
            f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=OCPP, proxy=None) as peer:
        await peer.send("[]")
        assert await peer.recv() == "[]"
        await links[0].close(4002, "é" * 100)  # 200 bytes of UTF-8
        with pytest.raises(WsConnectionClosed) as closed:
            await peer.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4002
    assert closed.value.rcvd.reason == "é" * 61  # 122 bytes: no character cut in half
