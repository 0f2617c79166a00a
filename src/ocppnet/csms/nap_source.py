"""The CSMS side of the access-point exports: read the store, build signed publications.

:class:`NapSource` reads what stations reported (stations, connector status, transactions)
for the EVSEs of the site data and hands it to the pure mappings of :mod:`ocppnet.nap`. Each
call reads the store afresh, so the next publication after a StatusNotification shows it;
signatures are cached by content (ETag) so an unchanged publication is not signed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import orjson

from ocppnet.nap import datex2, ocpi
from ocppnet.nap.publication import Publication, etag_of, publication
from ocppnet.nap.sites import Sites
from ocppnet.nap.stats import statistics
from ocppnet.nap.status import StatusSnapshot, evse_states, snapshot
from ocppnet.security.keys import PrivateKey
from ocppnet.store.interface import Store
from ocppnet.store.records import ConnectorRecord, StationRecord

__all__ = ["JSON", "XML", "NapSource"]

log = logging.getLogger("ocppnet.csms.nap")

XML = "application/xml"
JSON = "application/json"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def json_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


class NapSource:
    def __init__(self, store: Store, sites: Sites, key: PrivateKey,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.store = store
        self.sites = sites
        self.key = key
        self.clock = clock
        self._signed: dict[tuple[str, str], Publication] = {}
        self._stations = sorted({e.station for loc in sites.locations for e in loc.evses})

    async def status(self) -> StatusSnapshot:
        """Every EVSE's state as the store has it now."""
        stations: dict[str, StationRecord] = {}
        connectors: dict[str, list[ConnectorRecord]] = {}
        for station_id in self._stations:
            record = await self.store.get_station(station_id)
            if record is not None:
                stations[station_id] = record
                connectors[station_id] = await self.store.list_connectors(station_id)
        active = await self.store.list_transactions(active_only=True)
        return snapshot(self.sites, evse_states(self.sites, stations, connectors, active))

    def sign(self, name: str, body: bytes, media_type: str,
             last_modified: datetime) -> Publication:
        key = (name, etag_of(body))
        cached = self._signed.get(key)
        if cached is None:
            if len(self._signed) > 256:
                self._signed.clear()
            cached = publication(name, body, media_type, last_modified, self.key)
            self._signed[key] = cached
            log.info("event=nap_published name=%s etag=%s bytes=%d", name, cached.etag,
                     len(body))
        return cached

    async def datex2_table(self) -> Publication:
        return self.sign("datex2-table", datex2.table_publication(self.sites), XML,
                         self.sites.last_updated)

    async def datex2_status(self) -> Publication:
        snap = await self.status()
        return self.sign("datex2-status", datex2.status_publication(self.sites, snap), XML,
                         snap.last_modified)

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
