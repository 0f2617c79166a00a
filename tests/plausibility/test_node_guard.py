"""Loopback through a real node: an energy register going backwards is refused at the node."""

from __future__ import annotations

import pytest

from ocppnet.errors import CallErrorReceived
from ocppnet.plausibility import FindingLog, PlausibilityChecker, PlausibilityConfig
from ocppnet.plausibility.node_guard import plausibility_guard
from ocppnet.rpc.frames import Call
from ocppnet.transport import connect_station
from tests.node.helpers import (
    Recorder,
    node_config,
    overlay_csms,
    running_node,
    station_url,
    upstream,
)
from tests.plausibility.payloads import energy, now, power, tx_event


async def test_node_refuses_a_backwards_register_and_forwards_plausible_events() -> None:
    recorder = Recorder()
    checker = PlausibilityChecker(PlausibilityConfig(stations={"CS-1": 11_000.0}))
    findings = FindingLog()
    guard = plausibility_guard(checker, findings=findings, clock=lambda: now(600),
                               node_id="NODE-A")
    async with overlay_csms(recorder) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node:
        node.router.guards.append(guard)
        async with connect_station(station_url(node), "CS-1", backoff=None) as station:
            started = tx_event("Started", 0, 0, energy(5000), power(7000))
            assert await station.call("TransactionEvent", started) == {}
            with pytest.raises(CallErrorReceived) as caught:
                await station.call("TransactionEvent", tx_event("Updated", 1, 60, energy(4000)))
            assert caught.value.code == "SecurityError"
            assert caught.value.description.startswith("refused at node NODE-A: ")
            assert "(rule energy.decreasing)" in caught.value.description
            assert await station.call("TransactionEvent",
                                      tx_event("Updated", 2, 120, energy(5100))) == {}
    events = recorder.actions("TransactionEvent")
    assert [(s, body["seqNo"]) for s, _, body in events] == [("CS-1", 0), ("CS-1", 2)]
    assert (guard.checked, guard.refused) == (3, 1)
    assert node.router.counters["rejected"] == 1
    assert [f.rule for f in findings.recent(station="CS-1")] == ["energy.decreasing"]


def test_flag_findings_are_recorded_but_the_request_passes() -> None:
    findings = FindingLog()
    guard = plausibility_guard(PlausibilityChecker(), findings=findings, clock=lambda: now(0))
    call = Call("m1", "TransactionEvent", tx_event("Ended", 4, 0, tx_id="TX-7"),
                dest="CSMS-1", path=("CS-3", "NODE-A"))
    assert guard(call, "2.0.1") is None
    [finding] = findings.recent()
    assert (finding.rule, finding.station, finding.message_id) == (
        "tx.ended_without_started", "CS-3", "m1")
    assert guard(Call("m2", "Heartbeat", {}, path=("CS-3",)), "2.0.1") is None
    assert guard.checked == 1
