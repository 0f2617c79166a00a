"""The OCPP 2.1 TariffType as typed, immutable values, parsed from its JSON form (pure).

Only what cost calculation needs is modelled: energy, charging time, idle time and fixed-fee
price elements with their conditions and tax rates, min/max cost, currency and validFrom.
Reservation prices are parsed too (they are never part of a transaction's cost). The JSON the
tariff came in is kept beside the model, so a signed tariff is forwarded as received.
Numbers are :class:`~decimal.Decimal` made from their JSON text, so 0.1 stays 0.1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ocppnet.errors import LocalError
from ocppnet.rpc.timestamps import parse_timestamp

__all__ = [
    "DAYS",
    "Conditions",
    "EnergyPrice",
    "FixedConditions",
    "FixedPrice",
    "Price",
    "Tariff",
    "TariffError",
    "TaxRate",
    "TimePrice",
    "parse_tariff",
    "to_decimal",
]

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_DATE = re.compile(r"[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")


class TariffError(LocalError):
    """A tariff or a cost calculation that cannot be used (the message names the field): a
    station answers it with a Rejected status, the CSMS records it in its cost check."""

    code = "TariffError"


def to_decimal(value: Any, where: str) -> Decimal:
    """A JSON number as an exact Decimal of its shortest text; TariffError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TariffError(f"{where}: must be a number, not {type(value).__name__}")
    result = Decimal(str(value))
    if not result.is_finite():
        raise TariffError(f"{where}: must be finite")
    return result


@dataclass(frozen=True, slots=True)
class TaxRate:
    type: str
    percent: Decimal
    stack: int = 0


@dataclass(frozen=True, slots=True)
class Price:
    """PriceType: a cost with and/or without tax (min/max cost)."""

    excl_tax: Decimal | None = None
    incl_tax: Decimal | None = None


@dataclass(frozen=True, slots=True)
class FixedConditions:
    """TariffConditionsFixedType: checked once, at the start of the transaction."""

    start_time_of_day: str | None = None
    end_time_of_day: str | None = None
    day_of_week: frozenset[str] | None = None
    valid_from_date: date | None = None
    valid_to_date: date | None = None
    evse_kind: str | None = None
    payment_brand: str | None = None
    payment_recognition: str | None = None


@dataclass(frozen=True, slots=True)
class Conditions(FixedConditions):
    """TariffConditionsType: checked all along the transaction (energy in Wh, power in W,
    current in A, times in s; ``min`` inclusive, ``max`` exclusive)."""

    min_energy: Decimal | None = None
    max_energy: Decimal | None = None
    min_current: Decimal | None = None
    max_current: Decimal | None = None
    min_power: Decimal | None = None
    max_power: Decimal | None = None
    min_time: Decimal | None = None
    max_time: Decimal | None = None
    min_charging_time: Decimal | None = None
    max_charging_time: Decimal | None = None
    min_idle_time: Decimal | None = None
    max_idle_time: Decimal | None = None


@dataclass(frozen=True, slots=True)
class EnergyPrice:
    price_kwh: Decimal
    conditions: Conditions | None = None


@dataclass(frozen=True, slots=True)
class TimePrice:
    price_minute: Decimal
    conditions: Conditions | None = None


@dataclass(frozen=True, slots=True)
class FixedPrice:
    price_fixed: Decimal
    conditions: FixedConditions | None = None


@dataclass(frozen=True, slots=True)
class Tariff:
    """One tariff; each dimension is ``(prices, tax rates)``, the first matching price wins."""

    tariff_id: str
    currency: str
    valid_from: datetime | None = None
    energy: tuple[tuple[EnergyPrice, ...], tuple[TaxRate, ...]] | None = None
    charging_time: tuple[tuple[TimePrice, ...], tuple[TaxRate, ...]] | None = None
    idle_time: tuple[tuple[TimePrice, ...], tuple[TaxRate, ...]] | None = None
    fixed_fee: tuple[tuple[FixedPrice, ...], tuple[TaxRate, ...]] | None = None
    min_cost: Price | None = None
    max_cost: Price | None = None


class _Reader:
    """Field access on one JSON object that names the dotted path in every error."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise TariffError(f"{where}: must be an object")
        self.data, self.where = data, where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}"

    def text(self, key: str, *, required: bool = False, pattern: re.Pattern[str] | None = None,
             max_length: int | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise TariffError(f"{self.at(key)}: required")
            return None
        if not isinstance(value, str):
            raise TariffError(f"{self.at(key)}: must be a string")
        if pattern is not None and not pattern.fullmatch(value):
            raise TariffError(f"{self.at(key)}: {value!r} does not match {pattern.pattern}")
        if max_length is not None and len(value) > max_length:
            raise TariffError(f"{self.at(key)}: longer than {max_length} characters")
        return value

    def number(self, key: str, *, required: bool = False) -> Decimal | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise TariffError(f"{self.at(key)}: required")
            return None
        return to_decimal(value, self.at(key))

    def day(self, key: str) -> date | None:
        text = self.text(key, pattern=_DATE)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise TariffError(f"{self.at(key)}: {exc}") from None

    def items(self, key: str) -> list[_Reader]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not value:
            raise TariffError(f"{self.at(key)}: must be a non-empty array")
        return [_Reader(item, f"{self.at(key)}[{i}]") for i, item in enumerate(value)]


def _fixed_fields(r: _Reader) -> dict[str, Any]:
    days = r.data.get("dayOfWeek")
    if days is not None and (not isinstance(days, list) or not days
                             or any(d not in DAYS for d in days)):
        raise TariffError(f"{r.at('dayOfWeek')}: must be a non-empty array of {', '.join(DAYS)}")
    kind = r.text("evseKind")
    if kind not in (None, "AC", "DC"):
        raise TariffError(f"{r.at('evseKind')}: must be AC or DC")
    out: dict[str, Any] = {
        "start_time_of_day": r.text("startTimeOfDay", pattern=_TIME_OF_DAY),
        "end_time_of_day": r.text("endTimeOfDay", pattern=_TIME_OF_DAY),
        "day_of_week": None if days is None else frozenset(days),
        "valid_from_date": r.day("validFromDate"),
        "valid_to_date": r.day("validToDate"),
        "evse_kind": kind,
    }
    return out


def _fixed_conditions(r: _Reader) -> FixedConditions:
    return FixedConditions(**_fixed_fields(r), payment_brand=r.text("paymentBrand"),
                           payment_recognition=r.text("paymentRecognition"))


_BOUNDS = {
    "min_energy": "minEnergy", "max_energy": "maxEnergy", "min_current": "minCurrent",
    "max_current": "maxCurrent", "min_power": "minPower", "max_power": "maxPower",
    "min_time": "minTime", "max_time": "maxTime", "min_charging_time": "minChargingTime",
    "max_charging_time": "maxChargingTime", "min_idle_time": "minIdleTime",
    "max_idle_time": "maxIdleTime",
}


def _conditions(r: _Reader) -> Conditions:
    fields: dict[str, Any] = {**_fixed_fields(r)}
    fields.update((name, r.number(key)) for name, key in _BOUNDS.items())
    return Conditions(**fields)


def _taxes(r: _Reader) -> tuple[TaxRate, ...]:
    out = []
    for t in r.items("taxRates"):
        stack = t.data.get("stack", 0)
        if isinstance(stack, bool) or not isinstance(stack, int) or stack < 0:
            raise TariffError(f"{t.at('stack')}: must be an integer >= 0")
        percent = t.number("tax", required=True)
        assert percent is not None
        out.append(TaxRate(t.text("type", required=True) or "", percent, stack))
    return tuple(out)


def _price(r: _Reader, key: str) -> Price | None:
    if r.data.get(key) is None:
        return None
    p = _Reader(r.data[key], r.at(key))
    price = Price(p.number("exclTax"), p.number("inclTax"))
    if price.excl_tax is None and price.incl_tax is None:
        raise TariffError(f"{p.where}: needs exclTax or inclTax")
    return price


def _time_dimension(
    r: _Reader, key: str
) -> tuple[tuple[TimePrice, ...], tuple[TaxRate, ...]] | None:
    if r.data.get(key) is None:
        return None
    d = _Reader(r.data[key], r.at(key))
    prices = tuple(
        TimePrice(p.number("priceMinute", required=True) or Decimal(0),
                  _conditions(_Reader(p.data["conditions"], p.at("conditions")))
                  if "conditions" in p.data else None)
        for p in _required_items(d))
    return prices, _taxes(d)


def _required_items(d: _Reader) -> list[_Reader]:
    items = d.items("prices")
    if not items:
        raise TariffError(f"{d.at('prices')}: required")
    return items


def parse_tariff(data: Any, where: str = "tariff") -> Tariff:
    """A TariffType JSON object as a :class:`Tariff`; TariffError names the bad field."""
    r = _Reader(data, where)
    currency = r.text("currency", required=True, max_length=3)
    tariff_id = r.text("tariffId", required=True, max_length=60)
    assert currency is not None and tariff_id is not None
    valid_from = None
    if (text := r.text("validFrom")) is not None:
        valid_from = parse_timestamp(text, naive="reject")
        if valid_from is None:
            raise TariffError(f"{r.at('validFrom')}: not an RFC 3339 date-time with a zone")
    energy = None
    if r.data.get("energy") is not None:
        d = _Reader(r.data["energy"], r.at("energy"))
        energy = (tuple(
            EnergyPrice(p.number("priceKwh", required=True) or Decimal(0),
                        _conditions(_Reader(p.data["conditions"], p.at("conditions")))
                        if "conditions" in p.data else None)
            for p in _required_items(d)), _taxes(d))
    fixed = None
    if r.data.get("fixedFee") is not None:
        d = _Reader(r.data["fixedFee"], r.at("fixedFee"))
        fixed = (tuple(
            FixedPrice(p.number("priceFixed", required=True) or Decimal(0),
                       _fixed_conditions(_Reader(p.data["conditions"], p.at("conditions")))
                       if "conditions" in p.data else None)
            for p in _required_items(d)), _taxes(d))
    tariff = Tariff(
        tariff_id=tariff_id, currency=currency, valid_from=valid_from, energy=energy,
        charging_time=_time_dimension(r, "chargingTime"),
        idle_time=_time_dimension(r, "idleTime"), fixed_fee=fixed,
        min_cost=_price(r, "minCost"), max_cost=_price(r, "maxCost"),
    )
    _time_dimension(r, "reservationTime")  # validated, never part of a transaction's cost
    if r.data.get("reservationFixed") is not None:
        _required_items(_Reader(r.data["reservationFixed"], r.at("reservationFixed")))
    return tariff
