"""``python -m tests.cluster.fleet_run``: simulated stations (ocppnet.station) that each run
a known number of transactions, in one process, for the scale-out test.

    python -m tests.cluster.fleet_run --group ws://127.0.0.1:PORT/ocpp,CS-{:03d},220 \
        --group ws://127.0.0.1:PORT/ocpp,OS-{:02d},30,1.6 \
        --group ws://127.0.0.1:NODE/ocpp,NS-{:02d},50 --transactions 3 --out result.json

Every station is a real :class:`~ocppnet.station.runtime.SimulatedStation` (OCPP 2.0.1 by
default, or the group's version; reconnect with back-off, offline queue, seqNo or the
CSMS's transactionId in 1.6) whose driver is scripted instead of random: badge
(Authorize), plug in, charge for a moment (meter values), stop, ``N`` times (the station's
runtime unplugs the cable itself).
Its own :class:`StationStats` counts the transactions; the transaction messages it queued
(TransactionEvent; 1.6 StartTransaction, MeterValues, StopTransaction) and the ones the
CSMS acknowledged are counted too, so the test can compare them with what PostgreSQL holds.
Log lines on stderr: ``event=fleet_booted`` once every station is accepted,
``event=fleet_progress``, ``event=fleet_done`` once every station has finished, is online
and has an empty queue; then the per-station figures go to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ocppnet.station.clock import SimClock
from ocppnet.station.fleet import station_ids
from ocppnet.station.offline_queue import OfflineQueue, QueuedMessage
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.station.stats import StationStats
from ocppnet.transport import Backoff

log = logging.getLogger("tests.cluster.fleet_run")
SPEED = 60.0  # simulated seconds per second: a meter value per second while charging
BACKOFF = Backoff(base=0.2, cap=2.0, jitter=0.5)  # real seconds


@dataclass
class Counts:
    started: int = 0
    ended: int = 0
    tx_messages_queued: int = 0
    tx_messages_acknowledged: int = 0
    driver_retries: int = 0


async def poll(predicate: Callable[[], bool], interval: float = 0.05) -> None:
    """Until ``predicate()``: the simulator's state has no event to wait on."""
    while not predicate():  # noqa: ASYNC110
        await asyncio.sleep(interval)


class CountingQueue(OfflineQueue):
    def __init__(self, counts: Counts, limit: int, *, station: str) -> None:
        super().__init__(limit, station=station)
        self.counts = counts

    def push(self, message: QueuedMessage) -> bool:
        kept = super().push(message)
        if kept:
            self.counts.tx_messages_queued += 1
        return kept


class Scripted:
    """One station and its scripted driver."""

    def __init__(self, station: SimulatedStation, stats: StationStats, seed: int) -> None:
        self.station = station
        self.stats = stats
        self.counts = Counts()
        self.rng = random.Random(seed)
        self._count_queue()

    def _count_queue(self) -> None:
        """Count the transaction messages queued (a queue that counts, in place of the
        station's empty one) and those acknowledged (the dialect's delivery hook)."""
        station, counts = self.station, self.counts
        station.queue = CountingQueue(counts, station.queue.limit, station=station.station_id)
        delivered = station.dialect.delivered

        def counted_delivery(message: QueuedMessage, response: dict[str, object]) -> None:
            counts.tx_messages_acknowledged += 1
            delivered(message, response)

        station.dialect.delivered = counted_delivery  # type: ignore[method-assign]

    @property
    def settled(self) -> bool:
        s = self.station
        return s.online and s.accepted and not s.queue

    @property
    def booted(self) -> bool:
        return self.station.online and self.station.accepted

    async def drive(self, transactions: int, token: str) -> None:
        """``transactions`` sessions on EVSE 1, with small random pauses."""
        s = self.station
        await poll(lambda: self.booted)
        for _ in range(transactions):
            await asyncio.sleep(self.rng.uniform(0.2, 1.5))
            # badge first, then plug in: a car plugged in but not yet authorized is unplugged
            # by the station's runtime after 10 simulated seconds (0.17 s here)
            while not await s.present_token(1, token):  # refused (CSMS away mid-call): again
                self.counts.driver_retries += 1
                await asyncio.sleep(0.3)
            s.apply(s.model.plug_in(1, s.scenario.new_ev(self.rng), s.clock.now()))
            await asyncio.sleep(self.rng.uniform(1.0, 2.5))
            s.apply(s.model.stop(1, "Local", s.clock.now()))
            await poll(lambda: s.model.evse(1).session is None)  # it unplugs by itself
        self.counts.started = self.stats.transactions_started
        self.counts.ended = self.stats.transactions_ended


def parse_group(text: str) -> tuple[str, str, int, str]:
    """``URL,PATTERN,COUNT[,VERSION]`` -> (url, pattern, count, version); ValueError names
    the flag."""
    parts = text.split(",")
    if len(parts) not in (3, 4) or not parts[2].isdigit():
        raise ValueError(f"--group: expected URL,PATTERN,COUNT[,VERSION], got {text!r}")
    return parts[0], parts[1], int(parts[2]), parts[3] if len(parts) == 4 else "2.0.1"


async def run(groups: list[tuple[str, str, int, str]], transactions: int, out: Path,
              rate: float) -> int:
    clock = SimClock(SPEED)
    scenario = Scenario(auto=False, meter_interval_s=60.0, heartbeat_s=120.0)
    fleet: list[Scripted] = []
    for url, pattern, count, version in groups:
        for station_id in station_ids(pattern, count):
            stats = StationStats()
            station = SimulatedStation(station_id, url, version=version, scenario=scenario,
                                       clock=clock,
                                       stats=stats, backoff=BACKOFF, call_timeout=10.0,
                                       seed=len(fleet))
            fleet.append(Scripted(station, stats, seed=len(fleet)))
    runners = []
    for one in fleet:  # staggered start: a real fleet does not connect in one instant
        runners.append(asyncio.create_task(one.station.run(), name=one.station.station_id))
        await asyncio.sleep(1.0 / rate)
    started = time.monotonic()
    await poll(lambda: all(one.booted for one in fleet), 0.1)
    log.info("event=fleet_booted stations=%d seconds=%.1f", len(fleet),
             time.monotonic() - started)
    drivers = [asyncio.create_task(one.drive(transactions, "SIMTOKEN01")) for one in fleet]
    while not all(d.done() for d in drivers):
        await asyncio.wait(drivers, timeout=1.0)
        log.info("event=fleet_progress drivers_done=%d online=%d tx_started=%d tx_ended=%d",
                 sum(d.done() for d in drivers), sum(one.station.online for one in fleet),
                 sum(one.stats.transactions_started for one in fleet),
                 sum(one.stats.transactions_ended for one in fleet))
    for d in drivers:
        d.result()  # a driver that failed fails the run
    await poll(lambda: all(one.settled for one in fleet), 0.1)
    result = json.dumps({one.station.station_id: asdict(one.counts) for one in fleet})
    await asyncio.to_thread(out.write_text, result)
    log.info("event=fleet_done stations=%d seconds=%.1f", len(fleet),
             time.monotonic() - started)
    await asyncio.gather(*(one.station.close() for one in fleet), return_exceptions=True)
    for task in runners:
        task.cancel()
    await asyncio.gather(*runners, return_exceptions=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", action="append", required=True,
                        metavar="URL,PATTERN,COUNT[,VERSION]")
    parser.add_argument("--transactions", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0, help="new stations per second")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        groups = [parse_group(g) for g in args.group]
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    return asyncio.run(run(groups, args.transactions, args.out, args.rate))


if __name__ == "__main__":
    raise SystemExit(main())
