"""OCPP 2.1 tariffs and cost (pure): the model, the cost calculator, issuer signatures and
the tariffs a station holds. See docs/tariffs.md."""

from ocppnet.tariffs.book import HeldTariff, TariffBook
from ocppnet.tariffs.calculator import CostMeter, compute_cost
from ocppnet.tariffs.conditions import Context
from ocppnet.tariffs.cost import (
    Amount,
    CostResult,
    Reading,
    TariffSegment,
    readings_from_meter_values,
)
from ocppnet.tariffs.model import Tariff, TariffError, parse_tariff
from ocppnet.tariffs.prices import AdHocPrice, ad_hoc_price, receipt_binding, session_cost
from ocppnet.tariffs.signing import (
    VerifiedTariff,
    sign_tariff,
    tariff_body,
    tariff_hash,
    verify_tariff,
)

__all__ = [
    "AdHocPrice",
    "Amount",
    "Context",
    "CostMeter",
    "CostResult",
    "HeldTariff",
    "Reading",
    "Tariff",
    "TariffBook",
    "TariffError",
    "TariffSegment",
    "VerifiedTariff",
    "ad_hoc_price",
    "compute_cost",
    "parse_tariff",
    "readings_from_meter_values",
    "receipt_binding",
    "session_cost",
    "sign_tariff",
    "tariff_body",
    "tariff_hash",
    "verify_tariff",
]
