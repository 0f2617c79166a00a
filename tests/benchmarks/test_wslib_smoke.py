"""Smoke test of the WebSocket library benchmark: both servers answer alike, no timing."""

from __future__ import annotations

import orjson
import pytest
from benchmarks.bench_wslib import SKIPPED, run
from benchmarks.frames import NOW, SUBPROTOCOL, call
from benchmarks.loadgen import run_load
from benchmarks.wslib_peers import answer, picows_available, port_of, start
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

KINDS = [
    "websockets",
    "websockets-direct",
    pytest.param("picows", marks=pytest.mark.skipif(
        not picows_available(), reason="picows not installed")),
]


def test_answer_gives_callresult_per_action_and_callerror_when_invalid() -> None:
    assert orjson.loads(answer(call("a-2", 2), check=True)) == [3, "a-2", {"currentTime": NOW}]
    assert orjson.loads(answer(call("a-1", 1), check=True)) == [3, "a-1", {}]
    bad = b'[2,"b-1","MeterValues",{"evseId":"one"}]'
    error = orjson.loads(answer(bad, check=True))
    assert error[:2] == [4, "b-1"] and error[2] in {"TypeConstraintViolation",
                                                    "OccurrenceConstraintViolation"}
    assert orjson.loads(answer(bad, check=False)) == [3, "b-1", {}]


@pytest.mark.parametrize("kind", KINDS)
async def test_server_negotiates_subprotocol_and_answers_heartbeat(kind: str) -> None:
    server = await start(kind, "127.0.0.1", 0, check=True)
    try:
        url = f"ws://127.0.0.1:{port_of(server)}/ocpp/CS1"
        async with connect(url, subprotocols=[Subprotocol(SUBPROTOCOL)]) as ws:
            assert ws.subprotocol == SUBPROTOCOL
            await ws.send(call("CS1-2", 2))
            assert orjson.loads(await ws.recv()) == [3, "CS1-2", {"currentTime": NOW}]
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("kind", KINDS)
async def test_load_generator_gets_only_callresults(kind: str) -> None:
    server = await start(kind, "127.0.0.1", 0, check=False)
    try:
        result = await run_load(f"ws://127.0.0.1:{port_of(server)}/ocpp", stations=2,
                                seconds=0.2, warmup=0.05)
    finally:
        server.close()
        await server.wait_closed()
    assert result.calls > 0 and result.errors == 0


def test_run_is_skipped_without_picows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("benchmarks.bench_wslib.picows_available", lambda: False)
    assert run(quick=True) == []
    assert SKIPPED in capsys.readouterr().err
