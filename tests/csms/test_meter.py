"""Pure meter-value conversion and token decisions."""

from __future__ import annotations

from datetime import timedelta

from ocppnet.csms.authorization import id_tag_info, token_status
from ocppnet.csms.meter import energy_wh, samples_v2, samples_v16
from ocppnet.store import IdTokenRecord

from .conftest import T0


def test_v2_multiplier_units_and_missing_timestamp() -> None:
    rows = samples_v2(
        [{"timestamp": "bad", "sampledValue": [
            {"value": 2.5, "unitOfMeasure": {"unit": "kWh", "multiplier": 1}},
            {"value": 7.0, "phase": "L1"}]}],
        station_id="CS1", now=T0, evse_id=1, transaction_key=9)
    assert [(r.value, r.unit, r.timestamp) for r in rows] == [(25.0, "kWh", T0), (7.0, "Wh", T0)]
    assert energy_wh(rows) == 25_000.0  # the phase reading is not the whole-meter register


def test_v16_strings_signed_and_garbage() -> None:
    rows = samples_v16(
        [{"timestamp": "2025-03-01T12:00:10Z", "sampledValue": [
            {"value": "12"}, {"value": "xx"}, {"value": "abc", "format": "SignedData"},
            {"value": "nan"}]}],
        station_id="CP", now=T0)
    assert [r.value for r in rows] == [12.0, None, None, None]
    assert rows[0].timestamp == T0 + timedelta(seconds=10)
    assert rows[2].signed_data == {"format": "SignedData", "value": "abc"}
    assert energy_wh(rows) == 12.0
    assert energy_wh([]) is None


def test_token_status() -> None:
    expired = IdTokenRecord("A", "Accepted", expiry=T0)
    assert token_status(expired, accept_unknown=False, now=T0) == "Expired"
    assert token_status(None, accept_unknown=True, now=T0) == "Accepted"
    assert token_status(None, accept_unknown=False, now=T0) == "Invalid"
    assert id_tag_info("Unknown", None) == {"status": "Invalid"}
