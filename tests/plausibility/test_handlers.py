"""The CSMS side: plausible_handlers refuses with a precise CALLERROR or flags, over a real link."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ocppnet.errors import CallErrorReceived
from ocppnet.plausibility import FindingLog, PlausibilityChecker, PlausibilityConfig, Verdict
from ocppnet.plausibility.handlers import plausibility_verdict, plausible_handlers
from ocppnet.transport import CallContext, Handlers, connect_station, serve_csms
from tests.plausibility.payloads import energy, now, tx_event


async def test_csms_refuses_implausible_and_records_flagged_findings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handled: list[tuple[int, Verdict | None]] = []
    inner = Handlers()

    @inner.on("TransactionEvent")
    async def transaction(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        handled.append((payload["seqNo"], plausibility_verdict()))
        return {}

    @inner.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": "2026-01-01T00:00:00Z"}

    checker = PlausibilityChecker(PlausibilityConfig(stations={"CS-1": 11_000.0}))
    findings = FindingLog()
    handlers = plausible_handlers(inner, checker, findings=findings, clock=lambda: now(600))
    assert handlers.actions() == inner.actions() and "Heartbeat" in handlers
    caplog.set_level(logging.WARNING, logger="ocppnet.plausibility")
    async with await serve_csms(handlers) as csms, connect_station(
        f"ws://127.0.0.1:{csms.port}", "CS-1", backoff=None
    ) as station:
        assert await station.call("TransactionEvent", tx_event("Started", 0, 0, energy(5000))) \
            == {}
        with pytest.raises(CallErrorReceived) as caught:
            await station.call("TransactionEvent", tx_event("Updated", 1, 60, energy(4000)))
        assert caught.value.code == "PropertyConstraintViolation"
        assert "energy.decreasing" in caught.value.description
        assert "meterValue[0].sampledValue[0].value" in caught.value.description
        # a flagged finding (duplicate seqNo) is accepted and the handler sees the verdict
        assert await station.call("TransactionEvent", tx_event("Updated", 0, 90)) == {}
        assert await station.call("Heartbeat", {}) == {"currentTime": "2026-01-01T00:00:00Z"}
    assert [seq for seq, _ in handled] == [0, 0]
    flagged = handled[1][1]
    assert flagged is not None and [f.rule for f in flagged.findings] == ["seqno.duplicate"]
    assert [(f.rule, f.station) for f in findings.recent()] == [
        ("energy.decreasing", "CS-1"), ("seqno.duplicate", "CS-1")]
    assert [f.rule for f in findings.recent(rule="seqno.duplicate")] == ["seqno.duplicate"]
    assert findings.recent(station="CS-2") == []
    lines = [r.getMessage() for r in caplog.records if "plausibility_finding" in r.getMessage()]
    assert len(lines) == 2
    assert lines[0].startswith("event=plausibility_finding rule=energy.decreasing ")
    assert "station=CS-1" in lines[0] and "detail='energy register went back" in lines[0]


def test_finding_log_is_bounded_and_counts_everything() -> None:
    checker = PlausibilityChecker()
    log = FindingLog(limit=3)
    for n in range(5):
        verdict = checker.check("CS-1", "TransactionEvent",
                                tx_event("Updated", 1, 0, tx_id=f"TX-{n}"), version="2.0.1",
                                now=now(0))
        assert verdict == Verdict()
        verdict = checker.check("CS-1", "TransactionEvent",
                                tx_event("Updated", 1, 0, tx_id=f"TX-{n}"), version="2.0.1",
                                now=now(0))
        for finding in verdict.findings:
            log.record(finding)
    assert len(log.recent()) == 3 and log.counts == {"seqno.duplicate": 5}
    assert [f.as_json()["detail"] for f in log.recent(limit=1)] == [
        "seqNo 1 of transaction TX-4 was already received"]
