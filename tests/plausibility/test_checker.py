"""Every rule of the pure checker: plausible data passes, each violation names its rule."""

from __future__ import annotations

from typing import Any

from ocppnet.plausibility import PlausibilityChecker, PlausibilityConfig, Verdict
from tests.plausibility.payloads import (
    at,
    energy,
    meter_values_16,
    now,
    power,
    sample,
    sample_16,
    soc,
    tx_event,
)

CONFIG = PlausibilityConfig(stations={"CS-1": 11_000.0})


def checker() -> PlausibilityChecker:
    return PlausibilityChecker(CONFIG)


def run(c: PlausibilityChecker, payload: dict[str, Any], seconds: float,
        action: str = "TransactionEvent", version: str = "2.0.1") -> Verdict:
    return c.check("CS-1", action, payload, version=version, now=now(seconds))


def rules(verdict: Verdict) -> list[str]:
    return [f.rule for f in verdict.findings]


def started(c: PlausibilityChecker, wh: float = 1000.0) -> None:
    assert run(c, tx_event("Started", 0, 0, energy(wh)), 0).findings == ()


def test_a_plausible_session_passes() -> None:
    c = checker()
    started(c)
    # 11 kW for one hour = 11 kWh, reported in kWh via multiplier 3
    assert run(c, tx_event("Updated", 1, 1800, energy(6500), power(11_000), soc(40)), 1800) \
        == Verdict()
    ended = tx_event("Ended", 2, 3600, sample(12.0, None, "Wh", 3), soc(70))
    assert run(c, ended, 3600) == Verdict()


def test_energy_register_going_back_is_rejected_with_rule_and_field() -> None:
    c = checker()
    started(c, 5000)
    verdict = run(c, tx_event("Updated", 1, 60, energy(4000)), 60)
    [finding] = verdict.findings
    assert (finding.rule, finding.severity, finding.field) == (
        "energy.decreasing", "reject", "meterValue[0].sampledValue[0].value")
    assert "5000.000 Wh to 4000.000 Wh" in finding.detail
    assert verdict.rejected and "energy.decreasing" in verdict.reason()
    assert "meterValue[0].sampledValue[0].value" in verdict.reason()


def test_a_refused_value_does_not_become_the_baseline() -> None:
    c = checker()
    started(c, 5000)
    assert run(c, tx_event("Updated", 1, 60, energy(4000)), 60).rejected
    assert run(c, tx_event("Updated", 2, 120, energy(5100)), 120) == Verdict()


def test_energy_register_is_checked_across_transactions_of_one_meter() -> None:
    c = checker()
    started(c, 5000)
    run(c, tx_event("Ended", 1, 600, energy(6000)), 600)
    verdict = run(c, tx_event("Started", 0, 900, energy(100), tx_id="TX-2"), 900)
    assert rules(verdict) == ["energy.decreasing"]


def test_a_documented_meter_reset_allows_a_lower_register() -> None:
    c = checker()
    started(c, 5000)
    c.meter_reset("CS-1", 1)
    assert run(c, tx_event("Updated", 1, 60, energy(10)), 60) == Verdict()


def test_energy_growth_beyond_max_power_times_time_is_rejected() -> None:
    c = checker()
    started(c, 0)
    # 11 kW x 1.1 for 60 s allow 201.7 Wh + 10 Wh tolerance
    assert run(c, tx_event("Updated", 1, 60, energy(210)), 60) == Verdict()
    verdict = run(c, tx_event("Updated", 2, 120, energy(210 + 250)), 120)
    assert rules(verdict) == ["energy.rate"]
    assert "at most 212 Wh" in verdict.findings[0].detail


def test_max_power_comes_from_the_model_in_boot_notification() -> None:
    c = PlausibilityChecker(PlausibilityConfig(models={"Wallbox-3": 3_700.0}))
    assert c.max_power_w("CS-9") == 350_000.0
    boot = {"reason": "PowerUp", "chargingStation": {"model": "Wallbox-3", "vendorName": "V"}}
    assert c.check("CS-9", "BootNotification", boot, version="2.0.1", now=now(0)) == Verdict()
    assert c.max_power_w("CS-9") == 3_700.0
    verdict = c.check("CS-9", "TransactionEvent", tx_event("Started", 0, 0, power(7_400)),
                      version="2.0.1", now=now(0))
    assert rules(verdict) == ["power.range"]


def test_power_outside_zero_to_max_is_rejected() -> None:
    c = checker()
    assert run(c, tx_event("Started", 0, 0, power(12_000)), 0) == Verdict()  # within x1.1
    assert rules(run(c, tx_event("Updated", 1, 1, power(12_200)), 1)) == ["power.range"]
    assert rules(run(c, tx_event("Updated", 2, 2, power(-5)), 2)) == ["power.range"]
    kw = sample(13.0, "Power.Active.Import", "kW")
    assert rules(run(c, tx_event("Updated", 3, 3, kw), 3)) == ["power.range"]


def test_timestamps_in_the_future_beyond_skew_are_flagged() -> None:
    c = checker()
    verdict = run(c, tx_event("Started", 0, 301, energy(0)), 0)
    assert rules(verdict) == ["time.future", "time.future"]
    assert {f.field for f in verdict.findings} == {"timestamp", "meterValue[0].timestamp"}
    assert not verdict.rejected  # flag: accepted, recorded
    assert run(c, tx_event("Updated", 1, 600, energy(1)), 599) == Verdict()  # within skew


def test_timestamps_before_the_transaction_start_are_flagged() -> None:
    c = checker()
    started(c)
    verdict = run(c, tx_event("Updated", 1, 60, energy(1000), sample_at=-60), 60)
    assert rules(verdict) == ["time.before_start"]
    assert verdict.findings[0].field == "meterValue[0].timestamp"


def test_seq_no_repeats_are_duplicates_and_going_back_is_out_of_order() -> None:
    c = checker()
    started(c)
    assert run(c, tx_event("Updated", 5, 10), 10) == Verdict()  # gaps are allowed
    duplicate = run(c, tx_event("Updated", 5, 20), 20)
    assert rules(duplicate) == ["seqno.duplicate"] and duplicate.findings[0].field == "seqNo"
    assert rules(run(c, tx_event("Updated", 3, 30), 30)) == ["seqno.order"]
    assert run(c, tx_event("Updated", 6, 40), 40) == Verdict()


def test_seq_no_is_per_transaction() -> None:
    c = checker()
    started(c)
    assert run(c, tx_event("Started", 0, 5, tx_id="TX-2", evse=2), 5) == Verdict()


def test_ended_without_started_is_flagged() -> None:
    c = checker()
    verdict = run(c, tx_event("Ended", 3, 0, energy(10), tx_id="TX-9"), 0)
    assert rules(verdict) == ["tx.ended_without_started"]
    assert "TX-9" in verdict.findings[0].detail


def test_units_are_normalised_and_foreign_units_rejected() -> None:
    c = checker()
    started(c, 1000)
    # 1.2 kWh written as Wh with multiplier 3, then as 1.3 kWh: both plausible
    assert run(c, tx_event("Updated", 1, 60, sample(1.2, None, None, 3)), 60) == Verdict()
    assert run(c, tx_event("Updated", 2, 120, sample(1.3, None, "kWh")), 120) == Verdict()
    verdict = run(c, tx_event("Updated", 3, 180, sample(1.4, None, "MWh")), 180)
    assert rules(verdict) == ["units"]
    assert verdict.findings[0].field == "meterValue[0].sampledValue[0].unitOfMeasure"


def test_soc_outside_0_to_100_is_rejected() -> None:
    c = checker()
    assert rules(run(c, tx_event("Started", 0, 0, soc(101)), 0)) == ["soc.range"]
    assert rules(run(c, tx_event("Started", 0, 0, soc(-1)), 0)) == ["soc.range"]


def test_soc_jumps_faster_than_physically_possible_are_flagged() -> None:
    c = checker()
    assert run(c, tx_event("Started", 0, 0, soc(20)), 0) == Verdict()
    assert run(c, tx_event("Updated", 1, 60, soc(25)), 60) == Verdict()  # 300 %/h: 5 % + 2
    verdict = run(c, tx_event("Updated", 2, 120, soc(60)), 120)
    assert rules(verdict) == ["soc.jump"] and not verdict.rejected


def test_soc_starts_afresh_with_a_new_car() -> None:
    c = checker()
    run(c, tx_event("Started", 0, 0, soc(90)), 0)
    run(c, tx_event("Ended", 1, 60, soc(91)), 60)
    assert run(c, tx_event("Started", 0, 120, soc(10), tx_id="TX-2"), 120) == Verdict()


def test_severity_off_disables_a_rule_and_flag_accepts() -> None:
    rules_ = {**CONFIG.rules, "energy.decreasing": "flag", "energy.rate": "off"}
    c = PlausibilityChecker(PlausibilityConfig(stations=CONFIG.stations, rules=rules_))
    run(c, tx_event("Started", 0, 0, energy(5000)), 0)
    verdict = run(c, tx_event("Updated", 1, 1, energy(1)), 1)
    assert rules(verdict) == ["energy.decreasing"] and not verdict.rejected
    assert run(c, tx_event("Updated", 2, 2, energy(999_999)), 2) == Verdict()


def test_ocpp16_start_meter_values_and_stop_are_judged() -> None:
    c = checker()
    start = {"connectorId": 1, "idTag": "T", "meterStart": 2000, "timestamp": at(0)}
    assert run(c, start, 0, "StartTransaction", "1.6") == Verdict()
    kw = sample_16("7000", "Power.Active.Import", "W")
    mv = meter_values_16(1, 60, sample_16("2.1", unit="kWh"), kw, tx_id=7)
    assert run(c, mv, 60, "MeterValues", "1.6") == Verdict()
    back = meter_values_16(1, 120, sample_16("2050"), tx_id=7)
    assert rules(run(c, back, 120, "MeterValues", "1.6")) == ["energy.decreasing"]
    garbage = meter_values_16(1, 120, sample_16("lots"), tx_id=7)
    verdict = run(c, garbage, 120, "MeterValues", "1.6")
    assert rules(verdict) == ["value.numeric"]
    assert verdict.findings[0].field == "meterValue[0].sampledValue[0].value"
    stop = {"transactionId": 7, "meterStop": 99_000, "timestamp": at(180), "idTag": "T"}
    verdict = run(c, stop, 180, "StopTransaction", "1.6")
    assert rules(verdict) == ["energy.rate"] and verdict.findings[0].field == "meterStop"
    stop = {**stop, "meterStop": 2300}
    assert run(c, stop, 180, "StopTransaction", "1.6") == Verdict()
    # the next transaction on the connector may not start below the last register
    start = {**start, "meterStart": 0, "timestamp": at(300)}
    assert rules(run(c, start, 300, "StartTransaction", "1.6")) == ["energy.decreasing"]


def test_meter_values_version_follows_the_payload_when_relayed_by_a_node() -> None:
    c = checker()
    mv = meter_values_16(1, 0, sample_16("12.5", "Power.Active.Import", "kW"))
    assert rules(run(c, mv, 0, "MeterValues", "2.0.1")) == ["power.range"]


def test_stations_do_not_share_state_and_other_actions_pass() -> None:
    c = checker()
    started(c, 5000)
    verdict = c.check("CS-2", "TransactionEvent", tx_event("Started", 0, 0, energy(10)),
                      version="2.0.1", now=now(0))
    assert verdict == Verdict()
    assert c.check("CS-1", "Heartbeat", {}, version="2.0.1", now=now(0)) == Verdict()
    c.forget("CS-1")
    assert run(c, tx_event("Updated", 1, 1, energy(1)), 1) == Verdict()
