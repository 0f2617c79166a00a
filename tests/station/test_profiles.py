from typing import Any

import pytest

from ocppnet.rpc.timestamps import format_seconds, parse_seconds
from ocppnet.station.profile_store import Electrical, ProfileStore
from ocppnet.station.profiles import (
    ChargingProfile,
    ProfileRejection,
    Purpose,
    profile_from_16,
    profile_from_201,
)

T0 = parse_seconds("2025-01-01T00:00:00Z")


def p201(pid: int, purpose: str, limit: float, *, evse: int = 1, stack: int = 0,
         unit: str = "W", kind: str = "Absolute", start: float | None = T0,
         periods: list[dict[str, Any]] | None = None, **extra: Any) -> ChargingProfile:
    schedule: dict[str, Any] = {
        "id": pid, "chargingRateUnit": unit,
        "chargingSchedulePeriod": periods or [{"startPeriod": 0, "limit": limit}],
    }
    if start is not None:
        schedule["startSchedule"] = format_seconds(start)
    schedule.update(extra.pop("schedule", {}))
    raw = {"id": pid, "stackLevel": stack, "chargingProfilePurpose": purpose,
           "chargingProfileKind": kind, "chargingSchedule": [schedule], **extra}
    result = profile_from_201({"evseId": evse, "chargingProfile": raw}, T0)
    assert isinstance(result, ChargingProfile), result
    return result


def test_parse_201_and_16_give_the_same_profile() -> None:
    a = p201(7, "TxDefaultProfile", 16, unit="A", stack=2)
    b = profile_from_16({"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 7, "stackLevel": 2, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "startSchedule": format_seconds(T0),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}}, T0)
    assert a == b


def test_16_charge_point_max_maps_to_station_max() -> None:
    p = profile_from_16({"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Relative", "chargingSchedule": {
            "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5}]}}},
        T0)
    assert isinstance(p, ChargingProfile) and p.purpose is Purpose.STATION_MAX


@pytest.mark.parametrize(("request_", "code"), [
    ({"evseId": 1, "chargingProfile": {"id": 1, "stackLevel": 0,
      "chargingProfilePurpose": "PriorityCharging", "chargingProfileKind": "Absolute",
      "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}]}]}},
     "UnsupportedPurpose"),
    ({"evseId": 1, "chargingProfile": {"id": 1, "stackLevel": 0,
      "chargingProfilePurpose": "ChargingStationMaxProfile", "chargingProfileKind": "Absolute",
      "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}]}]}},
     "InvalidEvse"),
    ({"evseId": 0, "chargingProfile": {"id": 1, "stackLevel": 0,
      "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
      "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}]}]}},
     "InvalidEvse"),
    ({"evseId": 1, "chargingProfile": {"id": 1, "stackLevel": 0,  # 2.1 period without limit
      "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
      "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "setpoint": 1}]}]}},
     "InvalidSchedule"),
    ({"evseId": 1, "chargingProfile": {"id": 1, "stackLevel": 0,
      "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Recurring",
      "recurrencyKind": "Daily", "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
      "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}]}]}},
     "InvalidSchedule"),
    ({"evseId": 1, "chargingProfile": {"id": 1, "stackLevel": 0,
      "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
      "validFrom": "yesterday", "chargingSchedule": [{"id": 1, "chargingRateUnit": "W",
      "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1}]}]}},
     "InvalidSchedule"),
])
def test_unsupported_profiles_are_rejections_not_exceptions(
        request_: dict[str, Any], code: str) -> None:
    result = profile_from_201(request_, T0)
    assert isinstance(result, ProfileRejection)
    assert result.reason_code == code and len(code) <= 20


def test_amperes_become_watts_with_voltage_and_phases() -> None:
    store = ProfileStore(Electrical(voltage_v=230, phases=3))
    store.install(p201(1, "TxDefaultProfile", 16, unit="A"))
    assert store.evse_limit_w(1, T0) == pytest.approx(16 * 230 * 3)
    store.install(p201(2, "TxDefaultProfile", 10, unit="A", stack=1,
                       periods=[{"startPeriod": 0, "limit": 10, "numberPhases": 1}]))
    assert store.evse_limit_w(1, T0) == pytest.approx(2_300)


def test_highest_stack_level_wins_within_a_purpose_even_if_higher() -> None:
    store = ProfileStore()
    store.install(p201(1, "TxDefaultProfile", 5_000, stack=0))
    store.install(p201(2, "TxDefaultProfile", 9_000, stack=3))
    assert store.evse_limit_w(1, T0 + 10) == 9_000


def test_lower_stack_fills_when_higher_has_no_period() -> None:
    store = ProfileStore()
    store.install(p201(1, "TxDefaultProfile", 5_000, stack=0))
    store.install(p201(2, "TxDefaultProfile", 9_000, stack=3, schedule={"duration": 60}))
    assert store.evse_limit_w(1, T0 + 30) == 9_000
    assert store.evse_limit_w(1, T0 + 61) == 5_000


def test_minimum_over_purposes_and_tx_profile_overrides_default() -> None:
    store = ProfileStore()
    store.install(p201(1, "TxDefaultProfile", 3_000, evse=0))
    assert store.evse_limit_w(1, T0, transaction_id="tx") == 3_000
    store.install(p201(2, "TxProfile", 8_000, transactionId="tx"))
    assert store.evse_limit_w(1, T0, transaction_id="tx") == 8_000  # overrides TxDefault
    assert store.evse_limit_w(1, T0, transaction_id="other") == 3_000
    store.install(p201(3, "ChargingStationExternalConstraints", 6_000))
    assert store.evse_limit_w(1, T0, transaction_id="tx") == 6_000
    store.install(p201(4, "ChargingStationMaxProfile", 4_000, evse=0))
    store.install(p201(5, "ChargingStationExternalConstraints", 4_500, evse=0))
    assert store.station_limit_w(T0) == 4_000


def test_periods_follow_time() -> None:
    store = ProfileStore()
    store.install(p201(1, "TxDefaultProfile", 0, periods=[
        {"startPeriod": 0, "limit": 11_000}, {"startPeriod": 600, "limit": 2_000}]))
    assert store.evse_limit_w(1, T0 + 599) == 11_000
    assert store.evse_limit_w(1, T0 + 600) == 2_000
    assert store.evse_limit_w(1, T0 - 1) is None  # not started yet


def test_relative_profiles_start_with_the_transaction() -> None:
    store = ProfileStore()
    store.install(p201(1, "TxDefaultProfile", 0, kind="Relative", start=None, periods=[
        {"startPeriod": 0, "limit": 1_000}, {"startPeriod": 100, "limit": 2_000}]))
    assert store.evse_limit_w(1, T0 + 5_000, transaction_id="t", tx_start=T0 + 4_950) == 1_000
    assert store.evse_limit_w(1, T0 + 5_000, transaction_id="t", tx_start=T0 + 4_900) == 2_000


def test_daily_recurring_repeats() -> None:
    store = ProfileStore()
    store.install(p201(1, "TxDefaultProfile", 0, kind="Recurring", recurrencyKind="Daily",
                       periods=[{"startPeriod": 0, "limit": 1_000},
                                {"startPeriod": 3_600, "limit": 7_000}]))
    assert store.evse_limit_w(1, T0 + 3 * 86_400 + 10) == 1_000
    assert store.evse_limit_w(1, T0 + 3 * 86_400 + 3_700) == 7_000


def test_valid_from_and_to() -> None:
    store = ProfileStore()
    store.install(p201(1, "TxDefaultProfile", 1_000, validFrom=format_seconds(T0 + 10),
                       validTo=format_seconds(T0 + 20)))
    assert store.evse_limit_w(1, T0 + 5) is None
    assert store.evse_limit_w(1, T0 + 15) == 1_000
    assert store.evse_limit_w(1, T0 + 20) is None


def test_replacement_and_clearing() -> None:
    store = ProfileStore()
    store.install(p201(1, "TxDefaultProfile", 1_000, stack=1))
    store.install(p201(2, "TxDefaultProfile", 2_000, stack=1))  # same purpose+stack+evse
    assert [p.id for p in store.profiles()] == [2]
    store.install(p201(2, "TxDefaultProfile", 3_000, stack=4))  # same id
    assert [(p.id, p.stack_level) for p in store.profiles()] == [(2, 4)]
    store.install(p201(3, "TxProfile", 500, transactionId="tx"))
    store.install(p201(4, "ChargingStationMaxProfile", 500, evse=0))
    assert store.clear(purpose=Purpose.TX_DEFAULT) == 1
    assert store.clear(profile_id=99) == 0
    assert store.end_transaction("tx") == 1
    assert [p.id for p in store.profiles()] == [4]
    assert store.clear() == 1 and len(store) == 0
