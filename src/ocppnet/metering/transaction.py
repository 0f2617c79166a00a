"""A charging transaction's signed readings checked as a whole, as a driver's bill needs.

A signature proves one record intact; a bill needs more (section "Signing and Verification
Process" of OCMF): a begin and an end reading, from the same meter (serial), pagination
counting up in the transaction context, the meter in state OK, no energy error flag, the
register not going backwards. :func:`check_transaction` takes the records in the order they
were produced with their verdicts and returns the energy and the problems found, in words;
only readings of records that verified count as begin and end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ocppnet.metering.obis import parse_obis
from ocppnet.metering.payload import Reading
from ocppnet.metering.record import OcmfRecord, Verdict
from ocppnet.metering.vocabulary import TRANSACTION_END

__all__ = ["SignedReading", "TransactionCheck", "check_transaction", "energy_wh"]


@dataclass(frozen=True, slots=True)
class SignedReading:
    """One record of a transaction, its verdict and a label (OCPP context, record number)."""

    label: str
    record: OcmfRecord
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class TransactionCheck:
    """What a receipt may state: energy between the signed begin and end, and the problems."""

    problems: tuple[str, ...]
    begin: Reading | None = None
    end: Reading | None = None
    meter_serial: str | None = None
    energy: Decimal | None = None
    unit: str | None = None
    records: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def started(self) -> datetime | None:
        return self.begin.time.moment if self.begin and self.begin.time else None

    @property
    def stopped(self) -> datetime | None:
        return self.end.time.moment if self.end and self.end.time else None


def energy_wh(reading: Reading) -> Decimal | None:
    """A reading's value in Wh (kWh scaled), None for other units or no value."""
    if reading.value is None:
        return None
    if reading.unit == "Wh":
        return reading.value
    if reading.unit == "kWh":
        return reading.value.scaleb(3)
    return None


def _register(reading: Reading) -> bool:
    obis = parse_obis(reading.obis) if reading.obis else None
    if obis is not None:
        return obis.billing_relevant
    return reading.unit in ("Wh", "kWh")


def check_transaction(readings: Sequence[SignedReading]) -> TransactionCheck:
    """Check the signed records of one transaction (in the order they were produced)."""
    problems: list[str] = []
    begin: Reading | None = None
    end: Reading | None = None
    serials: set[str] = set()
    last_page: int | None = None
    for item in readings:
        record = item.record
        if not item.verdict.valid:
            problems.append(f"{item.label}: {item.verdict.reason}")
        payload = record.payload
        serial = payload.meter_serial or payload.gateway_serial
        if serial:
            serials.add(serial)
        if payload.pagination_context != "T":
            problems.append(f"{item.label}: pagination {payload.pagination!r} is not in the "
                            "transaction context T")
        page = payload.pagination_number
        if page is not None and last_page is not None and page <= last_page:
            problems.append(f"{item.label}: pagination {payload.pagination} does not count up "
                            f"from T{last_page}")
        last_page = page if page is not None else last_page
        for reading in payload.effective_readings():
            if not _register(reading):
                continue
            # only a verified reading may be billed: an invalid one is a problem, not a value
            if item.verdict.valid and reading.reason == "B" and begin is None:
                begin = reading
            elif item.verdict.valid and reading.reason in TRANSACTION_END:
                end = reading
            if reading.status not in (None, "G"):
                problems.append(f"{item.label}: meter status {reading.status!r} is not OK (G)")
            if reading.error_flags and "E" in reading.error_flags:
                problems.append(f"{item.label}: the meter flags the energy as unusable (EF=E)")
    if len(serials) > 1:
        problems.append(f"records come from different meters: {', '.join(sorted(serials))}")
    if begin is None:
        problems.append("no verified begin reading (TX=B)")
    if end is None:
        problems.append("no verified end reading (TX=E, L, R, A or P)")
    energy: Decimal | None = None
    unit: str | None = None
    if begin is not None and end is not None:
        if begin.unit != end.unit or begin.obis != end.obis:
            problems.append("begin and end readings are of different registers or units")
        elif begin.value is not None and end.value is not None:
            energy, unit = end.value - begin.value, end.unit
            if energy < 0:
                problems.append(f"the register went backwards ({begin.value} -> {end.value})")
        if begin.time and end.time and end.time.moment < begin.time.moment:
            problems.append("the end reading is older than the begin reading")
    return TransactionCheck(tuple(problems), begin, end,
                            next(iter(serials)) if len(serials) == 1 else None, energy, unit,
                            tuple(item.label for item in readings))
