"""Binary frames through a router (docs/files.md, docs/routing.md).

A binary frame is routed by the rules of its text twin: :func:`surrogate` gives
:func:`~ocppnet.routing.decide` a text frame with the same type, id, action, DEST and PATH,
and the router's one executor applies the decision to the bytes (:func:`rebind`), which are
never copied or queued. :class:`BinaryFrames` is the router's collaborator for what only binary
frames need: writing one binary message on a link, delivering to the binary application and
waiting for the binary answers of the application's own calls. Answers and errors are text
frames.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from ocppnet.errors import ConnectionClosed
from ocppnet.node.application import BinaryApplication
from ocppnet.node.link_state import AttachedLink, write_failed
from ocppnet.rpc.binary import BinaryFrame, encode_binary
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame, MessageType, Send

log = logging.getLogger("ocppnet.node.router")


def surrogate(frame: BinaryFrame) -> Call | Send | CallResult:
    """The text twin routing decides on: same type, id, action, DEST, PATH; ``meta`` as payload
    (so filters and guards see the JSON fields); the bytes are not part of it."""
    if frame.message_type == MessageType.CALLRESULT:
        return CallResult(frame.message_id, frame.meta, frame.dest, frame.path)
    cls = Call if frame.message_type == MessageType.CALL else Send
    return cls(frame.message_id, frame.action or "", frame.meta, frame.dest, frame.path)


def rebind(frame: BinaryFrame, carrier: Frame) -> BinaryFrame:
    """``frame`` with the DEST/PATH a decision gave its surrogate (the bytes are shared)."""
    return BinaryFrame(
        frame.message_type, frame.message_id, frame.data, frame.action, frame.meta,
        carrier.dest, carrier.path,
    )


class BinaryFrames:
    """Writes and delivers binary frames for one router (``links`` is its link table, read
    only)."""

    def __init__(self, node_id: str, links: Mapping[str, AttachedLink]) -> None:
        self.node_id = node_id
        self.links = links
        self.local: BinaryApplication | None = None
        """Where binary frames for this node go (answers to :meth:`expect` excepted)."""
        self._waiters: dict[str, asyncio.Future[BinaryFrame]] = {}

    def expect(self, message_id: str) -> asyncio.Future[BinaryFrame]:
        """A future for the binary CALLRESULT to the local application's call ``message_id``."""
        future: asyncio.Future[BinaryFrame] = asyncio.get_running_loop().create_future()
        self._waiters[message_id] = future
        return future

    def forget(self, message_id: str) -> None:
        future = self._waiters.pop(message_id, None)
        if future is not None:
            future.cancel()

    async def write(self, link_id: str, frame: BinaryFrame) -> bool:
        """Write ``frame`` as one binary message; False (logged) when the link cannot."""
        attached = self.links.get(link_id)
        if attached is None or attached.binary is None:
            log.info(
                "event=binary_write_dropped node=%s link=%s message_id=%s reason=%s",
                self.node_id, link_id, frame.message_id,
                "link_down" if attached is None else "no_binary",
            )
            return False
        try:
            await attached.binary(encode_binary(frame))
        except ConnectionClosed as exc:
            return write_failed(attached, self.node_id, frame.message_id, exc)
        attached.frames_out += 1
        return True

    async def deliver(self, frame: BinaryFrame, version: str) -> CallError | None:
        """A binary frame addressed to this node; returns the error to send back when nobody
        here takes it (the router sends it as a frame of its own)."""
        if frame.message_type == MessageType.CALLRESULT:
            waiter = self._waiters.pop(frame.message_id, None)
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(frame)
                return None
        if self.local is not None:
            await self.local.deliver_binary(frame, version)
            return None
        if frame.message_type == MessageType.CALL and frame.path:
            return CallError(
                frame.message_id, "NotSupported", f"node {self.node_id} takes no binary frames",
                {}, dest=frame.path[0], path=(self.node_id,),
            )
        log.info(
            "event=binary_dropped node=%s message_id=%s reason=no_binary_application",
            self.node_id, frame.message_id,
        )
        return None
