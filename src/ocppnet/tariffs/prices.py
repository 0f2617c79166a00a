"""Two questions other parts ask of a tariff, as pure functions (docs/tariffs.md).

- :func:`session_cost`: what a finished (or running) session costs, with and without tax
  (web payment settles with it; the OCMF receipt binds it).
- :func:`ad_hoc_price`: the price a driver starting a session *now* would pay per kWh, per
  minute of charging, per minute idle and once (the access-point export publishes it).
- :func:`receipt_binding`: what a signed receipt binds about the price (tariff hashes, cost).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ocppnet.tariffs.calculator import compute_cost
from ocppnet.tariffs.conditions import Context, State, fixed_holds, holds
from ocppnet.tariffs.cost import Amount, CostResult, Reading, TariffSegment
from ocppnet.tariffs.model import Tariff
from ocppnet.tariffs.signing import tariff_hash
from ocppnet.tariffs.tax import with_tax

__all__ = ["AdHocPrice", "ad_hoc_price", "receipt_binding", "session_cost"]


def session_cost(
    tariff: Tariff | Sequence[TariffSegment],
    readings: Sequence[Reading],
    *,
    context: Context | None = None,
    decimals: int = 2,
) -> Amount:
    """Total cost (min/max applied), rounded to ``decimals`` like the costDetails on the wire."""
    result = compute_cost(tariff, readings, context=context, decimals=decimals)
    return Amount(result.rounded(result.total.excl_tax), result.rounded(result.total.incl_tax))


@dataclass(frozen=True, slots=True)
class AdHocPrice:
    """Unit prices in force at one instant; None where the tariff has no such price then."""

    tariff_id: str
    currency: str
    per_kwh: Amount | None
    per_charging_minute: Amount | None
    per_idle_minute: Amount | None
    fixed: Amount | None

    def as_json(self) -> dict[str, Any]:
        def price(a: Amount | None) -> dict[str, float] | None:
            return None if a is None else {"exclTax": float(a.excl_tax),
                                           "inclTax": float(a.incl_tax)}

        return {"tariffId": self.tariff_id, "currency": self.currency,
                "perKwh": price(self.per_kwh),
                "perChargingMinute": price(self.per_charging_minute),
                "perIdleMinute": price(self.per_idle_minute), "fixed": price(self.fixed)}


_START = State(Decimal(0), Decimal(0), Decimal(0), Decimal(0), Decimal(0), True)


def _unit(dim: Any, attr: str, local: datetime, ctx: Context) -> Amount | None:
    """The first element that holds at the start of a session; power and current bounds are
    ignored (a price list cannot know the car)."""
    if dim is None:
        return None
    prices, taxes = dim
    for p in prices:
        c = p.conditions
        if c is not None:
            c = dataclasses.replace(c, min_power=None, max_power=None, min_current=None,
                                    max_current=None)
        if holds(c, _START, local, ctx):
            value: Decimal = getattr(p, attr)
            return Amount(value, with_tax(value, taxes))
    return None


def ad_hoc_price(tariff: Tariff, at: datetime, *, context: Context | None = None) -> AdHocPrice:
    """What a session starting at ``at`` pays per unit under ``tariff``."""
    ctx = context or Context(UTC)
    local = at.astimezone(ctx.tz)
    fixed = None
    if tariff.fixed_fee is not None:
        prices, taxes = tariff.fixed_fee
        for p in prices:
            if fixed_holds(p.conditions, local, ctx):
                fixed = Amount(p.price_fixed, with_tax(p.price_fixed, taxes))
                break
    return AdHocPrice(
        tariff.tariff_id, tariff.currency,
        _unit(tariff.energy, "price_kwh", local, ctx),
        _unit(tariff.charging_time, "price_minute", local, ctx),
        _unit(tariff.idle_time, "price_minute", local, ctx), fixed)


def receipt_binding(tariffs: Sequence[Mapping[str, Any]], result: CostResult) -> dict[str, Any]:
    """JSON for a signed receipt (the OCMF receipt): the id and SHA-256 (:func:`tariff_hash`)
    of each signed tariff that priced the session, in order, and its cost as on the wire."""
    total = result.cost_details()["totalCost"]
    return {
        "tariffs": [{"tariffId": t.get("tariffId"), "sha256": tariff_hash(t)} for t in tariffs],
        "currency": result.currency,
        "typeOfCost": result.type_of_cost,
        "total": total["total"],
    }
