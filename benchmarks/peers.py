"""The servers under test, each run in its own process: ``python -m benchmarks.peers KIND``.

Kinds: ``ours`` (transport ``serve_csms`` + handlers, schema-validated), ``app`` (the full
``CsmsApp`` on an in-memory SQLite store), ``app-file`` (the same on a SQLite file in a
temporary directory, WAL), ``ocpp`` (the `ocpp` package baseline), ``ocpp-sqlite`` (the
baseline plus the CsmsApp's SQLite writes, benchmarks/ocpp_peer.py), ``raw``
(websockets + orjson, answers ``[3, id, {}]`` without validation: the floor of any Python CSMS
on websockets), ``relay`` (benchmarks.raw_relay), ``overlay`` (``serve_overlay_csms``: the
overlay-aware CSMS, same handlers as ``ours``), ``node`` (an ``ocppnet.node.Node`` with one
overlay upstream ``--upstream-id`` at ``--upstream``; ``--mirror TWIN-1`` copies telemetry),
``twin-sink`` (a participant below ``--upstream`` counting the node's copies). Prints
``READY <port>`` once listening (for a node: once its upstream link is up).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from benchmarks.frames import NOW
from benchmarks.processes import raise_fd_limit, run_loop
from ocppnet.transport import CallContext, Handlers, serve_csms

KINDS = ("ours", "app", "app-file", "ocpp", "ocpp-sqlite", "raw", "relay", "overlay", "node",
         "twin-sink")
FILE_KINDS = ("app-file", "ocpp-sqlite")  # peers that write a database file


def bench_handlers() -> Handlers:
    """Our side of the CSMS benchmark: the same two handlers as the baseline."""
    handlers = Handlers()

    @handlers.on("Heartbeat")
    def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": NOW}

    @handlers.on("MeterValues")
    def meter_values(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {}

    return handlers


async def serve_raw(host: str, port: int) -> Any:
    async def on_connect(websocket: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in websocket:
                request = orjson.loads(message)
                await websocket.send(orjson.dumps([3, request[1], {}]), text=True)

    return await serve(
        on_connect, host, port, subprotocols=[Subprotocol("ocpp2.0.1")], compression=None
    )


async def start_node(
    host: str, port: int, node_id: str, upstream: str, upstream_id: str,
    mirror: str | None = None,
) -> int:
    """A node whose one upstream (overlay mode) carries all its stations; returns its port.
    With ``mirror``, it copies telemetry streams to that participant ([node.mirror])."""
    from ocppnet.node.config import parse_config
    from ocppnet.node.service import Node

    table: dict[str, Any] = {
        "id": node_id, "host": host, "port": port,
        "upstreams": [{"id": upstream_id, "url": upstream, "mode": "overlay"}],
    }
    if mirror is not None:
        table["mirror"] = {"to": mirror}
    config = parse_config({"node": table})
    node = Node(config)
    await node.start()
    for up in node.upstreams.values():
        await asyncio.wait_for(up.link_up.wait(), 30)
    return node.port


async def start_twin_sink(upstream: str, upstream_id: str) -> int:
    """A participant (TWIN-1, OCPP 2.1) below ``upstream`` that takes MirrorData copies and
    counts them: the node's side of the twin benchmark, without the twin's own CPU."""
    from ocppnet.participant import Participant, ParticipantSection, UpstreamSection

    sink = Participant(ParticipantSection(id="TWIN-1", version="2.1", upstreams=(
        UpstreamSection(id=upstream_id, url=upstream),)))
    copies = [0]

    @sink.handlers.on("MirrorData")
    def mirrored(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        copies[0] += 1
        return {}

    await sink.start(wait=30.0)
    return 0


async def start(
    kind: str, host: str, port: int, upstream: str | None, node_id: str = "NODE-A",
    upstream_id: str = "CSMS-1", mirror: str | None = None, workdir: Path | None = None,
) -> int:
    """Start one peer; returns the port it listens on. ``workdir``: where the file kinds
    put their database."""
    if kind == "overlay":
        from ocppnet.node.overlay_csms import serve_overlay_csms

        overlay = await serve_overlay_csms(bench_handlers(), host, port, node_id=upstream_id)
        return overlay.port
    if kind == "node":
        if upstream is None:
            raise SystemExit("node needs --upstream")
        return await start_node(host, port, node_id, upstream, upstream_id, mirror)
    if kind == "twin-sink":
        if upstream is None:
            raise SystemExit("twin-sink needs --upstream")
        return await start_twin_sink(upstream, upstream_id)
    if kind == "ours":
        server = await serve_csms(bench_handlers(), host, port)
        return server.port
    if kind in ("app", "app-file"):
        from ocppnet.csms import CsmsApp, CsmsConfig

        location = ":memory:" if kind == "app" else str(_workdir(workdir) / "csms.sqlite3")
        app = CsmsApp(CsmsConfig(store=location))
        await app.start()
        csms = await app.serve(host=host, port=port)
        return csms.port
    if kind == "ocpp-sqlite":
        from benchmarks.ocpp_peer import serve_ocpp_sqlite

        ws_server = await serve_ocpp_sqlite(host, port, _workdir(workdir) / "ocpp.sqlite3")
        return int(ws_server.sockets[0].getsockname()[1])
    if kind == "ocpp":
        from benchmarks.ocpp_peer import serve_ocpp

        ws_server = await serve_ocpp(host, port)
        return int(ws_server.sockets[0].getsockname()[1])
    if kind == "raw":
        ws_server = await serve_raw(host, port)
        return int(ws_server.sockets[0].getsockname()[1])
    if kind == "relay":
        from benchmarks.raw_relay import serve_relay

        if upstream is None:
            raise SystemExit("relay needs --upstream")
        ws_server = await serve_relay(host, port, upstream)
        return int(ws_server.sockets[0].getsockname()[1])
    raise SystemExit(f"unknown peer {kind!r}")


async def run(
    kind: str, host: str, port: int, upstream: str | None, node_id: str, upstream_id: str,
    mirror: str | None = None,
) -> None:
    if kind not in FILE_KINDS:
        actual = await start(kind, host, port, upstream, node_id, upstream_id, mirror)
        sys.stdout.write(f"READY {actual}\n")
        sys.stdout.flush()
        await asyncio.Event().wait()  # until SIGTERM
        return
    # a database file: SIGTERM ends the run normally, so that the directory is removed
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with tempfile.TemporaryDirectory(prefix="ocppnet-bench-") as tmp:
        actual = await start(kind, host, port, upstream, node_id, upstream_id, mirror,
                             workdir=Path(tmp))
        sys.stdout.write(f"READY {actual}\n")
        sys.stdout.flush()
        await stop.wait()


def _workdir(workdir: Path | None) -> Path:
    if workdir is None:
        raise SystemExit("this peer needs a directory for its database")
    return workdir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--upstream", help="ws:// URL prefix (relay, node)")
    parser.add_argument("--node-id", default="NODE-A", help="node: its own id")
    parser.add_argument("--upstream-id", default="CSMS-1",
                        help="node: the upstream's node id; overlay: the CSMS's node id")
    parser.add_argument("--mirror", help="node: copy telemetry to this participant id")
    args = parser.parse_args(argv)
    raise_fd_limit()
    run_loop(
        run(args.kind, args.host, args.port, args.upstream, args.node_id, args.upstream_id,
            args.mirror),
        args.loop,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
