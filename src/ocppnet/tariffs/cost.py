"""What cost calculation takes and gives (pure): readings, tariff segments, amounts, charging
periods and the result with its OCPP 2.1 ``costDetails`` form. The calculation itself is
:mod:`ocppnet.tariffs.calculator`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ocppnet.rpc.timestamps import parse_timestamp
from ocppnet.tariffs.model import Tariff, TariffError

__all__ = [
    "ENERGY_REGISTER",
    "Amount",
    "CostResult",
    "Period",
    "Reading",
    "TariffSegment",
    "instant",
    "readings_from_meter_values",
    "seconds",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_ZERO = Decimal(0)
ENERGY_REGISTER = "Energy.Active.Import.Register"
_TO_WH = {"Wh": 1.0, "kWh": 1000.0}


def seconds(at: datetime) -> Decimal:
    """POSIX seconds, exact to the microsecond."""
    if at.tzinfo is None:
        raise TariffError(f"{at.isoformat()}: a time without zone")
    return Decimal((at - _EPOCH) // _US) / 1_000_000


def instant(value: Decimal) -> datetime:
    """The UTC instant of POSIX seconds (to the microsecond)."""
    return _EPOCH + timedelta(microseconds=int(value * 1_000_000))


def _iso(value: Decimal) -> str:
    return instant(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Reading:
    """One energy register reading (Wh) reported for the transaction."""

    at: datetime
    energy_wh: float | Decimal
    current_a: float | Decimal | None = None


def readings_from_meter_values(meter_values: Any, where: str = "meterValue") -> list[Reading]:
    """The whole-meter energy register readings (Wh) of an OCPP 2.x ``meterValue`` array,
    scaled as the CSMS scales what it stores (value x 10^multiplier, then kWh -> Wh)."""
    out = []
    for i, mv in enumerate(meter_values or ()):
        at = parse_timestamp(mv.get("timestamp") if isinstance(mv, dict) else None)
        if at is None:
            raise TariffError(f"{where}[{i}].timestamp: not an RFC 3339 date-time")
        for j, sv in enumerate(mv.get("sampledValue", ())):
            uom = sv.get("unitOfMeasure") or {}
            unit = uom.get("unit", "Wh")
            if sv.get("measurand", ENERGY_REGISTER) != ENERGY_REGISTER or \
                    sv.get("phase") is not None or unit not in _TO_WH:
                continue
            value = sv.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TariffError(f"{where}[{i}].sampledValue[{j}].value: not a number")
            scaled = float(value) * 10 ** int(uom.get("multiplier", 0))
            out.append(Reading(at, scaled * _TO_WH[unit]))
    return out


@dataclass(frozen=True, slots=True)
class TariffSegment:
    """``tariff`` prices the transaction from ``start`` on (until the next segment)."""

    start: datetime
    tariff: Tariff


@dataclass(frozen=True, slots=True)
class Amount:
    excl_tax: Decimal = _ZERO
    incl_tax: Decimal = _ZERO

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.excl_tax + other.excl_tax, self.incl_tax + other.incl_tax)


@dataclass(slots=True)
class Period:
    """One ChargingPeriodType: consecutive pieces priced by the same elements of one tariff."""

    start: Decimal
    tariff_id: str | None  # None: before the first tariff, not priced
    key: tuple[Any, ...]
    energy_wh: Decimal = _ZERO
    charging_s: Decimal = _ZERO
    idle_s: Decimal = _ZERO
    max_power_w: Decimal | None = None
    min_power_w: Decimal | None = None

    def as_json(self) -> dict[str, Any]:
        dims: list[dict[str, Any]] = [
            {"type": "Energy", "volume": float(round(self.energy_wh, 3))},
            {"type": "ChargingTime", "volume": float(round(self.charging_s, 3))},
            {"type": "IdleTIme", "volume": float(round(self.idle_s, 3))},  # the enum's spelling
        ]
        if self.max_power_w is not None and self.min_power_w is not None:
            dims.append({"type": "MaxPower", "volume": float(round(self.max_power_w, 3))})
            dims.append({"type": "MinPower", "volume": float(round(self.min_power_w, 3))})
        out: dict[str, Any] = {"startPeriod": _iso(self.start), "dimensions": dims}
        if self.tariff_id is not None:
            out["tariffId"] = self.tariff_id
        return out


@dataclass(frozen=True, slots=True)
class CostResult:
    """Unrounded amounts; :meth:`cost_details` rounds to ``decimals`` for the wire."""

    currency: str
    type_of_cost: str  # NormalCost | MinCost | MaxCost
    fixed: Amount
    energy: Amount
    charging_time: Amount
    idle_time: Amount
    total: Amount
    energy_wh: Decimal
    duration_s: Decimal
    charging_s: Decimal
    idle_s: Decimal
    periods: tuple[Period, ...] = field(default=())
    decimals: int = 2

    def rounded(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)

    def _price(self, amount: Amount) -> dict[str, float]:
        return {"exclTax": float(self.rounded(amount.excl_tax)),
                "inclTax": float(self.rounded(amount.incl_tax))}

    def cost_details(self) -> dict[str, Any]:
        """The CostDetailsType of OCPP 2.1 TransactionEventRequest."""
        total: dict[str, Any] = {
            "currency": self.currency, "typeOfCost": self.type_of_cost,
            "fixed": self._price(self.fixed), "energy": self._price(self.energy),
            "chargingTime": self._price(self.charging_time),
            "idleTime": self._price(self.idle_time), "total": self._price(self.total),
        }
        out: dict[str, Any] = {
            "totalCost": total,
            # OCPP: totalUsage.chargingTime is the whole session, idle included
            "totalUsage": {"energy": float(round(self.energy_wh, 3)),
                           "chargingTime": int(self.duration_s),
                           "idleTime": int(self.idle_s)},
        }
        if self.periods:
            out["chargingPeriods"] = [p.as_json() for p in self.periods]
        return out
