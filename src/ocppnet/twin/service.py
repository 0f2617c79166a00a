"""The digital twin's application: what it answers on the overlay and what it keeps.

It takes periodic event streams (directly from 2.1 stations, or as ``MirrorData`` copies
from a node), verifies each batch (the station's signature with the twin's own trust store,
then the chain: :class:`~ocppnet.telemetry.StreamVerifier`), stores the values of accepted
batches as time series and keeps a :class:`~ocppnet.telemetry.twin_state.TwinState`. It
never sends a request to anyone: its role has no command rights, and nodes refuse any
request from it (docs/digital-twin.md).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, field_validator

from ocppnet.config import Section
from ocppnet.rpc.frames import JsonObject
from ocppnet.rpc.timestamps import parse_seconds
from ocppnet.security.signatures import verify
from ocppnet.security.trust import TrustStore
from ocppnet.telemetry.streams import StreamSpec, spec_from_open
from ocppnet.telemetry.twin_state import TwinState
from ocppnet.telemetry.verifier import BatchVerdict, StreamVerifier
from ocppnet.transport.handlers import CallContext, Handlers
from ocppnet.twin.store import Sample, SeriesStore

__all__ = ["SiteSection", "TwinSection", "TwinService"]

log = logging.getLogger("ocppnet.twin")


class SiteSection(Section):
    """A site: the stations behind one grid connection, and its limit for the chart."""

    stations: tuple[str, ...] = Field(description="station ids at the site")
    limit_w: float | None = Field(None, description="the site's limit, drawn against its total")


class TwinSection(Section):
    """``[twin]``: where the twin keeps its series and how it trusts what it gets."""

    store: str = Field("twin.sqlite3", description="SQLite file, ':memory:' or postgresql:// URL")
    bind_keys: bool = Field(
        True, description="a station's batches count only when signed by the trusted key "
                          "named after the station (trust file CS-1.pem for CS-1)")
    raw_retention_s: float = Field(86_400.0, description="raw samples kept this long")
    rollup_bucket_s: float = Field(60.0, description="bucket of the rollups of older data")
    compact_every_s: float = Field(600.0, description="how often old samples are rolled up")
    sites: dict[str, SiteSection] = Field(default_factory=dict, description="[twin.sites.NAME]")

    @field_validator("raw_retention_s", "rollup_bucket_s", "compact_every_s")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("must be > 0")
        return value


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class TwinService:
    """``TwinService(section, trust, store)``; ``register(handlers)``; ``await store.open()``."""

    def __init__(
        self,
        section: TwinSection,
        trust: TrustStore,
        store: SeriesStore,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.section = section
        self.trust = trust
        self.store = store
        self.clock = clock
        self.state = TwinState()
        self.verifier = StreamVerifier()
        self.counters = {"batches": 0, "accepted": 0, "refused": 0, "values": 0, "copies": 0}

    def register(self, handlers: Handlers) -> None:
        handlers.add("MirrorData", self._on_mirror)
        handlers.add("NotifyPeriodicEventStream", self._on_stream)
        handlers.add("OpenPeriodicEventStream", self._on_open)
        handlers.add("ClosePeriodicEventStream", self._on_close)

    # --- handlers -----------------------------------------------------------------------

    async def _on_mirror(self, ctx: CallContext, payload: JsonObject) -> JsonObject:
        self.counters["copies"] += 1
        self.take(str(payload["source"]), str(payload["action"]), payload["payload"],
                  shed=int(payload.get("shed", 0)))
        return {}

    async def _on_stream(self, ctx: CallContext, payload: JsonObject) -> JsonObject:
        self.take(ctx.remote_id, "NotifyPeriodicEventStream", payload)
        return {}

    async def _on_open(self, ctx: CallContext, payload: JsonObject) -> JsonObject:
        self.take(ctx.remote_id, "OpenPeriodicEventStream", payload)
        return {"status": "Accepted"}

    async def _on_close(self, ctx: CallContext, payload: JsonObject) -> JsonObject:
        return {}

    # --- what arrives -------------------------------------------------------------------

    def take(self, station: str, action: str, payload: Mapping[str, Any], *,
             shed: int = 0) -> BatchVerdict | None:
        """One request of ``station`` (copied or direct); the batch verdict for streams."""
        if action == "OpenPeriodicEventStream":
            spec = spec_from_open(payload)
            data = payload.get("constantStreamData")
            params = data.get("params", {}) if isinstance(data, Mapping) else {}
            if spec is not None:
                interval = params.get("interval") if isinstance(params, Mapping) else None
                self.state.open_stream(station, spec, float(interval or 1))
            return None
        if action == "NotifyPeriodicEventStream":
            return self._batch(station, payload, shed)
        if action == "StatusNotification":
            self._status(station, payload)
        return None

    def _signed_by(self, station: str, payload: Mapping[str, Any]) -> bool:
        verdicts = verify(payload, action="NotifyPeriodicEventStream", kind="request",
                          version="2.1", trusted=self.trust, now=datetime.now(UTC))
        return any(v.valid and (not self.section.bind_keys or self._key_of(v.key_id) == station)
                   for v in verdicts)

    def _key_of(self, key_id: str | None) -> str | None:
        """The name the twin's trust store gives a key (its file name: the station id)."""
        entry = self.trust.get(key_id) if key_id is not None else None
        return None if entry is None else entry.name

    def _batch(self, station: str, payload: Mapping[str, Any], shed: int) -> BatchVerdict:
        self.counters["batches"] += 1
        verdict = self.verifier.check(station, payload,
                                      signed=self._signed_by(station, payload),
                                      announced_gap=shed)
        if verdict.status.value != "ok":
            self.store.add_verdict(self.clock(), station, verdict.stream_id, verdict.seq,
                                   verdict.status.value, verdict.detail)
            level = logging.INFO if verdict.status.value == "shed" else logging.WARNING
            log.log(level, "event=batch_%s station=%s stream=%s seq=%s detail=%r",
                        verdict.status.value, station, verdict.stream_id, verdict.seq,
                        verdict.detail)
        if not verdict.accepted:
            self.counters["refused"] += 1
            return verdict
        self.counters["accepted"] += 1
        spec = self.state.spec(station, verdict.stream_id) or StreamSpec(
            verdict.stream_id, f"stream{verdict.stream_id}", "", 0)
        try:
            base = parse_seconds(str(payload["basetime"]))
        except (KeyError, ValueError):
            return verdict
        for item in payload.get("data", []):
            at, text = base + float(item["t"]), str(item["v"])
            value = _number(text) if spec.numeric else None
            self.store.add(Sample(station, spec.label, at, value,
                                  None if value is not None else text))
            self.state.update(station, spec, at, text)
            self.counters["values"] += 1
        return verdict

    def _status(self, station: str, payload: Mapping[str, Any]) -> None:
        status = payload.get("connectorStatus") or payload.get("status")
        evse_id = payload.get("evseId", payload.get("connectorId", 0))
        if isinstance(status, str) and isinstance(evse_id, int):
            spec = StreamSpec(0, "connector", "state", evse_id)
            self.state.update(station, spec, self.clock(), status)

    # --- housekeeping and views ---------------------------------------------------------

    async def compact_forever(self) -> None:
        """Roll up raw samples older than the retention, every ``compact_every_s``."""
        while True:
            await asyncio.sleep(self.section.compact_every_s)
            folded = await self.store.compact(self.clock() - self.section.raw_retention_s,
                                              self.section.rollup_bucket_s)
            log.info("event=twin_compacted samples=%d", folded)

    def power_labels(self, station: str) -> list[str]:
        twin = self.state.stations.get(station)
        if twin is None:
            return []
        return sorted(s.label for s in twin.streams.values() if s.quantity == "power")

    async def site_series(self, site: str, *, since: float, bucket_s: float
                          ) -> list[tuple[float, float]]:
        """The site's total power (sum of its stations' EVSE power), per bucket."""
        totals: dict[float, float] = {}
        for station in self.section.sites[site].stations:
            for label in self.power_labels(station):
                per_bucket: dict[float, list[float]] = {}
                for at, value in await self.store.series(station, label, since):
                    per_bucket.setdefault(math.floor(at / bucket_s) * bucket_s, []).append(value)
                for start, values in per_bucket.items():
                    totals[start] = totals.get(start, 0.0) + sum(values) / len(values)
        return sorted(totals.items())
