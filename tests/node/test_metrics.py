"""``/metrics`` of a running node after real traffic: every family the issue lists shows up
with non-zero values (connections, frames, CALLERRORs, latency, queue depth and age,
signature verdicts, replay memory)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ocppnet.api import TokenTable, hash_token
from ocppnet.errors import CallErrorReceived
from ocppnet.node.metrics import verdict_statuses
from ocppnet.node.service import Node
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.node_guard import signature_guard
from ocppnet.security.policy import Outcome, PolicyDecision
from ocppnet.security.trust import TrustStore
from ocppnet.transport import connect_station
from tests.node.helpers import (
    BOOT,
    FAST,
    Recorder,
    node_config,
    overlay_csms,
    station_url,
    transaction_event,
    until,
    upstream,
)


@contextlib.asynccontextmanager
async def running_node(node: Node) -> AsyncIterator[Node]:
    for up in node.upstreams.values():
        up.backoff = FAST
    await node.start()
    try:
        for up in node.upstreams.values():
            await asyncio.wait_for(up.link_up.wait(), 10)
        yield node
    finally:
        await node.stop()


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            families.setdefault(sample.name, []).append((sample.labels, sample.value))
    return families


def total(found: dict[str, list[tuple[dict[str, str], float]]], name: str,
          **labels: str) -> float:
    return sum(v for lab, v in found.get(name, [])
               if all(lab.get(k) == want for k, want in labels.items()))


def test_verdict_statuses() -> None:
    assert verdict_statuses(PolicyDecision(Outcome.ACCEPT, "")) == ["unsigned"]
    assert verdict_statuses(PolicyDecision(Outcome.REJECT, "no")) == ["unsigned", "refused"]


async def test_node_metrics_after_traffic(tmp_path: Path) -> None:
    async with overlay_csms(Recorder()) as csms:
        config = node_config("NODE-A", [upstream("CSMS-1", csms.port)], http_port=0,
                             queue=str(tmp_path / "queue.sqlite3"))
        node = Node(config)
        station_key = KeyPair.generate("secp256r1")
        trust = TrustStore()
        trust.add(station_key.public_key, name="CS-1")
        signer = SecurityContext(trust=TrustStore(), signing_keys={"cs": station_key})
        node.router.guards.append(signature_guard(SecurityContext(trust=trust),
                                                  actions={"Heartbeat"}, node_id="NODE-A"))
        async with running_node(node) as node, connect_station(
            station_url(node), "CS-1", backoff=None
        ) as station:
            await station.call("BootNotification", BOOT)
            for _ in range(3):
                await station.call("Heartbeat", {})
            signed = signer.sign_with(["cs"], "Heartbeat", "request", {}, version="2.0.1",
                                      now=datetime.now(UTC))
            await station.call("Heartbeat", signed)
            await station.call("TransactionEvent", transaction_event(0))
            with contextlib.suppress(CallErrorReceived):
                # the CSMS has no Authorize handler: its CALLERROR crosses the node
                await station.call("Authorize", {"idToken": {"idToken": "T", "type": "Central"}})
            await csms.close()
            await until(lambda: node.upstreams["CSMS-1"].state != "up", "upstream down")
            await station.call("TransactionEvent", transaction_event(1))  # queued
            assert node.http is not None
            async with httpx.AsyncClient(base_url=node.http.url) as http:
                text = (await http.get("/metrics")).text
                snapshot = (await http.get("/api/v1/node")).json()
    assert snapshot["nodeId"] == "NODE-A"
    found = samples(text)
    assert total(found, "ocppnet_connections", mode="standard", version="2.0.1") == 1
    assert total(found, "ocppnet_frames_total", direction="in", message_type="CALL",
                 action="Heartbeat") == 4
    assert total(found, "ocppnet_frames_total", direction="in", message_type="CALLRESULT",
                 action="Heartbeat") == 4  # the response is named by its request's action
    assert found["ocppnet_callerrors_total"] == [
        ({"code": "NotSupported", "direction": "in"}, 1.0),
        ({"code": "NotSupported", "direction": "out"}, 1.0)]
    assert total(found, "ocppnet_forward_latency_seconds_count") >= 8
    assert total(found, "ocppnet_store_forward_queue_depth", upstream="CSMS-1") == 1
    assert total(found, "ocppnet_store_forward_oldest_age_seconds", upstream="CSMS-1") > 0
    assert total(found, "ocppnet_signature_verdicts_total", status="unsigned") == 3
    assert total(found, "ocppnet_signature_verdicts_total", status="valid") == 1
    assert total(found, "ocppnet_replay_memory_entries") == 1
    assert total(found, "ocppnet_router_events_total", event="forwarded") >= 8


async def test_node_http_needs_a_token_when_configured() -> None:
    tokens = TokenTable([("prom", hash_token("scrape"), ["metrics"])])
    async with overlay_csms(Recorder()) as csms, running_node(
        Node(node_config("NODE-A", [upstream("CSMS-1", csms.port)], http_port=0), api=tokens)
    ) as node:
        assert node.http is not None
        async with httpx.AsyncClient(base_url=node.http.url) as http:
            assert (await http.get("/metrics")).status_code == 401
            ok = await http.get("/metrics", headers={"Authorization": "Bearer scrape"})
            assert ok.status_code == 200 and "ocppnet_connections" in ok.text
            denied = await http.get("/api/node", headers={"Authorization": "Bearer scrape"})
            assert denied.status_code == 403


async def test_node_http_off_loopback_without_token_is_refused() -> None:
    import pytest

    from ocppnet.errors import ConfigError

    node = Node(node_config("NODE-A", [upstream("CSMS-1", 1)], http_port=0,
                            http_host="0.0.0.0"))
    with pytest.raises(ConfigError, match=r"node's HTTP API \(node\.http_host\) on 0\.0\.0\.0"):
        await node.start()
