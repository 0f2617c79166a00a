"""Running a participant from a CLI verb: start, print where it is, stop on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from ocppnet.participant.process import Participant

__all__ = ["run_until_stopped"]


async def run_until_stopped(
    participant: Participant,
    *,
    banner: str = "",
    duration: float | None = None,
    also: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> int:
    """Start ``participant``, print one banner to stderr, run until a signal (or
    ``duration`` seconds), then stop it. ``also`` runs beside it (e.g. a periodic job) and is
    cancelled at the end. Returns the exit code (0)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with participant:
        http = participant.http.url if participant.http else "off"
        print(f"ocppnet {banner or participant.id}: id {participant.id}, upstreams "
              f"{', '.join(participant.upstream_ids())}, http {http}\n  Ctrl-C to stop",
              file=sys.stderr, flush=True)
        side: asyncio.Task[None] | None = None
        if also is not None:
            side = asyncio.create_task(also())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), duration)
        finally:
            if side is not None:
                side.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await side
    return 0
