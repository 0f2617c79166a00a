"""Property tests: build/parse round trips and byte-exact verification of OCMF records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocppnet.metering import (
    LossCompensation,
    MeterKey,
    OcmfError,
    Payload,
    Reading,
    format_time,
    parse_record,
    parse_time,
    sign_payload,
    verify_record,
)
from ocppnet.metering.jsontext import dumps
from ocppnet.metering.payload import payload_to_json
from ocppnet.metering.vocabulary import (
    IDENTIFICATION_FLAGS,
    IDENTIFICATION_LEVELS,
    IDENTIFICATION_TYPES,
    METER_STATUS,
    READING_REASONS,
    TIME_STATUS,
)

KEY = MeterKey.generate()
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

text = st.text(st.characters(blacklist_characters="|", blacklist_categories=("Cs",)),
               max_size=12)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=3,
                       min_value=Decimal("-1e9"), max_value=Decimal("1e9"))
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)),
                                                  timezone(timedelta(hours=-5, minutes=-30))]))


@st.composite
def times(draw: st.DrawFn) -> Any:
    moment = draw(moments).replace(microsecond=draw(st.integers(0, 999)) * 1000)
    return parse_time(format_time(moment, draw(st.sampled_from(sorted(TIME_STATUS)))), "TM")[0]


readings = st.builds(
    Reading, time=times(), reason=st.none() | st.sampled_from(sorted(READING_REASONS)),
    value=st.none() | decimals, obis=st.none() | st.just("01-00:01.08.00*FF"),
    unit=st.none() | st.sampled_from(["kWh", "Wh"]),
    current_type=st.none() | st.sampled_from(["AC", "DC"]),
    cumulated_loss=st.none() | decimals, error_flags=st.none() | st.sampled_from(["", "E", "t"]),
    status=st.sampled_from(sorted(METER_STATUS)))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | decimals | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6)
vendor = st.dictionaries(st.builds(lambda p, s: p + s, st.sampled_from("UVWXYZ"), text),
                         json_values, max_size=3)
optional = st.none() | text

payloads = st.builds(
    Payload,
    pagination=st.builds(lambda c, n: f"{c}{n}", st.sampled_from("TF"), st.integers(0, 10**9)),
    readings=st.lists(readings, min_size=1, max_size=4).map(tuple),
    format_version=optional, gateway_id=optional, gateway_serial=optional,
    gateway_version=optional, meter_vendor=optional, meter_model=optional,
    meter_serial=text, meter_firmware=optional,
    identification_status=st.none() | st.booleans(),
    identification_level=st.none() | st.sampled_from(sorted(IDENTIFICATION_LEVELS)),
    identification_flags=st.none() | st.lists(st.sampled_from(sorted(IDENTIFICATION_FLAGS)),
                                              max_size=4).map(tuple),
    identification_type=st.none() | st.sampled_from(sorted(IDENTIFICATION_TYPES)),
    identification_data=optional, tariff_text=optional, charge_controller_firmware=optional,
    loss_compensation=st.none() | st.builds(LossCompensation, decimals,
                                            st.sampled_from(["mOhm", "uOhm"]), optional,
                                            st.none() | st.integers(0, 1000)),
    charge_point_id_type=st.none() | st.sampled_from(["EVSEID", "CBIDC"]),
    charge_point_id=optional, vendor=vendor)


@SETTINGS
@given(payloads)
def test_build_then_parse_gives_the_same_payload_and_bytes(payload: Payload) -> None:
    record = sign_payload(payload, KEY)
    assert record.payload == payload
    assert dumps(payload_to_json(record.payload)) == record.payload_text
    assert parse_record(record.text) == record
    assert verify_record(record, KEY.public).valid


@SETTINGS
@given(payloads, st.data())
def test_any_change_to_the_signed_bytes_is_caught(payload: Payload, data: st.DataObject) -> None:
    record = sign_payload(payload, KEY)
    position = data.draw(st.integers(0, len(record.payload_text) - 1))
    replacement = data.draw(st.characters(blacklist_characters="|",
                                          blacklist_categories=("Cs",)))
    changed = record.payload_text[:position] + replacement + record.payload_text[position + 1:]
    if changed == record.payload_text:
        return
    try:
        altered = parse_record(f"OCMF|{changed}|{record.signature_text}")
    except OcmfError:
        return  # no longer OCMF at all: refused with a reason
    assert not verify_record(altered, KEY.public).valid


@SETTINGS
@given(payloads, st.sampled_from([" ", "\n", "\t", "\r\n  "]))
def test_whitespace_changes_nothing_readable_but_breaks_the_signature(
        payload: Payload, space: str) -> None:
    record = sign_payload(payload, KEY)
    # only where JSON allows whitespace whatever the values hold: after "{" and before "}"
    # (a ',"' or ':' may sit inside a string value, e.g. a serial ending in a comma)
    text = record.payload_text
    spaced = "{" + space + text[1:-1] + space + "}"
    again = parse_record(f"OCMF|{spaced}|{record.signature_text}")
    assert again.payload == record.payload
    assert again.payload_text == spaced
    assert not verify_record(again, KEY.public).valid
