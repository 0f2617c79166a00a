"""The ad hoc price a location publishes (AFIR Art. 5) from the tariff in force there: the
latest issuer-verified tariff a station of the location announced (``TariffInUse`` events,
:mod:`ocppnet.csms.tariff_check`), priced now with :func:`ocppnet.tariffs.ad_hoc_price`.
A location whose stations announced none keeps the site data's ``adhoc_price``."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from ocppnet.csms.nap_source import PriceSource
from ocppnet.csms.tariff_check import TARIFF_IN_USE
from ocppnet.errors import ConfigError
from ocppnet.nap.sites import AdhocPrice, Location
from ocppnet.store import Store
from ocppnet.tariffs.cost import Amount
from ocppnet.tariffs.model import parse_tariff
from ocppnet.tariffs.prices import ad_hoc_price

__all__ = ["tariff_prices"]


def _money(amount: Amount | None) -> float | None:
    if amount is None:
        return None
    return float(Decimal(amount.incl_tax).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def tariff_prices(store: Store) -> PriceSource:
    """A :data:`PriceSource` reading the tariffs the stations use from ``store``."""

    async def price(location: Location, now: datetime) -> AdhocPrice | None:
        latest: tuple[datetime, dict[str, object]] | None = None
        for station in sorted({evse.station for evse in location.evses}):
            for event in await store.list_station_events(station, TARIFF_IN_USE):
                tariff = event.data.get("tariff")
                if event.data.get("verified") and isinstance(tariff, dict) and (
                        latest is None or event.at > latest[0]):
                    latest = (event.at, tariff)
        if latest is None:
            return None
        try:
            adhoc = ad_hoc_price(parse_tariff(latest[1]), now)
        except (ConfigError, ValueError):
            return None  # a tariff the station took but this CSMS cannot price: site data
        prices = {"per_kwh": _money(adhoc.per_kwh),
                  "per_minute": _money(adhoc.per_charging_minute),
                  "per_session": _money(adhoc.fixed)}
        if all(v is None for v in prices.values()):
            return None
        return AdhocPrice(currency=adhoc.currency, vat_included=True, **prices)

    return price
