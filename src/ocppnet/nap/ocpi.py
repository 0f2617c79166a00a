"""OCPI 2.2.1 Locations (module ``locations``, CPO interface) with live EVSE status.

:func:`locations` maps the site data and a status snapshot to OCPI ``Location`` objects
(JSON-ready dicts); :func:`page` cuts them the way a CPO's ``GET /locations`` answers:
``date_from``/``date_to`` on ``last_updated``, ``offset``/``limit``, the response envelope,
and the pagination headers (``X-Total-Count``, ``X-Limit``, ``Link: <...>; rel="next"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ocppnet.nap.countries import ALPHA3
from ocppnet.nap.sites import WEEKDAYS, Connector, Evse, Location, Sites
from ocppnet.nap.status import EvseState, EvseStatus, StatusSnapshot

__all__ = ["MAX_LIMIT", "Page", "locations", "page", "timestamp"]

MAX_LIMIT = 1000

_STATUS = {
    EvseStatus.AVAILABLE: "AVAILABLE", EvseStatus.BLOCKED: "BLOCKED",
    EvseStatus.CHARGING: "CHARGING", EvseStatus.OCCUPIED: "CHARGING",
    EvseStatus.RESERVED: "RESERVED", EvseStatus.INOPERATIVE: "INOPERATIVE",
    EvseStatus.OUT_OF_ORDER: "OUTOFORDER", EvseStatus.PLANNED: "PLANNED",
    EvseStatus.REMOVED: "REMOVED", EvseStatus.UNKNOWN: "UNKNOWN",
}
_CAPABILITIES = {
    "rfid": "RFID_READER", "app": "REMOTE_START_STOP_CAPABLE",
    "website": "REMOTE_START_STOP_CAPABLE", "credit_card": "CREDIT_CARD_PAYABLE",
    "debit_card": "DEBIT_CARD_PAYABLE", "contactless": "CONTACTLESS_CARD_SUPPORT",
}


def timestamp(value: datetime) -> str:
    """OCPI DateTime: UTC, seconds, ``Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def locations(sites: Sites, snapshot: StatusSnapshot) -> list[dict[str, Any]]:
    """Every location of ``sites`` as an OCPI 2.2.1 ``Location``."""
    return [_location(sites, loc, snapshot.states) for loc in sites.locations]


def _location(sites: Sites, location: Location,
              states: Mapping[str, EvseState]) -> dict[str, Any]:
    static = sites.location_updated(location)
    evses = [_evse(location, evse, states.get(evse.uid), static) for evse in location.evses]
    operator: dict[str, Any] = {"name": sites.operator.name}
    if sites.operator.website:
        operator["website"] = sites.operator.website
    result: dict[str, Any] = {
        "country_code": sites.operator.country_code,
        "party_id": sites.operator.party_id,
        "id": location.id,
        "publish": True,
        "name": location.name,
        "address": location.address,
        "city": location.city,
        "postal_code": location.postal_code,
        "country": ALPHA3[location.country],
        "coordinates": {"latitude": f"{location.latitude:.6f}",
                        "longitude": f"{location.longitude:.6f}"},
        "evses": evses,
        "operator": operator,
        "time_zone": location.time_zone,
        "opening_times": _opening_times(location),
        "energy_mix": {"is_green_energy": location.renewable},
        "last_updated": max([timestamp(static), *(e["last_updated"] for e in evses)]),
    }
    if location.parking_type is not None:
        result["parking_type"] = location.parking_type
    return result


def _opening_times(location: Location) -> dict[str, Any]:
    if not location.opening_hours:
        return {"twentyfourseven": True}
    regular = [
        {"weekday": WEEKDAYS.index(day) + 1, "period_begin": period.open,
         "period_end": period.close}
        for period in location.opening_hours for day in period.days
    ]
    regular.sort(key=lambda r: (r["weekday"], r["period_begin"]))
    return {"twentyfourseven": False, "regular_hours": regular}


def _evse(location: Location, evse: Evse, state: EvseState | None,
          static: datetime) -> dict[str, Any]:
    status = state.status if state is not None else EvseStatus.UNKNOWN
    updated = max(static, state.updated) if state is not None else static
    capabilities = sorted({_CAPABILITIES[m] for m in location.payment_methods})
    result: dict[str, Any] = {
        "uid": evse.uid,
        "evse_id": evse.evse_id,
        "status": _STATUS[status],
        "capabilities": capabilities,
        "connectors": [_connector(c, static) for c in evse.connectors],
        "last_updated": timestamp(updated),
    }
    if evse.floor_level is not None:
        result["floor_level"] = evse.floor_level
    if evse.physical_reference is not None:
        result["physical_reference"] = evse.physical_reference
    return result


def _connector(connector: Connector, static: datetime) -> dict[str, Any]:
    return {
        "id": str(connector.id),
        "standard": connector.standard,
        "format": connector.format,
        "power_type": connector.power_type,
        "max_voltage": connector.max_voltage,
        "max_amperage": connector.max_amperage,
        "max_electric_power": connector.max_power_w,
        "last_updated": timestamp(static),
    }


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a ``GET /locations`` answer: the envelope and the headers to send."""

    body: dict[str, Any]
    headers: dict[str, str]


def page(
    items: Sequence[dict[str, Any]], *, offset: int, limit: int, url: str,
    generated: datetime, date_from: datetime | None = None, date_to: datetime | None = None,
) -> Page:
    """Filter by ``last_updated`` (``date_from`` inclusive, ``date_to`` exclusive), then cut
    ``[offset, offset + limit)``. ``url`` is the endpoint without query, for ``Link``."""
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"offset must be >= 0 and limit 1..{MAX_LIMIT}")
    low = timestamp(date_from) if date_from is not None else None
    high = timestamp(date_to) if date_to is not None else None
    chosen = [
        item for item in items
        if (low is None or item["last_updated"] >= low)
        and (high is None or item["last_updated"] < high)
    ]
    window = chosen[offset:offset + limit]
    headers = {"X-Total-Count": str(len(chosen)), "X-Limit": str(limit)}
    if offset + limit < len(chosen):
        query: dict[str, str] = {"offset": str(offset + limit), "limit": str(limit)}
        if date_from is not None:
            query["date_from"] = timestamp(date_from)
        if date_to is not None:
            query["date_to"] = timestamp(date_to)
        headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
    body = {"data": window, "status_code": 1000, "status_message": "Success",
            "timestamp": timestamp(generated)}
    return Page(body, headers)
