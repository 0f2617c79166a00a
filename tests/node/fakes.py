"""Socket-free stand-ins for the router's links and local application."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ocppnet.errors import ConnectionClosed
from ocppnet.rpc.frames import Frame


class FakeWriter:
    """A FrameWriter that records frames; ``closed`` makes it raise like a dead link;
    ``reply`` (if set) is called with each frame and may return a frame to feed back."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.closed = False
        self.reply: Callable[[Frame], None] | None = None

    async def write(self, frame: Frame) -> None:
        if self.closed:
            raise ConnectionClosed("fake link closed")
        self.frames.append(frame)
        if self.reply is not None:
            self.reply(frame)

    def take(self) -> list[Frame]:
        frames, self.frames = self.frames, []
        return frames


class FakeLocal:
    """A LocalApplication that records what the router hands it."""

    def __init__(self) -> None:
        self.delivered: list[tuple[Frame, str]] = []
        self.lost: list[str] = []
        self.changed: list[tuple[list[str], list[str], str]] = []

    async def deliver(self, frame: Frame, version: str) -> None:
        self.delivered.append((frame, version))

    def routes_lost(self, destinations: list[str]) -> None:
        self.lost.extend(destinations)

    def routes_changed(
        self, added: list[str], withdrawn: list[str], via: str, version: str
    ) -> None:
        self.changed.append((added, withdrawn, via))


async def settle() -> None:
    """Let tasks scheduled by the router (drains, replies) run to their next await."""
    for _ in range(20):
        await asyncio.sleep(0)
