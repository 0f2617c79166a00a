"""Telemetry load: stations that each send signed NotifyPeriodicEventStream batches (SEND,
OCPP 2.1) at a fixed rate, for the digital-twin benchmark (benchmarks/bench_twin.py).

    python -m benchmarks.telemetry_load --url ws://127.0.0.1:9100/ocpp --stations 1000 \
        --rate 1 --seconds 10

Prints ``CONNECTED n`` once every station is up, then sends for ``seconds`` (``--rate 0``:
connected but silent, the baseline) and prints a JSON line ``{"sent": …}``. Frames are
built, signed and masked once (a ring of 16 chained batches), so the generator's CPU per
batch is one socket write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime

import orjson

from benchmarks.processes import raise_fd_limit, run_loop, uvloop_available
from benchmarks.wsclient import Station, Window, client_frame, open_station
from ocppnet.security.keys import KeyPair
from ocppnet.security.signatures import sign
from ocppnet.telemetry.chain import StreamChain

RING = 16


def batch_frames() -> list[bytes]:
    """A ring of chained, signed batches of 10 power values (what a 2.1 station sends)."""
    key = KeyPair.generate("ed25519")
    chain = StreamChain(1)
    frames = []
    for n in range(RING):
        payload = chain.batch("2026-12-01T10:00:00.000Z",
                              [{"t": float(i), "v": f"{7000 + n * 10 + i}.0"} for i in range(10)])
        signed = sign(payload, action="NotifyPeriodicEventStream", kind="request",
                      version="2.1", key=key, now=datetime.now(UTC))
        text = orjson.dumps([6, f"tl-{n}", "NotifyPeriodicEventStream", signed])
        frames.append(client_frame(text))
    return frames


async def run(url: str, stations: int, rate: float, seconds: float, prefix: str) -> int:
    frames = batch_frames()
    window = Window()
    opened: list[Station] = []
    for start in range(0, stations, 100):  # connect in waves (the node's accept queue)
        opened.extend(await asyncio.gather(*(
            open_station(url, f"{prefix}{i}", "ocpp2.1", frames, window)
            for i in range(start, min(stations, start + 100)))))
    sys.stdout.write(f"CONNECTED {len(opened)}\n")
    sys.stdout.flush()
    sent = 0
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    if rate > 0:
        period = 1.0 / rate
        slot = period / len(opened)
        tick = loop.time()
        while loop.time() < end:
            for index, station in enumerate(opened):  # spread over the period
                due = tick + index * slot
                delay = due - loop.time()
                if delay > 0.002:
                    await asyncio.sleep(delay)
                if station.transport is not None and not station.transport.is_closing():
                    station.transport.write(frames[sent % RING])
                    sent += 1
            tick += period
    else:
        await asyncio.sleep(seconds)
    sys.stdout.write(json.dumps({"sent": sent, "stations": len(opened)}) + "\n")
    sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1.0, help="batches/s per station")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--prefix", default="TL-")
    args = parser.parse_args(argv)
    raise_fd_limit()
    return int(run_loop(run(args.url, args.stations, args.rate, args.seconds, args.prefix),
                        "uvloop" if uvloop_available() else "asyncio"))


if __name__ == "__main__":
    raise SystemExit(main())
