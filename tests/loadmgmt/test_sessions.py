"""Sessions and power read from the stations' own requests (2.0.1 and 1.6)."""

from __future__ import annotations

from typing import Any

import pytest

from ocppnet.loadmgmt.config import LoadConfig
from ocppnet.loadmgmt.profiles import set_limit_request
from ocppnet.loadmgmt.sessions import SessionTracker, power_from
from ocppnet.validation import validate


def meter(power: str | float, unit: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [
        {"value": 1.0, "measurand": "Energy.Active.Import.Register"},
        {"value": power, "measurand": "Power.Active.Import", **unit}]}]


def tx_event(event_type: str, tx: str, power: float | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"eventType": event_type, "transactionInfo": {"transactionId": tx},
                               "evse": {"id": 2, "connectorId": 1}}
    if power is not None:
        payload["meterValue"] = meter(power, {"unitOfMeasure": {"unit": "W"}})
    return payload


def test_201_started_updated_ended() -> None:
    tracker = SessionTracker()
    assert tracker.observe_request("CS1", "2.0.1", "m1", "TransactionEvent",
                                   tx_event("Started", "T1", 0.0), now=5.0)
    session = tracker.sessions[("CS1", 2)]
    assert session.started_at == 5.0 and session.measured_w == 0.0
    assert not tracker.observe_request("CS1", "2.0.1", "m2", "TransactionEvent",
                                       tx_event("Updated", "T1", 7_200.0), now=6.0)
    assert session.measured_w == 7_200.0
    assert tracker.observe_request("CS1", "2.0.1", "m3", "TransactionEvent",
                                   tx_event("Ended", "T1"), now=7.0)
    assert tracker.sessions == {}


def test_16_session_needs_the_csms_transaction_id() -> None:
    tracker = SessionTracker()
    start = {"connectorId": 1, "idTag": "X", "meterStart": 0, "timestamp": "t"}
    assert not tracker.observe_request("CS2", "1.6", "m1", "StartTransaction", start, 1.0)
    assert tracker.observe_answer("CS2", "m1", {"transactionId": 42,
                                                "idTagInfo": {"status": "Accepted"}})
    values = {"connectorId": 1, "transactionId": 42, "meterValue": meter("3.7", {"unit": "kW"})}
    tracker.observe_request("CS2", "1.6", "m2", "MeterValues", values, 2.0)
    assert tracker.sessions[("CS2", 1)].measured_w == 3_700.0
    assert tracker.observe_request("CS2", "1.6", "m3", "StopTransaction",
                                   {"transactionId": 42, "meterStop": 5, "timestamp": "t"}, 3.0)
    assert tracker.sessions == {}


def test_refused_16_start_is_no_session() -> None:
    tracker = SessionTracker()
    tracker.observe_request("CS2", "1.6", "m1", "StartTransaction", {"connectorId": 1}, 1.0)
    assert not tracker.observe_answer("CS2", "m1", {"transactionId": 1,
                                                    "idTagInfo": {"status": "Blocked"}})
    assert not tracker.observe_answer("CS2", "unknown", {"transactionId": 1})
    assert tracker.sessions == {}


def test_power_ignores_per_phase_and_garbage() -> None:
    assert power_from(None) is None
    assert power_from([{"sampledValue": [{"measurand": "Power.Active.Import", "value": "x"}]}]) \
        is None
    per_phase = [{"sampledValue": [{"measurand": "Power.Active.Import", "value": 1,
                                    "phase": "L1"}]}]
    assert power_from(per_phase) is None


def test_limit_requests_fit_the_official_schemas() -> None:
    for version in ("1.6", "2.0.1", "2.1"):
        payload = set_limit_request(version, 1, 3_666.0, profile_id=9_001, stack_level=1)
        assert validate(version, "SetChargingProfile", "request", payload) is None


def test_an_accepted_boot_is_noted_once() -> None:
    tracker = SessionTracker()
    tracker.observe_request("CS1", "2.0.1", "b1", "BootNotification", {"reason": "PowerUp"}, 0.0)
    tracker.observe_request("CS2", "2.0.1", "b2", "BootNotification", {"reason": "PowerUp"}, 0.0)
    assert tracker.observe_answer("CS1", "b1", {"status": "Accepted"})
    assert not tracker.observe_answer("CS2", "b2", {"status": "Pending"})
    assert not tracker.observe_answer("CS1", "b1", {"status": "Accepted"})  # answered already
    assert tracker.booted == {"CS1"}


def test_site_limit_is_capacity_minus_reserve_capped_by_the_grid() -> None:
    config = LoadConfig(capacity_w=12_000, reserve_w=1_000)
    assert config.site_limit_w() == 11_000
    assert config.site_limit_w(7_000) == 7_000
    assert config.site_limit_w(20_000) == 11_000
    assert LoadConfig(capacity_w=500, reserve_w=1_000).site_limit_w() == 0
    with pytest.raises(ValueError, match="evse_min_w"):
        LoadConfig(capacity_w=1, evse_min_w=5, evse_max_w=1)


def test_16_meter_values_of_an_unseen_transaction_start_a_session() -> None:
    tracker = SessionTracker()  # e.g. the node restarted during the session
    values = {"connectorId": 2, "transactionId": 7, "meterValue": meter("2000", {"unit": "W"})}
    assert tracker.observe_request("CS2", "1.6", "m1", "MeterValues", values, 9.0)
    assert tracker.sessions[("CS2", 2)].measured_w == 2_000.0
    assert not tracker.observe_request("CS2", "1.6", "m2", "MeterValues", values, 9.5)
    assert tracker.observe_request("CS2", "1.6", "m3", "StopTransaction",
                                   {"transactionId": 7}, 10.0)
