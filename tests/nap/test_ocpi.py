"""OCPI 2.2.1 Locations: every object parses with ocpi-types (generated from the OCPI 2.2.1
specification by a third party), statuses map as documented, pagination follows OCPI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from ocpi_types import v2_2_1 as spec

from ocppnet.nap.ocpi import locations, page
from ocppnet.nap.sites import Sites
from ocppnet.nap.status import evse_states, snapshot
from tests.nap.conftest import T0, connector, station

LATER = T0 + timedelta(minutes=10)


def _locations(sites: Sites) -> list[dict[str, Any]]:
    stations = {s: station(s) for s in ("CS-D1", "CS-A1", "CS-B1")}
    reports = {"CS-D1": [connector("CS-D1", 1, "Available")],
               "CS-A1": [connector("CS-A1", 1, "Faulted", LATER)],
               "CS-B1": [connector("CS-B1", 1, "Occupied")]}
    return locations(sites, snapshot(sites, evse_states(sites, stations, reports, [])))


def test_every_location_parses_with_an_independent_ocpi_model(sites: Sites) -> None:
    for item in _locations(sites):
        parsed = spec.Location.from_dict(item)
        assert parsed.to_dict() == item  # nothing unknown, nothing lost
    markt, hof, see = _locations(sites)
    assert markt["country"] == "DEU" and markt["coordinates"]["latitude"] == "52.520008"
    assert [e["status"] for e in markt["evses"]] == ["AVAILABLE", "OUTOFORDER", "UNKNOWN"]
    assert markt["last_updated"] == "2025-03-01T12:10:00Z"
    assert markt["energy_mix"] == {"is_green_energy": True}
    assert "CREDIT_CARD_PAYABLE" in markt["evses"][0]["capabilities"]
    assert hof["evses"][0]["status"] == "CHARGING"  # occupied: OCPI has no separate value
    assert hof["opening_times"]["regular_hours"][0] == {
        "weekday": 1, "period_begin": "06:00", "period_end": "23:00"}
    assert [e["status"] for e in see["evses"]] == ["UNKNOWN", "PLANNED"]
    assert hof["evses"][1]["connectors"][1]["standard"] == "CHADEMO"


def test_pagination_headers_and_date_filters(sites: Sites) -> None:
    items = _locations(sites)
    first = page(items, offset=0, limit=2, url="http://h/api/v1/nap/ocpi/locations",
                 generated=LATER)
    assert [i["id"] for i in first.body["data"]] == ["DE-EXC-MARKT", "DE-EXC-HOF"]
    assert first.body["status_code"] == 1000 and first.body["timestamp"] == \
        "2025-03-01T12:10:00Z"
    assert first.headers["X-Total-Count"] == "3" and first.headers["X-Limit"] == "2"
    assert first.headers["Link"] == \
        '<http://h/api/v1/nap/ocpi/locations?offset=2&limit=2>; rel="next"'
    last = page(items, offset=2, limit=2, url="u", generated=LATER)
    assert [i["id"] for i in last.body["data"]] == ["DE-EXC-SEE"] and "Link" not in last.headers
    changed = page(items, offset=0, limit=10, url="u", generated=LATER,
                   date_from=T0 + timedelta(minutes=1))
    assert [i["id"] for i in changed.body["data"]] == ["DE-EXC-MARKT"]
    assert page(items, offset=0, limit=10, url="u", generated=LATER,
                date_to=T0 + timedelta(minutes=1)).headers["X-Total-Count"] == "2"
    with pytest.raises(ValueError, match="limit"):
        page(items, offset=0, limit=0, url="u", generated=LATER)
