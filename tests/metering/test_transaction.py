"""A transaction's signed records checked as a whole: energy, meter, pagination, states."""

from __future__ import annotations

from decimal import Decimal

from ocppnet.metering import (
    MeterKey,
    SignedReading,
    check_transaction,
    parse_record,
    sign_payload,
    verify_record,
)

from .builders import T0, T1, payload, reading

KEY = MeterKey.generate()


def _signed(label: str, text: str) -> SignedReading:
    record = parse_record(text)
    return SignedReading(label, record, verify_record(record, KEY.public))


def test_a_good_transaction_gives_its_energy() -> None:
    begin = sign_payload(payload(10, reading("100.250", "B", T0)), KEY)
    end = sign_payload(payload(11, reading("121.750", "E", T1)), KEY)
    check = check_transaction([_signed("begin", begin.text), _signed("end", end.text)])
    assert check.ok, check.problems
    assert (check.energy, check.unit, check.meter_serial) == (Decimal("21.500"), "kWh",
                                                              "SIM-METER-1")
    assert check.started == T0 and check.stopped is not None


def test_begin_and_end_in_one_record() -> None:
    both = sign_payload(payload(3, reading("1.0", "B", T0), reading("2.5", "E", T1)), KEY)
    check = check_transaction([_signed("record 1", both.text)])
    assert check.ok and check.energy == Decimal("1.5")


def test_problems_are_named() -> None:
    begin = sign_payload(payload(11, reading("5", "B", T1), serial="A"), KEY)
    end = sign_payload(payload(10, reading("4", "E", T0), serial="B"), KEY)
    tampered = end.text.replace('"RV":4', '"RV":3')
    check = check_transaction([_signed("begin", begin.text), _signed("end", tampered)])
    assert "end: signature does not match the payload (altered, or signed with another key)" \
        in check.problems
    assert "end: pagination T10 does not count up from T11" in check.problems
    assert "records come from different meters: A, B" in check.problems
    assert "no verified end reading (TX=E, L, R, A or P)" in check.problems  # only valid count
    assert check.energy is None
    honest_end = sign_payload(payload(12, reading("4", "E", T0), serial="A"), KEY)
    check = check_transaction([_signed("begin", begin.text), _signed("end", honest_end.text)])
    assert "the register went backwards (5 -> 4)" in check.problems
    assert "the end reading is older than the begin reading" in check.problems


def test_missing_end_and_bad_meter_state() -> None:
    text = sign_payload(payload(1, reading("1", "B", T0)), KEY).text.replace('"ST":"G"',
                                                                            '"ST":"M"')
    check = check_transaction([_signed("begin", text)])
    assert "no verified end reading (TX=E, L, R, A or P)" in check.problems
    assert "begin: meter status 'M' is not OK (G)" in check.problems
    assert check.energy is None
