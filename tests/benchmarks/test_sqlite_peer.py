"""The `ocpp` package + SQLite benchmark peer writes what the CsmsApp writes, per message:
the same rows in the same tables for the same requests (like with like), answered alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
from benchmarks.frames import SUBPROTOCOL, call
from benchmarks.ocpp_peer import serve_ocpp_sqlite
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from ocppnet.csms import CsmsApp, CsmsConfig

TABLES = ("message_log", "stations", "meter_values", "received_messages", "transactions")


async def drive(url: str) -> list[int]:
    """Six requests from station CS-1 (three MeterValues, one of them repeated: stored
    once); the answers' message types."""
    answers = []
    async with connect(url, subprotocols=[Subprotocol(SUBPROTOCOL)]) as ws:
        for n in (1, 2, 3, 4, 5, 3):
            await ws.send(call(f"m{n}", n, distinct=True))
            answers.append(orjson.loads(await ws.recv())[0])
    return answers


def counts(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        db.close()


async def test_ocpp_sqlite_peer_writes_the_rows_the_csms_app_writes(tmp_path: Path) -> None:
    peer_db = tmp_path / "peer.sqlite3"
    server = await serve_ocpp_sqlite("127.0.0.1", 0, peer_db)
    try:
        port = server.sockets[0].getsockname()[1]
        peer_answers = await drive(f"ws://127.0.0.1:{port}/ocpp/CS-1")
    finally:
        server.close()
        await server.wait_closed()

    app_db = tmp_path / "app.sqlite3"
    app = CsmsApp(CsmsConfig(store=str(app_db)))
    await app.start()
    try:
        csms = await app.serve(host="127.0.0.1", port=0)
        try:
            app_answers = await drive(f"ws://127.0.0.1:{csms.port}/ocpp/CS-1")
        finally:
            await csms.close()
        await app.store.flush()
    finally:
        await app.stop()

    assert peer_answers == app_answers == [3] * 6
    expected = {"message_log": 12, "stations": 1, "meter_values": 12, "received_messages": 3,
                "transactions": 0}
    assert counts(peer_db) == counts(app_db) == expected
