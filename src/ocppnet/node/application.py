"""What a router hands to the code that runs on it: guards on forwarded requests, the local
application (a CSMS, a node-local app) and the binary application (a file service)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ocppnet.rpc.binary import BinaryFrame
from ocppnet.rpc.frames import Call, Frame

Guard = Callable[[Call, str], str | None]
"""``guard(call, version) -> reason | None``: a check on every request this node forwards
(e.g. signature policy or roles); a reason rejects it with CALLERROR SecurityError."""


class LocalApplication(Protocol):
    """What a router hands frames addressed to itself (a CSMS, a local controller app)."""

    async def deliver(self, frame: Frame, version: str) -> None: ...

    def routes_lost(self, destinations: list[str]) -> None: ...

    def routes_changed(
        self, added: list[str], withdrawn: list[str], via: str, version: str
    ) -> None: ...


class BinaryApplication(Protocol):
    """Takes binary frames addressed to this node (e.g. a file service, docs/files.md)."""

    async def deliver_binary(self, frame: BinaryFrame, version: str) -> None: ...
