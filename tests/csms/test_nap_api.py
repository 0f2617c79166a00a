"""The access-point routes on a real CsmsApp with a SQLite store, mounted in a plain FastAPI
app served on 127.0.0.1 (port 0): signed answers, ETag / If-None-Match -> 304, Last-Modified,
OCPI pagination, and a station that goes Faulted is out of order in the very next status
publication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from lxml import etree

from ocppnet.csms import CsmsApp
from ocppnet.csms.nap_api import nap_router
from ocppnet.csms.nap_source import NapSource
from ocppnet.nap.datex2 import NS
from ocppnet.nap.detached_jws import verify_detached
from ocppnet.nap.sites import AdhocPrice, Location, load_sites
from ocppnet.security.keys import generate, key_id
from ocppnet.web.api import serve_http
from tests.csms.conftest import Clock, send
from tests.nap.conftest import EXAMPLE, SCHEMA, T0

KEY = generate("secp256r1")
TRUSTED = {key_id(KEY): KEY.public_key()}


@pytest.fixture
async def client(app: CsmsApp, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    sites = load_sites(EXAMPLE).model_copy(update={"updated": T0 - timedelta(days=1)})
    api = FastAPI()
    api.include_router(nap_router(NapSource(app.store, sites, KEY, clock=clock)),
                       prefix="/api/v1")
    server = await serve_http(api, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=server.url.rstrip("/")) as c:
            yield c
    finally:
        await server.close()


async def _boot_and_report(app: CsmsApp, clock: Clock, station: str, status: str) -> None:
    await send(app, "2.0.1", station, "BootNotification", {
        "chargingStation": {"vendorName": "ACME", "model": "AC-22"}, "reason": "PowerUp"})
    await _report(app, clock, station, status)


async def _report(app: CsmsApp, clock: Clock, station: str, status: str) -> None:
    await send(app, "2.0.1", station, "StatusNotification", {
        "timestamp": clock.now.isoformat(), "connectorStatus": status, "evseId": 1,
        "connectorId": 1})


def _statuses(xml: bytes) -> dict[str, str]:
    root = etree.fromstring(xml)
    return {p.xpath("string(fac:reference/@id)", namespaces=NS):
            p.xpath("string(egi:status)", namespaces=NS)
            for p in root.xpath("//egi:refillPointStatus", namespaces=NS)}


async def test_faulted_station_is_out_of_order_in_the_next_status(
        app: CsmsApp, clock: Clock, client: httpx.AsyncClient) -> None:
    await _boot_and_report(app, clock, "CS-A1", "Available")
    first = await client.get("/api/v1/nap/datex2/status")
    assert first.status_code == 200 and first.headers["content-type"] == "application/xml"
    assert _statuses(first.content)["MARKT-A1-1"] == "available"
    assert verify_detached(first.content, first.headers["x-jws-signature"], TRUSTED)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    assert schema.validate(etree.fromstring(first.content)), schema.error_log

    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert modified == "Sat, 01 Mar 2025 12:00:00 GMT"
    same = await client.get("/api/v1/nap/datex2/status", headers={"If-None-Match": etag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
    same = await client.get("/api/v1/nap/datex2/status",
                            headers={"If-Modified-Since": modified})
    assert same.status_code == 304

    clock.now = T0 + timedelta(seconds=30)
    await _report(app, clock, "CS-A1", "Faulted")
    after = await client.get("/api/v1/nap/datex2/status", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["etag"] != etag
    assert _statuses(after.content)["MARKT-A1-1"] == "outOfOrder"
    assert after.headers["last-modified"] == "Sat, 01 Mar 2025 12:00:30 GMT"

    ocpi = (await client.get("/api/v1/nap/ocpi/locations")).json()
    evse = ocpi["data"][0]["evses"][1]
    assert evse["uid"] == "MARKT-A1-1" and evse["status"] == "OUTOFORDER"


async def test_table_etag_and_ocpi_pages(app: CsmsApp, clock: Clock,
                                         client: httpx.AsyncClient) -> None:
    table = await client.get("/api/v1/nap/datex2/table")
    assert table.status_code == 200
    assert verify_detached(table.content, table.headers["x-jws-signature"], TRUSTED)
    again = await client.get("/api/v1/nap/datex2/table",
                             headers={"If-None-Match": f'"other", {table.headers["etag"]}'})
    assert again.status_code == 304

    await _boot_and_report(app, clock, "CS-D1", "Occupied")
    page = await client.get("/api/v1/nap/ocpi/locations", params={"limit": 2})
    assert page.status_code == 200
    assert page.headers["x-total-count"] == "3" and page.headers["x-limit"] == "2"
    assert page.headers["link"] == (f'<{client.base_url}/api/v1/nap/ocpi/locations?offset=2'
                                    '&limit=2>; rel="next"')
    assert [loc["id"] for loc in page.json()["data"]] == ["DE-EXC-MARKT", "DE-EXC-HOF"]
    assert verify_detached(page.content, page.headers["x-jws-signature"], TRUSTED)
    rest = await client.get("/api/v1/nap/ocpi/locations", params={"offset": 2, "limit": 2})
    assert [loc["id"] for loc in rest.json()["data"]] == ["DE-EXC-SEE"]
    assert "link" not in rest.headers
    cached = await client.get("/api/v1/nap/ocpi/locations", params={"limit": 2},
                              headers={"If-None-Match": page.headers["etag"]})
    assert cached.status_code == 304
    assert (await client.get("/api/v1/nap/ocpi/locations",
                             params={"limit": 5000})).status_code == 422
    naive = await client.get("/api/v1/nap/ocpi/locations",
                             params={"date_from": "2025-03-01T00:00:00"})
    assert naive.status_code == 400 and "time zone" in naive.json()["detail"]


async def test_statistics_route(app: CsmsApp, client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/nap/statistics",
                              params={"from": "2025-02-24", "to": "2025-03-01"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["from"] == "2025-02-24" and body["k_anonymity"] == 5
    assert len(body["cells"]) == 6 * 8  # every EVSE, every day: all empty
    bad = await client.get("/api/v1/nap/statistics", params={"from": "2025-03-02",
                                                             "to": "2025-03-01"})
    assert bad.status_code == 400


async def test_a_new_ad_hoc_price_changes_status_etag_and_last_modified(
        app: CsmsApp, clock: Clock) -> None:
    """The price source (the tariff in force) overrides the site data's ad hoc price; a
    change of price alone moves ETag and Last-Modified, so no conditional GET hides it."""
    sites = load_sites(EXAMPLE).model_copy(update={"updated": T0 - timedelta(days=1)})
    markt = sites.locations[0]
    assert markt.adhoc_price is not None
    price = {"now": markt.adhoc_price}

    async def in_force(location: Location, at: datetime) -> AdhocPrice | None:
        return price["now"] if location.id == markt.id else None

    source = NapSource(app.store, sites, KEY, clock=clock, prices=in_force)
    first = await source.datex2_status()
    assert b"<fac:value>0.59</fac:value>" in first.body
    assert await source.datex2_status() is first  # unchanged: not signed again
    clock.now = T0 + timedelta(minutes=1)
    price["now"] = markt.adhoc_price.model_copy(update={"per_kwh": 0.49})
    second = await source.datex2_status()
    assert b"<fac:value>0.49</fac:value>" in second.body
    assert second.etag != first.etag and second.last_modified == clock.now
    price["now"] = markt.adhoc_price  # back to the first price: still a change
    clock.now = T0 + timedelta(minutes=2)
    third = await source.datex2_status()
    assert third.etag == first.etag and third.last_modified == clock.now
    assert verify_detached(third.body, third.signature, TRUSTED)
