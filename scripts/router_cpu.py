"""CPU per routed request + answer through ``Router.receive`` (fake links, no sockets).

An A/B tool for refactorings of node/router.py: run it against two trees, alternating, and
compare the medians (the machine is shared; wall-clock benchmarks are too noisy for this)::

    git archive <old-rev> src | tar -x -C /tmp/old
    for i in 1 2 3 4 5 6; do
        PYTHONPATH=/tmp/old/src .venv/bin/python scripts/router_cpu.py 30000
        PYTHONPATH=src .venv/bin/python scripts/router_cpu.py 30000
    done

Prints calls (a station's Heartbeat up, the CSMS's answer down) per CPU-second.
"""

from __future__ import annotations

import asyncio
import sys
import time

from ocppnet.node.router import Router
from ocppnet.routing import LinkInfo
from ocppnet.rpc.codec import encode
from ocppnet.rpc.frames import Call, CallResult, Frame


class Sink:
    """A FrameWriter that only counts."""

    def __init__(self) -> None:
        self.n = 0

    async def write(self, frame: Frame) -> None:
        self.n += 1


async def calls_per_cpu_second(n: int) -> float:
    router = Router("NODE-A")
    router.table.add_static("CSMS", "CSMS-1")
    up, st = Sink(), Sink()
    upstream = router.attach(LinkInfo("CSMS-1", "overlay", "CSMS-1", "upstream"), "2.0.1", up)
    station = router.attach(LinkInfo("CS-1#1", "standard", "CS-1", "downstream"), "2.0.1", st)
    requests = [encode(Call(f"m{i}", "Heartbeat", {})) for i in range(n)]
    answers = [
        encode(CallResult(f"m{i}", {"currentTime": "2025-01-01T00:00:00Z"}, "CS-1", ("CSMS-1",)))
        for i in range(n)
    ]
    start = time.process_time()
    for request, answer in zip(requests, answers, strict=True):
        await router.receive(station, request)
        await router.receive(upstream, answer)
    spent = time.process_time() - start
    assert up.n == n and st.n == n, (up.n, st.n)
    return n / spent


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    print(f"{asyncio.run(calls_per_cpu_second(count)):.0f}")
