"""Store-and-forward on loopback: the CSMS reboots, the node is SIGKILLed; nothing queued is
lost and the queue drains in order."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ocppnet.errors import CallErrorReceived
from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.transport import connect_station
from tests.node.helpers import (
    BOOT,
    Recorder,
    node_config,
    overlay_csms,
    running_node,
    station_url,
    transaction_event,
    until,
    upstream,
)

EVENTS = 20


def seq_numbers(recorder: Recorder) -> list[int]:
    return [body["seqNo"] for _, _, body in recorder.actions("TransactionEvent")]


async def test_csms_reboot_queue_drains_in_order_nothing_lost(tmp_path: Path) -> None:
    before, after = Recorder(), Recorder()
    async with overlay_csms(before) as csms:
        port = csms.port
        config = node_config(
            "NODE-A", [upstream("CSMS-1", port)], queue=str(tmp_path / "queue.sqlite3")
        )
        async with running_node(config) as node, connect_station(
            station_url(node), "CS-1", backoff=None
        ) as station:
            assert (await station.call("BootNotification", BOOT))["status"] == "Accepted"
            await csms.close()
            await until(lambda: node.upstreams["CSMS-1"].state != "up", "upstream seen down")

            acks = [await station.call("TransactionEvent", transaction_event(n))
                    for n in range(EVENTS)]
            assert acks == [{}] * EVENTS  # acknowledged by the node, which now owns them
            assert node.queue is not None and node.queue.count("CSMS-1") == EVENTS
            with pytest.raises(CallErrorReceived) as info:  # not kept: a timely error
                await station.call("Heartbeat", {})
            assert info.value.code == "GenericError"  # the overlay's code, made plain
            assert info.value.description.startswith("NetworkingError: ")

            rebooted = await serve_overlay_csms(after.handlers, port=port, node_id="CSMS-1")
            try:
                await until(lambda: len(seq_numbers(after)) >= EVENTS, "backlog delivered")
                await until(lambda: node.queue is not None and node.queue.count() == 0,
                            "queue emptied")
                # a live event after the drain goes straight through and gets the real answer
                live = await station.call("TransactionEvent", transaction_event(EVENTS))
                assert live == {}
                assert seq_numbers(after) == list(range(EVENTS + 1))
                assert {(s, p) for s, p, _ in after.actions("TransactionEvent")} == {
                    ("CS-1", ("CS-1", "NODE-A"))}
                assert node.router.counters["drained"] == EVENTS
            finally:
                await rebooted.close()
    assert seq_numbers(before) == []


async def test_events_sent_while_the_backlog_drains_keep_their_place(tmp_path: Path) -> None:
    """Live events of a station must not overtake its queued ones."""
    recorder = Recorder()
    async with overlay_csms(recorder) as csms:
        port = csms.port
        config = node_config(
            "NODE-A", [upstream("CSMS-1", port)], queue=str(tmp_path / "queue.sqlite3")
        )
        async with running_node(config) as node, connect_station(
            station_url(node), "CS-1", backoff=None
        ) as station:
            await csms.close()
            await until(lambda: node.upstreams["CSMS-1"].state != "up", "upstream seen down")
            for n in range(EVENTS):
                await station.call("TransactionEvent", transaction_event(n))
            rebooted = await serve_overlay_csms(recorder.handlers, port=port, node_id="CSMS-1")
            try:
                await asyncio.wait_for(node.upstreams["CSMS-1"].link_up.wait(), 10)
                for n in range(EVENTS, 2 * EVENTS):  # while the drain is running
                    await station.call("TransactionEvent", transaction_event(n))
                await until(lambda: len(seq_numbers(recorder)) >= 2 * EVENTS, "all delivered")
                assert seq_numbers(recorder) == list(range(2 * EVENTS))
            finally:
                await rebooted.close()


async def test_v16_stop_transaction_is_kept_start_transaction_is_not(tmp_path: Path) -> None:
    recorder = Recorder()

    @recorder.handlers.on("StopTransaction")
    async def stop(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
        recorder.seen.append((ctx.remote_id, ctx.action, ctx.path, payload))
        return {"idTagInfo": {"status": "Accepted"}}

    async with overlay_csms(recorder) as csms:
        port = csms.port
        config = node_config(
            "NODE-A", [upstream("CSMS-1", port, subprotocols=["ocpp1.6"])],
            queue=str(tmp_path / "queue.sqlite3"),
        )
        async with running_node(config) as node, connect_station(
            station_url(node), "CP-16", subprotocols=["ocpp1.6"], backoff=None
        ) as station:
            await csms.close()
            await until(lambda: node.upstreams["CSMS-1"].state != "up", "upstream seen down")
            start = {"connectorId": 1, "idTag": "TAG", "meterStart": 0,
                     "timestamp": "2026-01-01T00:00:00Z"}
            with pytest.raises(CallErrorReceived) as info:
                await station.call("StartTransaction", start)
            assert info.value.code == "GenericError"  # 1.6 has no NetworkingError code
            assert info.value.description.startswith("NetworkingError: ")
            stop_request = {"transactionId": 7, "meterStop": 1200,
                            "timestamp": "2026-01-01T01:00:00Z"}
            ack = await station.call("StopTransaction", stop_request)
            assert ack == {"idTagInfo": {"status": "Accepted"}}
            rebooted = await serve_overlay_csms(recorder.handlers, port=port, node_id="CSMS-1")
            try:
                await until(lambda: bool(recorder.actions("StopTransaction")), "delivered")
                [(source, _, body)] = recorder.actions("StopTransaction")
                assert source == "CP-16" and body == stop_request
            finally:
                await rebooted.close()


# --- the node as a real process -----------------------------------------------------------


def start_node(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ocppnet.cli.main", "node", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"), env=env,
    )


async def node_port(process: subprocess.Popen[bytes], log: Path) -> int:
    """The port the node printed ("listening on ws://127.0.0.1:PORT/")."""
    marker = "listening on ws://127.0.0.1:"

    def printed() -> bool:
        assert process.poll() is None, log.read_text()
        return marker in log.read_text()

    await until(printed, "node started", limit=20)
    text = await asyncio.to_thread(log.read_text)
    return int(text[text.index(marker) + len(marker):].split("/", 1)[0])


async def test_sigkilled_node_delivers_its_queue_after_restart(tmp_path: Path) -> None:
    recorder = Recorder()
    # the CSMS's port: taken now, served later (the node starts with its upstream down)
    async with overlay_csms(Recorder()) as placeholder:
        port = placeholder.port
    config = tmp_path / "node.toml"
    config.write_text(
        '[node]\nid = "NODE-K"\nqueue = "' + str(tmp_path / "queue.sqlite3") + '"\n'
        '[[node.upstreams]]\nid = "CSMS-1"\nmode = "overlay"\n'
        f'url = "ws://127.0.0.1:{port}/ocpp"\n'
    )
    log = tmp_path / "node.log"
    process = start_node(config, log)
    try:
        station_port = await node_port(process, log)
        async with connect_station(
            f"ws://127.0.0.1:{station_port}/ocpp", "CS-1", backoff=None
        ) as station:
            for n in range(EVENTS):
                assert await station.call("TransactionEvent", transaction_event(n)) == {}
            process.send_signal(signal.SIGKILL)
            process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)

    async with overlay_csms(recorder, port=port):
        log2 = tmp_path / "node2.log"
        restarted = start_node(config, log2)
        try:
            await node_port(restarted, log2)
            await until(lambda: len(seq_numbers(recorder)) >= EVENTS, "queue delivered", 20)
            assert seq_numbers(recorder) == list(range(EVENTS))
            assert {p for _, p, _ in recorder.actions("TransactionEvent")} == {
                ("CS-1", "NODE-K")}
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(restarted.wait, 10) == 0  # a clean stop on SIGTERM
