"""Grid operator payloads: schema-valid both ways, parsed back, receipts proven or refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ocppnet.grid.lpc import Curtail, LpcMachine, LpcSettings, LpcState, LpcStatus
from ocppnet.grid.messages import (
    GRID_PROFILE_ID,
    VENDOR_ID,
    MessageError,
    curtail_request,
    heartbeat_request,
    measurement_request,
    parse_command,
    parse_heartbeat,
    parse_receipt,
    receipt_fields,
    release_request,
)
from ocppnet.grid.receipts import check_receipt
from ocppnet.security import KeyPair, TrustStore
from ocppnet.security.signatures import sign
from ocppnet.validation import validate

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
T0 = NOW.timestamp()


def limited_status() -> tuple[LpcMachine, LpcStatus]:
    m = LpcMachine(LpcSettings(), now=T0)
    return m, m.handle(Curtail(6_000.0, 900.0, T0))


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_curtail_and_release_are_valid_official_requests(version: str) -> None:
    curtail = curtail_request(6_000.0, 899.2, sequence=7)
    assert validate(version, "SetChargingProfile", "request", curtail) is None
    assert parse_command("SetChargingProfile", curtail) == type(parse_command(
        "SetChargingProfile", curtail))(7, 6_000.0, 900.0)
    release = release_request(sequence=8)
    assert validate(version, "ClearChargingProfile", "request", release) is None
    assert parse_command("ClearChargingProfile", release).sequence == 8


def test_foreign_profiles_are_not_grid_commands() -> None:
    other = curtail_request(6_000.0, 60.0, sequence=1)
    other["chargingProfile"]["customData"] = {"vendorId": "someone.else", "sequence": 1}
    with pytest.raises(MessageError, match=r"chargingProfile\.customData: not a grid operator"):
        parse_command("SetChargingProfile", other)
    no_duration = curtail_request(6_000.0, 60.0, sequence=1)
    del no_duration["chargingProfile"]["chargingSchedule"][0]["duration"]
    with pytest.raises(MessageError, match="duration"):
        parse_command("SetChargingProfile", no_duration)
    tx = curtail_request(6_000.0, 60.0, sequence=1)
    tx["chargingProfile"]["chargingProfilePurpose"] = "TxDefaultProfile"
    with pytest.raises(MessageError, match="purpose"):
        parse_command("SetChargingProfile", tx)
    with pytest.raises(MessageError, match="chargingProfileId"):
        parse_command("ClearChargingProfile", {"chargingProfileId": 1})


def test_heartbeat_and_measurement_match_their_schemas() -> None:
    beat = heartbeat_request(sequence=3, period_s=60.0, limit_w=6_000.0, remaining_s=30.0)
    assert validate("2.0.1", "GridHeartbeat", "request", beat) is None
    assert parse_heartbeat(beat) == (3, (6_000.0, 30.0))
    plain = heartbeat_request(sequence=4, period_s=60.0)
    assert "limit" not in plain and parse_heartbeat(plain) == (4, None)
    _, status = limited_status()
    answer = {"status": "Accepted", "receipt": receipt_fields("NODE-B", 3, status)}
    assert validate("2.1", "GridHeartbeat", "response", answer) is None
    measured = measurement_request(target="NODE-B", sequence=1, now=T0, power_w=5_432.12,
                                   meter="sim", status=status)
    assert validate("2.1", "GridMeasurement", "request", measured) is None
    assert measured["limitW"] == 6_000.0 and measured["state"] == "limited"
    bad = dict(beat, periodS=0)
    failure = validate("2.0.1", "GridHeartbeat", "request", bad)
    assert failure is not None and "periodS" in failure.description


def test_receipt_roundtrip_in_custom_data() -> None:
    _, status = limited_status()
    response = {"status": "Accepted",
                "customData": {"vendorId": VENDOR_ID, **receipt_fields("CS-1", 5, status)}}
    assert validate("2.0.1", "SetChargingProfile", "response", response) is None
    receipt = parse_receipt("SetChargingProfile", response)
    assert (receipt.target, receipt.sequence, receipt.state, receipt.limit_w) == (
        "CS-1", 5, LpcState.LIMITED, 6_000.0)
    assert receipt.since == pytest.approx(T0, abs=0.001)
    assert receipt.until == pytest.approx(T0 + 900.0, abs=0.001)
    with pytest.raises(MessageError, match="no receipt"):
        parse_receipt("SetChargingProfile", {"status": "Accepted"})


# --- proof: signed by the target's key ---------------------------------------------------

SITE = KeyPair.generate("ed25519")
MIDDLE = KeyPair.generate("secp256r1")


def signed_answer(key: KeyPair, *, target: str = "NODE-B", sequence: int = 5) -> dict[str, Any]:
    _, status = limited_status()
    response = {"status": "Accepted", "receipt": receipt_fields(target, sequence, status)}
    return sign(response, action="GridHeartbeat", kind="response", version="2.1", key=key,
                now=NOW)


def keys_of_target() -> TrustStore:
    trust = TrustStore()
    trust.add(SITE.public_key, name="NODE-B")
    return trust


def check(response: dict[str, Any], sequence: int = 5) -> tuple[bool, str]:
    verdict = check_receipt("GridHeartbeat", response, target="NODE-B", sequence=sequence,
                            target_keys=keys_of_target(), version="2.1", now=NOW)
    return verdict.ok, verdict.reason


def test_a_receipt_signed_by_the_target_is_proven() -> None:
    assert check(signed_answer(SITE)) == (True, "valid")


def test_a_receipt_signed_by_someone_else_is_refused() -> None:
    ok, reason = check(signed_answer(MIDDLE))
    assert not ok and "not signed by NODE-B's key" in reason


def test_a_tampered_receipt_is_refused() -> None:
    answer = signed_answer(SITE)
    answer["receipt"] = dict(answer["receipt"], state="unlimited")
    del answer["receipt"]["limitW"]
    ok, reason = check(answer)
    assert not ok and "invalid" in reason


def test_unsigned_replayed_and_misaddressed_receipts_are_refused() -> None:
    _, status = limited_status()
    unsigned = {"status": "Accepted", "receipt": receipt_fields("NODE-B", 5, status)}
    assert check(unsigned)[1].startswith("unsigned")
    ok, reason = check(signed_answer(SITE, sequence=4))
    assert not ok and reason == "receipt answers sequence 4, expected 5"
    ok, reason = check(signed_answer(SITE, target="NODE-X"))
    assert not ok and reason == "receipt names NODE-X, expected NODE-B"


def test_profile_id_is_fixed_so_a_new_limit_replaces_the_old() -> None:
    a = curtail_request(6_000.0, 60.0, sequence=1)
    b = curtail_request(9_000.0, 60.0, sequence=2)
    assert a["chargingProfile"]["id"] == b["chargingProfile"]["id"] == GRID_PROFILE_ID
