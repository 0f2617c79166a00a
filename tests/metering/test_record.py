"""Unit tests of the OCMF core: exact bytes, every curve, precise errors, vendor fields."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ocppnet.metering import (
    SIGNATURE_ALGORITHMS,
    LossCompensation,
    MeterKey,
    OcmfError,
    Verdict,
    parse_obis,
    parse_public_key,
    parse_record,
    parse_time,
    sign_payload,
    verify_record,
)
from ocppnet.metering.payload import payload_to_json

from .builders import T0, T1, payload, reading

KEY = MeterKey.generate()


@pytest.mark.parametrize("algorithm",
                         [n for n, c in SIGNATURE_ALGORITHMS.items() if c is not None])
def test_every_available_curve_signs_and_verifies(algorithm: str) -> None:
    key = MeterKey.generate(algorithm)
    record = sign_payload(payload(1, reading("0.10", "B", T0)), key)
    assert record.signature.algorithm == algorithm
    assert verify_record(record, key.public).valid
    assert not verify_record(record, MeterKey.generate(algorithm).public).valid


def test_secp192k1_keys_round_trip_pem_and_hex() -> None:
    key = MeterKey.generate("ECDSA-secp192k1-SHA256")
    again = MeterKey.from_pem(key.pem())
    assert again.public == key.public and again.curve == "secp192k1"
    assert parse_public_key(key.public.hex()).curve == "secp192k1"
    record = sign_payload(payload(1, reading("0.10", "B", T0)), again)
    assert verify_record(record, key.public).valid
    assert not verify_record(record, KEY.public).valid  # another curve: a reason, no crash


def test_an_unknown_algorithm_is_a_reason() -> None:
    record = sign_payload(payload(1, reading("0.10", "B", T0)), KEY)
    text = record.text.replace('"SA":"ECDSA-secp256r1-SHA256"', '"SA":"RSA-2048-SHA256"')
    verdict = verify_record(parse_record(text), KEY.public)
    assert verdict == Verdict(False, "signature.SA: unknown signature algorithm "
                                     "'RSA-2048-SHA256'")


def test_payload_bytes_are_the_exact_substring() -> None:
    record = sign_payload(payload(3, reading("2935.600", "B", T0)), KEY)
    assert f"OCMF|{record.payload_text}|{record.signature_text}" == record.text
    assert '"RV":2935.600' in record.payload_text
    assert record.payload.readings[0].value == Decimal("2935.600")
    assert str(record.payload.readings[0].value) == "2935.600"


def test_whitespace_added_after_signing_breaks_the_signature() -> None:
    record = sign_payload(payload(3, reading("1.00", "B", T0)), KEY)
    spaced = record.text.replace('"PG":', '"PG" : ', 1)
    reparsed = parse_record(spaced)
    assert reparsed.payload == record.payload  # same values ...
    assert not verify_record(reparsed, KEY.public).valid  # ... but not the signed bytes


def test_surrounding_whitespace_and_hex_encoding_are_accepted() -> None:
    record = sign_payload(payload(4, reading("1.00", "B", T0)), KEY)
    assert verify_record(parse_record(f"\n   {record.text}\n"), KEY.public).valid
    assert verify_record(parse_record(record.text.encode().hex()), KEY.public).valid


def test_appended_key_is_used_and_said() -> None:
    record = sign_payload(payload(5, reading("1.00", "B", T0)), KEY)
    with_key = parse_record(f"{record.text}|{KEY.public.hex()}")
    verdict = verify_record(with_key, None)
    assert verdict.valid and "appended to the record" in verdict.reason
    assert not verify_record(record, None).valid


def test_vendor_and_unknown_fields_are_kept_and_signed() -> None:
    base = payload(6, reading("1.00", "B", T0))
    with_vendor = type(base)(**{**{f: getattr(base, f) for f in base.__slots__},
                                "vendor": {"XA": {"n": Decimal("1.50")}, "ZZ": "z"},
                                "loss_compensation": LossCompensation(Decimal("2"), "mOhm",
                                                                      "cable", 1),
                                "tariff_text": "Tarif 1", "charge_controller_firmware": "4.2"})
    record = sign_payload(with_vendor, KEY)
    assert record.payload.vendor == {"XA": {"n": Decimal("1.50")}, "ZZ": "z"}
    assert record.payload_text.endswith('"XA":{"n":1.50},"ZZ":"z"}')
    assert record.payload.loss_compensation == LossCompensation(Decimal("2"), "mOhm",
                                                                "cable", 1)
    assert not record.issues
    odd = parse_record(record.text.replace('"ZZ":"z"', '"QQ":"q"'))
    assert odd.payload.extra == {"QQ": "q"}
    assert any("payload.QQ: not a field" in issue for issue in odd.issues)


@pytest.mark.parametrize(("text", "message"), [
    ("OCPP|{}|{}", "header: the record does not start with 'OCMF|'"),
    ("OCMF|{}", "record: 2 sections"),
    ('OCMF|{"PG":"T1","PG":"T2","RD":[]}|{"SD":"00"}', "payload: duplicate key 'PG'"),
    ('OCMF|{"PG":"T1","RD":[{"TM":"2020","ST":"G"}]}|{"SD":"00"}', "payload.RD[0].TM"),
    ('OCMF|{"PG":"T1","RD":[]}|{"SD":"00"}', "payload.RD: expected a non-empty array"),
    ('OCMF|{"RD":[{}]}|{"SD":"00"}', "payload.PG: missing"),
    ('OCMF|{"PG":"T1","IS":"yes","RD":[{}]}|{"SD":"00"}', "payload.IS: expected true"),
    ('OCMF|{"PG":"T1","RD":[{"TM":"2018-07-24T13:22:04,000+0200 S","RV":"x"}]}|{"SD":"0"}',
     "payload.RD[0].RV: 'x' is not a number"),
    ('OCMF|{"PG":"T1","RD":[{"TM":"2018-07-24T13:22:04,000+0200 S"}]}|{}',
     "signature.SD: missing"),
    ('OCMF|{"PG":"T1",|{"SD":"00"}', "payload: not JSON"),
    ('OCMF|{"PG":"T1","RD":[{"TM":"2018-07-24T13:22:04,000+0200 S","RV":NaN}]}|{"SD":"0"}',
     "payload: NaN is not a JSON number"),
])
def test_bad_records_name_the_field(text: str, message: str) -> None:
    with pytest.raises(OcmfError) as info:
        parse_record(text)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_spec_deviations_are_issues() -> None:
    record = sign_payload(payload(7, reading("1.00", "B", T0)), KEY)
    odd = parse_record(record.text.replace('"ST":"G"', '"ST":"Q"')
                       .replace('"PG":"T7"', '"PG":"T07"').replace('"IT":"CENTRAL"', '"IT":"X"'))
    assert "payload.RD[0].ST: unknown value 'Q'" in odd.issues
    assert "payload.IT: unknown value 'X'" in odd.issues
    assert any(issue.startswith("payload.PG:") for issue in odd.issues)


def test_omitted_reading_fields_repeat_the_previous_reading() -> None:
    text = ('OCMF|{"PG":"T1","MS":"m","RD":[{"TM":"2018-07-24T13:22:04,000+0200 S","TX":"B",'
            '"RV":1.0,"RI":"1-b:1.8.0","RU":"kWh","ST":"G"},{"TM":"2018-07-24T13:30:00,000+0200'
            ' S","TX":"E","RV":2.5}]}|{"SD":"00"}')
    second = parse_record(text).payload.effective_readings()[1]
    assert (second.obis, second.unit, second.status, second.value) == \
        ("1-b:1.8.0", "kWh", "G", Decimal("2.5"))


def test_times_keep_text_status_and_instant() -> None:
    time, issues = parse_time("2018-07-24T13:22:04,000+0200 S", "TM")
    assert time.status == "S" and time.synchronized and not issues
    assert time.moment.utcoffset() is not None
    assert time.moment.isoformat() == "2018-07-24T13:22:04+02:00"
    _, issues = parse_time("2018-07-24T13:22:04,000+0200", "TM")
    assert issues == ["TM: '2018-07-24T13:22:04,000+0200' has no time status letter"]


def _register(text: str) -> str | None:
    obis = parse_obis(text)
    assert obis is not None
    return obis.register


def test_obis_spellings() -> None:
    assert _register("01-00:01.08.00*FF") == "active energy import"
    assert _register("1-b:1.8.0") == "active energy import"
    assert _register("01-00:B3.08.00*FF") == "transaction import device energy"
    assert _register("01-00:00.08.06.FF") is None
    assert parse_obis("kWh") is None


def test_build_order_is_the_specification_order() -> None:
    keys = list(payload_to_json(payload(1, reading("1", "B", T0), reading("2", "E", T1))))
    assert keys == ["FV", "GI", "GS", "GV", "PG", "MV", "MM", "MS", "MF", "IS", "IL", "IF",
                    "IT", "ID", "CT", "CI", "RD"]


def test_meter_key_is_never_printed_and_round_trips_pem() -> None:
    assert "PRIVATE" not in repr(KEY)
    again = MeterKey.from_pem(KEY.pem())
    assert again.public == KEY.public
    with pytest.raises(OcmfError, match="does not match"):
        MeterKey.from_pem(KEY.pem(), "ECDSA-secp384r1-SHA256")
