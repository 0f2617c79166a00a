"""Binary frames through a router (DESIGN.md "Binary frames", docs/files.md).

A binary frame is routed by the rules of its text twin: :func:`surrogate` gives
:func:`~ocppnet.routing.decide` a text frame with the same type, id, action, DEST and PATH,
and the decision is applied to the bytes, which are never copied or queued here. A mixin of
:class:`~ocppnet.node.router.Router`; answers and errors are text frames.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ocppnet.errors import CallTimeout, ConnectionClosed
from ocppnet.node.link_state import AttachedLink, FrameEvent
from ocppnet.routing import (
    Decision,
    Deliver,
    Fanout,
    Forward,
    ForwardingFilter,
    Hold,
    PendingTable,
    Reject,
    RoutingTable,
    originate,
)
from ocppnet.rpc.binary import BinaryFrame, decode_binary, encode_binary
from ocppnet.rpc.codec import DecodeFailure
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame, MessageType, Send

if TYPE_CHECKING:
    from ocppnet.node.application import BinaryApplication, LocalApplication

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


class BinaryRouting:
    """Mixin: receive, route, send and deliver binary frames."""

    # provided by the router
    node_id: str
    aliases: frozenset[str]
    hop_limit: int
    request_timeout: float
    filters: ForwardingFilter
    table: RoutingTable
    pending: PendingTable
    links: dict[str, AttachedLink]
    local: LocalApplication | None
    binary_local: BinaryApplication | None
    guards: list[Callable[[Call, str], str | None]]
    observers: list[Callable[[FrameEvent], None]]
    counters: dict[str, int]
    clock: Callable[[], float]
    _own_calls: dict[str, asyncio.Future[Frame]]
    _binary_calls: dict[str, asyncio.Future[BinaryFrame]]

    if TYPE_CHECKING:

        async def execute(
            self, decision: Decision, source: AttachedLink | None, version: str | None = None
        ) -> None: ...

        async def send_local(self, frame: Frame, version: str) -> CallError | None: ...

        def decide(self, attached: AttachedLink, frame: Frame) -> Decision: ...

        async def answer_decode_failure(
            self, attached: AttachedLink, failure: DecodeFailure, event: str
        ) -> None: ...

        async def _answer(
            self, source: AttachedLink | None, reply: Frame, version: str
        ) -> None: ...

        def _guard(self, frame: Call, version: str) -> str | None: ...

        async def _refuse_guarded(
            self, link_id: str, frame: Call, reason: str, source: AttachedLink | None,
            version: str,
        ) -> None: ...

        async def _write(self, link_id: str, frame: Frame) -> bool: ...

        def _observe(self, link_id: str, direction: str, frame: Frame) -> None: ...

    async def receive_binary(self, attached: AttachedLink, message: bytes) -> None:
        """One binary message from a link: decode (length, sha256), then :meth:`route_binary`."""
        info = attached.info
        attached.frames_in += 1
        result = decode_binary(message, overlay=info.overlay, version=attached.version)
        if isinstance(result, DecodeFailure):
            await self.answer_decode_failure(attached, result, "binary_decode_failed")
            return
        await self.route_binary(attached, result)

    async def route_binary(self, attached: AttachedLink, frame: BinaryFrame) -> None:
        """Route a binary frame by the rules of its text twin (loop, hop limit, spoofing,
        learning, filters, correlation, standard strip): :func:`decide` sees the surrogate,
        the decision is applied to the bytes, which are never copied here."""
        carrier = surrogate(frame)
        if self.observers:
            self._observe(attached.info.link_id, "in", carrier)
        decision = self.decide(attached, carrier)
        await self._execute_binary(decision, frame, attached, attached.version)

    async def send_local_binary(self, frame: BinaryFrame, version: str) -> CallError | None:
        """Send a binary frame of the local application (DEST set) into the overlay; returns
        the error meant for the application itself (no route, upstream down)."""
        decision = originate(
            surrogate(frame), node_id=self.node_id, table=self.table, pending=self.pending,
            now=self.clock(), request_timeout=self.request_timeout,
        )
        if isinstance(decision, Reject) and decision.link_id is None:
            self.counters["rejected"] += 1
            return decision.reply
        if isinstance(decision, Hold):  # bytes are never queued
            self.counters["rejected"] += 1
            return decision.reply
        await self._execute_binary(decision, frame, None, version)
        return None

    async def call_binary(
        self, frame: BinaryFrame, version: str, timeout: float  # noqa: ASYNC109
    ) -> BinaryFrame | Frame:
        """Send a binary CALL of the local application and return its answer: a binary
        CALLRESULT, or a text CALLRESULT / CALLERROR (also one made by a node on the way).
        Raises CallTimeout after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        text: asyncio.Future[Frame] = loop.create_future()
        binary: asyncio.Future[BinaryFrame] = loop.create_future()
        message_id = frame.message_id
        self._own_calls[message_id] = text
        self._binary_calls[message_id] = binary
        try:
            error = await self.send_local_binary(frame, version)
            if error is not None:
                return error
            done, _ = await asyncio.wait(
                (text, binary), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                raise CallTimeout(f"no answer to {frame.action} {message_id} within {timeout}s")
            answer: BinaryFrame | Frame = done.pop().result()
            return answer
        finally:
            self._own_calls.pop(message_id, None)
            self._binary_calls.pop(message_id, None)
            text.cancel()
            binary.cancel()

    async def _execute_binary(
        self,
        decision: Decision,
        frame: BinaryFrame,
        source: AttachedLink | None,
        version: str,
    ) -> None:
        """Carry out a decision taken on ``frame``'s surrogate; answers are text frames."""
        if isinstance(decision, Forward):
            carrier = decision.frame
            if self.guards and isinstance(carrier, Call):
                reason = self._guard(carrier, version)
                if reason is not None:
                    await self._refuse_guarded(decision.link_id, carrier, reason, source, version)
                    return
            self.counters["forwarded"] += 1
            if not await self._write_binary(decision.link_id, rebind(frame, carrier)):
                origin: str | None = None
                if isinstance(carrier, Call) and carrier.path:
                    origin = carrier.path[0]
                    self.pending.pop_source(origin, carrier.message_id)
                elif isinstance(carrier, Call):  # stripped for a station: the entry knows
                    entry = self.pending.pop_link(decision.link_id, carrier.message_id)
                    origin = entry.source if entry is not None else None
                if isinstance(carrier, Call) and origin is not None:
                    reply = CallError(
                        carrier.message_id, "NetworkingError",
                        f"link {decision.link_id} is down or carries no binary frames", {},
                        dest=origin, path=(self.node_id,),
                    )
                    await self._answer(source, reply, version)
            elif self.observers:
                self._observe(decision.link_id, "out", carrier)
        elif isinstance(decision, Deliver):
            self.counters["delivered"] += 1
            await self._deliver_binary(rebind(frame, decision.frame), version)
        elif isinstance(decision, Fanout):
            for part in decision.decisions:
                await self._execute_binary(part, frame, source, version)
        elif isinstance(decision, Hold):  # bytes are never queued: the asker hears it now
            self.counters["rejected"] += 1
            log.info(
                "event=upstream_down node=%s upstream=%s message_id=%s binary=1",
                self.node_id, decision.link_id, frame.message_id,
            )
            if decision.reply is not None and decision.reply_link is not None:
                await self._write(decision.reply_link, decision.reply)
        else:  # Reject, Drop: nothing binary to send
            await self.execute(decision, source, version)

    async def _deliver_binary(self, frame: BinaryFrame, version: str) -> None:
        if frame.message_type == MessageType.CALLRESULT:
            waiter = self._binary_calls.pop(frame.message_id, None)
            if waiter is not None:
                if not waiter.done():
                    waiter.set_result(frame)
                return
        if self.binary_local is not None:
            await self.binary_local.deliver_binary(frame, version)
            return
        if frame.message_type == MessageType.CALL and frame.path:
            reply = CallError(
                frame.message_id, "NotSupported", f"node {self.node_id} takes no binary frames",
                {}, dest=frame.path[0], path=(self.node_id,),
            )
            await self.send_local(reply, version)
            return
        log.info(
            "event=binary_dropped node=%s message_id=%s reason=no_binary_application",
            self.node_id, frame.message_id,
        )

    async def _write_binary(self, link_id: str, frame: BinaryFrame) -> bool:
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
            log.info(
                "event=write_failed node=%s link=%s message_id=%s reason=%r",
                self.node_id, link_id, frame.message_id, exc.description,
            )
            return False
        attached.frames_out += 1
        return True
