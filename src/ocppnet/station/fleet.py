"""Many simulated stations in one process, for load: staggered start, progress, a summary.

Every station is one task (plus its link reader), sharing one :class:`StationStats`, so a
thousand stations cost a few tens of MB. Progress is one structured log line per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import ssl
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ocppnet.security.context import SecurityContext
from ocppnet.security.keystore import KeyStore
from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.offline_store import QueueFile
from ocppnet.station.runtime import DEFAULT_BACKOFF, SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.station.signed_meter import MeterSigning, SigningMeter, meter_key_from_store
from ocppnet.station.stats import StationStats
from ocppnet.station.telemetry import TelemetryPlan
from ocppnet.transport import Backoff

log = logging.getLogger("ocppnet.station.fleet")


def station_ids(pattern: str, count: int, first: int = 1) -> list[str]:
    """``("CS-{:05d}", 3)`` -> ``["CS-00001", "CS-00002", "CS-00003"]``.

    A pattern without a placeholder is used as is for one station and numbered ``-1``,
    ``-2``... for more. Raises ValueError for a pattern that does not format or repeats ids.
    """
    if count < 1:
        raise ValueError("--count must be at least 1")
    if "{" not in pattern:
        return [pattern] if count == 1 else [f"{pattern}-{i}" for i in range(first, first + count)]
    try:
        ids = [pattern.format(i) for i in range(first, first + count)]
    except (IndexError, KeyError, ValueError) as exc:
        raise ValueError(f"station id pattern {pattern!r} does not format: {exc}") from None
    if len(set(ids)) != len(ids):
        raise ValueError(f"station id pattern {pattern!r} gives duplicate ids")
    if any(not i or len(i) > 48 for i in ids):
        raise ValueError("station ids must have 1 to 48 characters")
    return ids


@dataclass(frozen=True, slots=True)
class FleetConfig:
    url: str
    count: int = 1
    id_pattern: str = "CS-{:05d}"
    version: str = "2.0.1"
    rate: float = 50.0  # new connections per second
    password: str | None = None
    ssl_context: ssl.SSLContext | None = None
    scenario: Scenario = field(default_factory=Scenario)
    station: StationConfig = field(default_factory=StationConfig)
    speed: float = 1.0  # simulated seconds per wall-clock second
    progress_interval_s: float = 1.0
    seed: int = 0
    backoff: Backoff = DEFAULT_BACKOFF
    call_timeout: float = 30.0
    security: SecurityContext | None = None  # [security]: verify commands, sign per policy
    telemetry: TelemetryPlan | None = None
    """Periodic event streams of every (2.1) station; see :mod:`ocppnet.station.telemetry`."""
    queue_file: Path | None = None
    """SQLite file keeping every station's offline queue (None: in memory only)."""
    telemetry_keys: Path | None = None
    """Key store with one telemetry signing key per station, named after it (made on first
    use; its ``<id>.pub.pem`` files are what a twin trusts)."""
    meter_keys: Path | None = None  # OCMF: sign readings, meter keys in this key store
    meter_signing: MeterSigning = field(default_factory=MeterSigning)

    def __post_init__(self) -> None:
        if self.telemetry is not None and self.version != "2.1":
            raise ValueError("--telemetry needs --version 2.1 (streams are SEND frames)")
        if self.rate <= 0 or self.speed <= 0 or self.progress_interval_s <= 0:
            raise ValueError("rate, speed and progress interval must be > 0")


@dataclass(frozen=True, slots=True)
class FleetSummary:
    stations: int
    duration_s: float
    messages_sent: int
    errors: int
    boots_accepted: int
    transactions_started: int
    transactions_ended: int
    queued_offline: int
    peak_rss_mb: float

    @property
    def messages_per_s(self) -> float:
        return self.messages_sent / self.duration_s if self.duration_s > 0 else 0.0

    def line(self) -> str:
        return (f"event=summary stations={self.stations} duration_s={self.duration_s:.1f} "
                f"messages_sent={self.messages_sent} msgs_per_s={self.messages_per_s:.1f} "
                f"errors={self.errors} boots_accepted={self.boots_accepted} "
                f"transactions_started={self.transactions_started} "
                f"transactions_ended={self.transactions_ended} "
                f"queued_offline={self.queued_offline} peak_rss_mb={self.peak_rss_mb:.1f}")


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Fleet:
    """``await Fleet(config).run(duration_s)``: start, report progress, stop, summarize."""

    def __init__(self, config: FleetConfig) -> None:
        self.config = config
        self.ids = station_ids(config.id_pattern, config.count)
        self.stats = StationStats()
        self.clock = SimClock(config.speed)
        self.stations: list[SimulatedStation] = []
        self.queue_file = None if config.queue_file is None else QueueFile(config.queue_file)
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    def _make(self, index: int, station_id: str) -> SimulatedStation:
        c = self.config
        meter = None if c.meter_keys is None else SigningMeter(
            station_id, meter_key_from_store(c.meter_keys, station_id), c.version,
            c.meter_signing)
        return SimulatedStation(
            station_id, c.url, version=c.version, config=c.station, scenario=c.scenario,
            clock=self.clock, password=c.password, ssl_context=c.ssl_context, stats=self.stats,
            backoff=c.backoff, seed=c.seed * 1_000_003 + index, call_timeout=c.call_timeout,
            security=c.security, telemetry=self._telemetry(station_id), signing_meter=meter,
            queue_file=self.queue_file)

    def _telemetry(self, station_id: str) -> TelemetryPlan | None:
        plan, directory = self.config.telemetry, self.config.telemetry_keys
        if plan is None or directory is None:
            return plan
        store = KeyStore(directory)
        if not (directory / f"{station_id}.key.pem").exists():
            store.new(station_id, "ed25519")
        return replace(plan, key=store.key_pair(station_id))

    async def run(self, duration_s: float | None = None) -> FleetSummary:
        """Run until ``duration_s`` wall-clock seconds pass (None: until :meth:`stop`)."""
        started = time.monotonic()
        progress = asyncio.create_task(self._progress(started))
        launcher = asyncio.create_task(self._launch())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), duration_s)
        elapsed = time.monotonic() - started
        launcher.cancel()
        progress.cancel()
        await asyncio.gather(launcher, progress, return_exceptions=True)
        await asyncio.gather(*(s.close() for s in self.stations), return_exceptions=True)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        s = self.stats
        summary = FleetSummary(len(self.stations), elapsed, s.messages_sent, s.errors,
                               s.boots_accepted, s.transactions_started, s.transactions_ended,
                               s.queued_offline, peak_rss_mb())
        log.info(summary.line())
        if self.queue_file is not None:
            log.info("event=offline_queue_kept file=%s messages=%d", self.queue_file.path,
                     self.queue_file.count())
            self.queue_file.close()
        return summary

    async def _launch(self) -> None:
        gap = 1.0 / self.config.rate
        next_at = time.monotonic()
        for index, station_id in enumerate(self.ids):
            station = self._make(index, station_id)
            self.stations.append(station)
            task = asyncio.create_task(station.run(), name=station_id)
            task.add_done_callback(self._on_done)
            self._tasks.append(task)
            next_at += gap
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    def _on_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.stats.errors += 1
            log.error("event=station_failed station=%s error=%r", task.get_name(), str(exc))

    async def _progress(self, started: float) -> None:
        last_sent, last_t = 0, started
        n = len(self.ids)
        while True:
            await asyncio.sleep(self.config.progress_interval_s)
            s, now = self.stats, time.monotonic()
            rate = (s.messages_sent - last_sent) / max(now - last_t, 1e-9)
            last_sent, last_t = s.messages_sent, now
            log.info(
                "event=progress t=%.0f connected=%d/%d booted=%d tx_started=%d tx_ended=%d "
                "msgs_per_s=%.0f errors=%d queued_offline=%d rss_mb=%.0f",
                now - started, s.connected, n, s.booted, s.transactions_started,
                s.transactions_ended, rate, s.errors, s.queued_offline, peak_rss_mb())
