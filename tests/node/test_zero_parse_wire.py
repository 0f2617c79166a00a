"""Over real WebSockets on loopback: a node copies payload bytes through untouched, both ways.

A plain station (the `websockets` client, writing JSON as a station may: spaces, 1.50) talks
through a running Node to an overlay upstream that records the exact text it is sent and
answers with odd bytes of its own; each side gets the other's payload byte for byte.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from ocppnet.transport.link import Link
from ocppnet.transport.server import serve
from tests.node.helpers import node_config, running_node, station_url, upstream

REQUEST_PAYLOAD = '{"vendorId": "x", "value": 1.50, "signatures": [{"signature": "c2ln"}]}'
ANSWER_PAYLOAD = '{"status":  "Accepted", "data": "1.50"}'


async def test_payload_bytes_pass_a_node_untouched_in_both_directions() -> None:
    received: list[str] = []

    async def csms(link: Link) -> None:  # the overlay upstream, at the wire level
        async for message in link:
            assert isinstance(message, str)
            frame: list[Any] = orjson.loads(message)
            if frame[0] != 2:
                continue
            source, message_id = frame[2][0] if isinstance(frame[2], list) else frame[2], frame[3]
            if frame[4] == "NotifyNetworkTopology":  # the node's own announcement
                await link.send_text(orjson.dumps(
                    [3, source, "CSMS-1", message_id, {"status": "Accepted"}]))
                continue
            received.append(message)
            await link.send_text(
                f'[3,"{source}","CSMS-1","{message_id}",{ANSWER_PAYLOAD}]')

    server = await serve(csms, allow_overlay=True)
    try:
        config = node_config("NODE-A", [upstream("CSMS-1", server.port)])
        async with running_node(config) as node, connect(
            f"{station_url(node)}/CS-1", subprotocols=[Subprotocol("ocpp2.0.1")]
        ) as station:
            await station.send(f'[2,"m1","DataTransfer",{REQUEST_PAYLOAD}]')
            answer = await asyncio.wait_for(station.recv(), 10)
    finally:
        await server.close()
    assert received == [
        f'[2,"CSMS",["CS-1","NODE-A"],"m1","DataTransfer",{REQUEST_PAYLOAD}]'
    ]
    assert answer == f'[3,"m1",{ANSWER_PAYLOAD}]'
