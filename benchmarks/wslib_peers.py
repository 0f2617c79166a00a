"""Echo-style OCPP servers on two WebSocket libraries: ``python -m benchmarks.wslib_peers KIND``.

Each kind does the same work per message (orjson decode, optionally ``validation.validate``
of the request, a CALLRESULT encoded with orjson) so that only the library differs:
``websockets`` (the idiomatic ``async for message`` / ``await send`` loop), ``websockets-direct``
(replies written through the sans-I/O protocol, as ``transport.Link.send_text`` does) and
``picows`` (a ``WSListener`` answering inside ``on_ws_frame``; ``--read-buffer`` sets its
per-connection read buffer, preallocated, 16 KiB by default). Every kind negotiates the
``ocpp2.0.1`` subprotocol. Prints ``READY <port>`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any, Protocol

import orjson
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.typing import Subprotocol

from benchmarks.frames import NOW, SUBPROTOCOL
from benchmarks.processes import raise_fd_limit, run_loop
from ocppnet.validation import validate, warm_up

KINDS = ("websockets", "websockets-direct", "picows")
VERSION = "2.0.1"
_HEARTBEAT_RESULT = {"currentTime": NOW}


class Listening(Protocol):
    """What both libraries' servers share: stop accepting, then wait until closed."""

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


def port_of(server: Any) -> int:
    return int(server.sockets[0].getsockname()[1])


def picows_available() -> bool:
    try:
        import picows  # noqa: F401
    except ImportError:
        return False
    return True


def answer(data: bytes | bytearray | memoryview | str, check: bool) -> bytes:
    """The reply to one CALL: a CALLRESULT (a CALLERROR if ``check`` finds it invalid)."""
    message = orjson.loads(data)
    message_id, action, payload = message[1], message[2], message[3]
    if check:
        failure = validate(VERSION, action, "request", payload)
        if failure is not None:
            return orjson.dumps([4, message_id, failure.error_code, failure.description, {}])
    return orjson.dumps([3, message_id, _HEARTBEAT_RESULT if action == "Heartbeat" else {}])


async def serve_websockets(host: str, port: int, check: bool, direct: bool) -> Listening:
    async def on_connect(websocket: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in websocket:
                reply = answer(message, check)
                if not direct:
                    await websocket.send(reply, text=True)
                elif websocket.protocol.state is State.OPEN:
                    websocket.protocol.send_text(reply)
                    for chunk in websocket.protocol.data_to_send():
                        websocket.transport.write(chunk)

    return await serve(
        on_connect, host, port, subprotocols=[Subprotocol(SUBPROTOCOL)], compression=None
    )


async def serve_picows(
    host: str, port: int, check: bool, read_buffer: int | None
) -> Listening:
    from picows import (
        WSFrame,
        WSListener,
        WSMsgType,
        WSTransport,
        WSUpgradeRequest,
        WSUpgradeResponse,
        WSUpgradeResponseWithListener,
        ws_create_server,
    )

    class Echo(WSListener):
        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                reply = answer(frame.get_payload_as_memoryview(), check)
                transport.send(WSMsgType.TEXT, reply)
            elif frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

    def factory(request: WSUpgradeRequest) -> Any:
        # picows leaves subprotocol negotiation to the application: echo ours if offered.
        offered = ",".join(request.headers.getall("Sec-WebSocket-Protocol", []))
        if SUBPROTOCOL not in (p.strip() for p in offered.split(",")):
            return Echo()
        response = WSUpgradeResponse.create_101_response(
            extra_headers={"Sec-WebSocket-Protocol": SUBPROTOCOL}
        )
        return WSUpgradeResponseWithListener(response, Echo())

    return await ws_create_server(
        factory, host, port, read_buffer_init_size=read_buffer or 16 * 1024
    )


async def start(
    kind: str, host: str, port: int, check: bool, read_buffer: int | None = None
) -> Listening:
    """Start one server (``port_of`` gives the port it listens on)."""
    if check:
        warm_up(VERSION)
    if kind == "picows":
        return await serve_picows(host, port, check, read_buffer)
    return await serve_websockets(host, port, check, direct=kind == "websockets-direct")


async def run(kind: str, host: str, port: int, check: bool, read_buffer: int | None) -> None:
    server = await start(kind, host, port, check, read_buffer)
    sys.stdout.write(f"READY {port_of(server)}\n")
    sys.stdout.flush()
    await asyncio.Event().wait()  # until SIGTERM


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--validate", action="store_true", help="schema-validate requests")
    parser.add_argument("--read-buffer", type=int, help="picows: read buffer bytes")
    args = parser.parse_args(argv)
    raise_fd_limit()
    run_loop(run(args.kind, args.host, args.port, args.validate, args.read_buffer), args.loop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
