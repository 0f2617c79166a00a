"""permessage-deflate on the two drivers: CPU per call and memory per link.

The server (benchmarks.deflate_peer: our ``serve()``, an echo-style CALLRESULT) runs alone in
its own process; stations are websockets clients in this process that offer permessage-deflate
(websockets' defaults) and keep one CALL in flight each (Heartbeat and MeterValues
alternately). Reported: calls per server CPU-second with deflate negotiated, picows against
websockets, and picows with deflate against picows without; and the deflate state one link
holds after a message each way (tracemalloc, zlib included), ours against websockets' own
server extension with its default settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    enable_server_permessage_deflate,
)
from websockets.frames import Frame, Opcode
from websockets.typing import Subprotocol

from benchmarks.frames import SUBPROTOCOL, call
from benchmarks.processes import ROOT, Peer, cpu_seconds, uvloop_available
from benchmarks.report import Row
from ocppnet.transport.deflate import Deflate, server_accept


@contextlib.contextmanager
def server(driver: str, compression: str | None, loop: str) -> Iterator[Peer]:
    cmd = [sys.executable, "-m", "benchmarks.deflate_peer", driver, "--loop", loop]
    if compression:
        cmd += ["--compression", compression]
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("READY "):
                errors.seek(0)
                raise RuntimeError(f"deflate_peer {driver} did not start: {errors.read()[-2000:]}")
            yield Peer(proc, int(line.split()[1]), driver)
        finally:
            proc.terminate()
            proc.wait(10)


async def _load(url: str, stations: int, seconds: float, pid: int) -> dict[str, float]:
    sockets = [await connect(f"{url}/CP{n}", subprotocols=[Subprotocol(SUBPROTOCOL)],
                             compression="deflate", proxy=None) for n in range(stations)]
    negotiated = all(
        ws.response is not None and "Sec-WebSocket-Extensions" in ws.response.headers
        for ws in sockets)
    calls = 0
    measuring = False

    async def station(ws: Any, n: int) -> None:
        nonlocal calls
        i = 0
        while True:
            i += 1
            await ws.send(call(f"{n}-{i}", i))
            await ws.recv()
            if measuring:
                calls += 1

    tasks = [asyncio.create_task(station(ws, n)) for n, ws in enumerate(sockets)]
    await asyncio.sleep(seconds / 3)  # warm-up
    measuring, cpu0, t0 = True, cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    measuring, cpu1, elapsed = False, cpu_seconds(pid), time.monotonic() - t0
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for ws in sockets:
        await ws.close()
    cpu = cpu1 - cpu0
    return {"rate": calls / elapsed, "per_cpu": calls / cpu if cpu > 0 else 0.0,
            "cpu": cpu / elapsed, "negotiated": float(negotiated)}


def measure(driver: str, compression: str | None, quick: bool) -> dict[str, float]:
    loop = "uvloop" if uvloop_available() else "asyncio"
    with server(driver, compression, loop) as p:
        result = asyncio.run(_load(p.url, 3 if quick else 10, 0.6 if quick else 3.0, p.pid))
    if compression and not result["negotiated"]:
        raise RuntimeError(f"{driver}: permessage-deflate was not negotiated")
    return result


def state_kib(links: int) -> tuple[float, float]:
    """KiB of deflate state per link after one message each way: ours, websockets'."""
    offer = [ClientPerMessageDeflateFactory(client_max_window_bits=True).get_request_params()]
    header = "permessage-deflate; " + "; ".join(
        k if v is None else f"{k}={v}" for k, v in offer[0])
    message = call("1-1", 1).encode()
    agreement = server_accept([header])
    if agreement is None:
        raise RuntimeError(f"our server declined websockets' offer {header!r}")
    inbound = Deflate(agreement, client=True).encode(message)  # what the client sends

    def ours() -> Any:
        codec = Deflate(agreement, client=False)
        codec.decode(inbound, None)
        codec.encode(message)
        return codec

    def theirs() -> Any:
        factory = enable_server_permessage_deflate(None)[0]
        _, extension = factory.process_request_params(offer[0], [])
        extension.decode(Frame(Opcode.TEXT, inbound, rsv1=True))
        extension.encode(Frame(Opcode.TEXT, message))
        return extension

    results = []
    for build in (ours, theirs):
        build()  # warm caches
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = [build() for _ in range(links)]
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        results.append((after - before) / len(kept) / 1024)
    return results[0], results[1]


def run(quick: bool) -> list[Row]:
    runs = {(d, c): measure(d, c, quick) for d in ("websockets", "picows")
            for c in (None, "deflate")}
    pic, ws = runs[("picows", "deflate")], runs[("websockets", "deflate")]
    plain = runs[("picows", None)]
    n = "3 stations" if quick else "10 stations"
    ours_kib, theirs_kib = state_kib(20 if quick else 200)
    return [
        Row("deflate", f"calls per server CPU-second, deflate negotiated, picows vs websockets "
            f"({n})", "calls/CPU-s", pic["per_cpu"], ws["per_cpu"], "websockets",
            note=f"picows {pic['rate']:,.0f} calls/s at {pic['cpu']:.0%} CPU; websockets "
                 f"{ws['rate']:,.0f} calls/s at {ws['cpu']:.0%}"),
        Row("deflate", f"calls per server CPU-second, picows, deflate vs no compression ({n})",
            "calls/CPU-s", pic["per_cpu"], plain["per_cpu"], "no compression",
            note=f"websockets without compression {runs[('websockets', None)]['per_cpu']:,.0f}"
                 " calls/CPU-s"),
        Row("deflate", "deflate state per link after one message each way (tracemalloc)",
            "KiB", ours_kib, theirs_kib, "websockets' extension"),
    ]
