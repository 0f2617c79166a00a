"""Handshake outcomes on a real server: subprotocols, URL ids, networking mode."""

from __future__ import annotations

import asyncio
from http import HTTPStatus

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.typing import Subprotocol

from ocppnet.transport import (
    CLOSE_NO_SUBPROTOCOL,
    NETWORKING_MODE_HEADER,
    OVERLAY_MODE,
    Link,
    LinkRefused,
    connect_station,
    open_link,
    serve_csms,
)
from tests.transport.helpers import boot_heartbeat_authorize, csms_handlers


@pytest.mark.parametrize("offered", [["ocpp9.9"], []])
async def test_no_common_subprotocol_completes_handshake_then_closes_1002(
    offered: list[str],
) -> None:
    async with await serve_csms(csms_handlers(), subprotocols=["ocpp2.0.1"]) as csms:
        async with ws_connect(
            f"ws://127.0.0.1:{csms.port}/ocpp/CP1",
            subprotocols=[Subprotocol(s) for s in offered] or None,
            proxy=None,
        ) as raw:
            assert raw.subprotocol is None
            assert raw.response is not None
            assert "Sec-WebSocket-Protocol" not in raw.response.headers
            with pytest.raises(ConnectionClosedError) as closed:
                await raw.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == CLOSE_NO_SUBPROTOCOL
        assert csms.connections == {}


async def test_our_station_reports_the_missing_subprotocol_as_refusal() -> None:
    async with await serve_csms(csms_handlers(), subprotocols=["ocpp2.0.1"]) as csms:
        with pytest.raises(LinkRefused) as refused:
            await open_link(f"ws://127.0.0.1:{csms.port}", "CP1", subprotocols=["ocpp1.6"])
        assert refused.value.close_code == CLOSE_NO_SUBPROTOCOL


@pytest.mark.parametrize(
    ("preference", "offered", "version"),
    [
        (["ocpp2.1", "ocpp2.0.1", "ocpp1.6"], ["ocpp1.6", "ocpp2.0.1"], "2.0.1"),
        (["ocpp1.6", "ocpp2.0.1"], ["ocpp2.0.1", "ocpp1.6"], "1.6"),
        (["ocpp2.1", "ocpp2.0.1", "ocpp1.6"], ["ocpp2.1"], "2.1"),
    ],
)
async def test_server_preference_picks_the_version_and_both_sides_speak_it(
    preference: list[str], offered: list[str], version: str
) -> None:
    async with (
        await serve_csms(csms_handlers(), subprotocols=preference) as csms,
        connect_station(
            f"ws://127.0.0.1:{csms.port}/ocpp", "CP1", subprotocols=offered, backoff=None
        ) as conn,
    ):
        assert conn.version == version
        assert csms.connections["CP1"].version == version
        await boot_heartbeat_authorize(conn)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", HTTPStatus.NOT_FOUND), ("/ocpp/", HTTPStatus.NOT_FOUND),
     ("/ocpp/CP%201", HTTPStatus.BAD_REQUEST), ("/ocpp/" + "x" * 49, HTTPStatus.BAD_REQUEST)],
)
async def test_bad_station_ids_in_the_url_are_refused(path: str, status: HTTPStatus) -> None:
    async with await serve_csms(csms_handlers()) as csms:
        with pytest.raises(InvalidStatus) as refused:
            await ws_connect(
                f"ws://127.0.0.1:{csms.port}{path}", subprotocols=[Subprotocol("ocpp2.0.1")],
                proxy=None,
            )
        assert refused.value.response.status_code == status


async def test_percent_encoded_station_id_is_decoded() -> None:
    async with (
        await serve_csms(csms_handlers()) as csms,
        connect_station(f"ws://127.0.0.1:{csms.port}/", "CP*1", backoff=None) as conn,
    ):
        await conn.call("Heartbeat", {})
        assert set(csms.connections) == {"CP*1"}


async def test_overlay_is_echoed_only_by_a_server_that_takes_overlay_links() -> None:
    overlay_links: list[Link] = []
    done = asyncio.Event()

    async def on_overlay_link(link: Link) -> None:
        overlay_links.append(link)
        await done.wait()

    async with await serve_csms(csms_handlers(), on_overlay_link=on_overlay_link) as csms:
        link = await open_link(f"ws://127.0.0.1:{csms.port}", "NODE1", overlay=True)
        assert link.info.overlay
        async with ws_connect(
            f"ws://127.0.0.1:{csms.port}/ocpp/NODE2", subprotocols=[Subprotocol("ocpp2.0.1")],
            additional_headers={NETWORKING_MODE_HEADER: OVERLAY_MODE}, proxy=None,
        ) as raw:  # the header itself, as a client nobody here wrote sees it
            assert raw.response is not None
            assert raw.response.headers[NETWORKING_MODE_HEADER] == OVERLAY_MODE
        server_side = overlay_links[0]
        assert server_side.info.overlay and server_side.info.station_id == "NODE1"
        assert csms.connections == {}
        done.set()
        await link.close()
        plain = await open_link(f"ws://127.0.0.1:{csms.port}", "CP1")
        assert not plain.info.overlay
        await plain.close()

    async with await serve_csms(csms_handlers()) as standard_only:
        async with connect_station(
            f"ws://127.0.0.1:{standard_only.port}", "NODE1", backoff=None
        ) as conn:
            await conn.call("Heartbeat", {})
        link = await open_link(f"ws://127.0.0.1:{standard_only.port}", "NODE1", overlay=True)
        assert not link.info.overlay  # no echo: the link is in standard mode
        await link.close()
