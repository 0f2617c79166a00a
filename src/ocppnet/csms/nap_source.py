"""The CSMS side of the access-point exports: read the store, build signed publications.

:class:`NapSource` reads what stations reported (stations, connector status, transactions)
for the EVSEs of the site data and hands it to the pure mappings of :mod:`ocppnet.nap`. Each
call reads the store afresh, so the next publication after a StatusNotification shows it;
signatures are cached by content (ETag) so an unchanged publication is not signed again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import orjson

from ocppnet.nap import datex2, ocpi
from ocppnet.nap.publication import Publication, etag_of, publication
from ocppnet.nap.sites import AdhocPrice, Location, Sites
from ocppnet.nap.stats import statistics
from ocppnet.nap.status import StatusSnapshot, evse_states, snapshot
from ocppnet.security.keys import PrivateKey
from ocppnet.store.interface import Store
from ocppnet.store.records import ConnectorRecord, StationRecord

__all__ = ["JSON", "XML", "NapSource", "PriceSource"]

#: The ad hoc price in force at a location now (e.g. from the tariff in force); None: the
#: site data's ``adhoc_price``.
PriceSource = Callable[[Location, datetime], Awaitable[AdhocPrice | None]]

log = logging.getLogger("ocppnet.csms.nap")

XML = "application/xml"
JSON = "application/json"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def json_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


class NapSource:
    def __init__(self, store: Store, sites: Sites, key: PrivateKey,
                 clock: Callable[[], datetime] = _utcnow,
                 prices: PriceSource | None = None) -> None:
        self.store = store
        self.sites = sites
        self.key = key
        self.clock = clock
        self.prices = prices
        self._signed: dict[tuple[str, str], Publication] = {}
        self._latest: dict[str, Publication] = {}
        self._stations = frozenset(e.station for loc in sites.locations for e in loc.evses)

    async def status(self) -> StatusSnapshot:
        """Every EVSE's state as the store has it now."""
        wanted = self._stations
        stations: dict[str, StationRecord] = {
            s.station_id: s for s in await self.store.list_stations() if s.station_id in wanted}
        connectors: dict[str, list[ConnectorRecord]] = {}
        for station_id, record in stations.items():
            if record.connected:  # a station that is not connected is unknown anyway
                connectors[station_id] = await self.store.list_connectors(station_id)
        active = await self.store.list_transactions(active_only=True)
        return snapshot(self.sites, evse_states(self.sites, stations, connectors, active))

    def sign(self, name: str, body: bytes, media_type: str, last_modified: datetime,
             variant: str = "") -> Publication:
        """The signed publication (cached by content). ``variant`` tells apart what one
        name serves in several cuts (OCPI pages). When the content changed but the data's
        time did not move (e.g. a new price), Last-Modified becomes now, so
        ``If-Modified-Since`` never hides a change."""
        key = (name + variant, etag_of(body))
        cached = self._signed.get(key)
        previous = self._latest.get(name + variant)
        if cached is None or (previous is not None and previous.etag != cached.etag):
            if previous is not None and last_modified <= previous.last_modified:
                last_modified = max(self.clock(), previous.last_modified)
            if len(self._signed) > 256:
                self._signed.clear()
            cached = publication(name, body, media_type, last_modified, self.key)
            self._signed[key] = cached
            log.info("event=nap_published name=%s etag=%s bytes=%d", name, cached.etag,
                     len(body))
        self._latest[name + variant] = cached
        return cached

    async def current_prices(self) -> dict[str, AdhocPrice]:
        """The ad hoc price in force per location id, where the price source knows one."""
        if self.prices is None:
            return {}
        now = self.clock()
        prices = {}
        for location in self.sites.locations:
            price = await self.prices(location, now)
            if price is not None:
                prices[location.id] = price
        return prices

    async def datex2_table(self) -> Publication:
        return self.sign("datex2-table", datex2.table_publication(self.sites), XML,
                         self.sites.last_updated)

    async def datex2_status(self) -> Publication:
        snap = await self.status()
        body = datex2.status_publication(self.sites, snap, await self.current_prices())
        return self.sign("datex2-status", body, XML, snap.last_modified)

    async def ocpi_locations(self) -> tuple[list[dict[str, Any]], StatusSnapshot]:
        snap = await self.status()
        return ocpi.locations(self.sites, snap), snap

    async def ocpi_all(self) -> Publication:
        """Every location in one OCPI envelope (the file export)."""
        items, snap = await self.ocpi_locations()
        body = ocpi.page(items, offset=0, limit=max(1, len(items)), url="",
                         generated=snap.last_modified).body
        return self.sign("ocpi-locations", json_bytes(body), JSON, snap.last_modified)

    async def statistics(self, first_day: date, last_day: date) -> Publication:
        transactions = await self.store.list_transactions()
        now = self.clock()
        stats = statistics(self.sites, transactions, first_day=first_day, last_day=last_day,
                           now=now)
        return self.sign("statistics", json_bytes(stats.to_json()), JSON, now)
