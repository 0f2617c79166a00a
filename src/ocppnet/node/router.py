"""The asyncio engine of a networking node: reads links, asks the pure router, carries it out.

Every decoded frame goes to :func:`ocppnet.routing.decide`; the returned decision is executed
here and nowhere else (write on a link, deliver to the local application, queue while an
upstream is down, answer with an error), by one executor for text and binary frames. The
persistent queue (:mod:`~ocppnet.node.store_forward`) and the binary half
(:mod:`~ocppnet.node.binary_routing`) are collaborators the router owns and asks. One task
reads each link, so frames from one link keep their order. See docs/routing.md and
docs/node.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ocppnet.errors import CallTimeout, ConnectionClosed
from ocppnet.node.application import BinaryApplication, Guard, LocalApplication
from ocppnet.node.binary_routing import BinaryFrames, rebind, surrogate
from ocppnet.node.link_state import (
    AttachedLink,
    EncodingWriter,
    FrameEvent,
    FrameWriter,
    RoutedLink,
    TextLink,
    write_failed,
)
from ocppnet.node.plain_errors import plain_error
from ocppnet.node.queue import ForwardQueue, QueueUnavailable
from ocppnet.node.store_forward import StoreAndForward
from ocppnet.routing import (
    Deliver,
    Drop,
    Fanout,
    Forward,
    ForwardingFilter,
    Hold,
    LinkInfo,
    PendingTable,
    Reject,
    RouteDecision,
    RoutingTable,
    decide,
    frame_for_link,
    originate,
    timeout_reply,
)
from ocppnet.routing.forwarding import DEFAULT_HOP_LIMIT, FORWARD_ALL
from ocppnet.routing.topology import ACTION as TOPOLOGY_ACTION
from ocppnet.routing.topology import TopologyRejection
from ocppnet.rpc import header
from ocppnet.rpc.binary import BinaryFrame, decode_binary
from ocppnet.rpc.codec import DecodeFailure, decode
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame
from ocppnet.transport.link import Link
from ocppnet.transport.undecodable import answer_undecodable

__all__ = [
    "AttachedLink",
    "BinaryApplication",
    "EncodingWriter",
    "FrameEvent",
    "FrameWriter",
    "Guard",
    "LocalApplication",
    "RoutedLink",
    "Router",
    "TextLink",
    "plain_error",
]

log = logging.getLogger("ocppnet.node.router")

class Router:
    """Links + routing table + pending requests of one node, with two collaborators:
    :attr:`store_forward` (the persistent queue per upstream) and :attr:`binary` (binary
    frames). Every decision, on a text or a binary frame, is carried out by :meth:`execute`."""

    def __init__(
        self,
        node_id: str,
        *,
        aliases: frozenset[str] = frozenset(),
        hop_limit: int = DEFAULT_HOP_LIMIT,
        learned_ttl: float = 300.0,
        request_timeout: float = 60.0,
        filters: ForwardingFilter = FORWARD_ALL,
        queue: ForwardQueue | None = None,
        drain_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wallclock: Callable[[], float] = time.time,
        header_only: bool = True,
    ) -> None:
        self.node_id = node_id
        self.header_only = header_only
        """Read only the header of what arrives and forward payload bytes untouched (a node);
        False: decode every frame fully (an endpoint such as a CSMS, which handles nearly all
        it receives itself and would parse the payload anyway)."""
        self.aliases = aliases
        self.hop_limit = hop_limit
        self.request_timeout = request_timeout
        self.filters = filters
        self.clock = clock
        self.wallclock = wallclock
        self.table = RoutingTable(learned_ttl=learned_ttl)
        self.pending = PendingTable()
        self.local: LocalApplication | None = None
        self.links: dict[str, AttachedLink] = {}
        self.observers: list[Callable[[FrameEvent], None]] = []
        self.guards: list[Guard] = []
        self.peer_versions: dict[str, str] = {}
        """OCPP version of stations behind neighbours, from their announcements."""
        self.on_new_versions: Callable[[], Awaitable[None]] | None = None
        """Awaited when a neighbour announces stations of a version not known before (a node
        re-announces upstream, so the version travels ahead of the station's messages)."""
        self.counters: dict[str, int] = {
            "forwarded": 0, "delivered": 0, "rejected": 0, "dropped": 0, "queued": 0,
            "drained": 0, "decode_failed": 0,
        }
        self.store_forward = StoreAndForward(
            node_id, queue, self.links, self.counters,
            drain_timeout=drain_timeout, wallclock=wallclock,
        )
        self.binary = BinaryFrames(node_id, self.links)
        self._housekeeping: asyncio.Task[None] | None = None
        self._own_calls: dict[str, asyncio.Future[Frame]] = {}
        self._ids = itertools.count(1)

    @property
    def binary_local(self) -> BinaryApplication | None:
        """Where binary frames for this node go (CALLRESULTs of call_binary excepted)."""
        return self.binary.local

    @binary_local.setter
    def binary_local(self, application: BinaryApplication | None) -> None:
        self.binary.local = application

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the once-a-second housekeeping (request timeouts, route expiry)."""
        if self._housekeeping is None:
            self._housekeeping = asyncio.create_task(self._tick())
        self.store_forward.start()

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        await self.store_forward.stop()
        self._housekeeping = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.housekeeping()
            except Exception:
                log.exception("event=housekeeping_failed node=%s", self.node_id)

    async def housekeeping(self) -> None:
        now = self.clock()
        for entry in self.pending.expire(now):
            decision = timeout_reply(
                entry, node_id=self.node_id, table=self.table,
                description=f"no response from {entry.dest} within {self.request_timeout}s",
            )
            await self.execute(decision, None)
        expired = self.table.expire(now)
        if expired and self.local is not None:
            self.local.routes_lost([r.destination for r in expired])

    def resume_drain(self, upstream: str) -> None:
        """Send ``upstream``'s backlog if it has one and is up (e.g. a fallback socket opened)."""
        self.store_forward.resume_drain(upstream)

    # --- links --------------------------------------------------------------------------

    def attach(self, info: LinkInfo, version: str, writer: FrameWriter) -> AttachedLink:
        """Register a link that is up (adds its connected route)."""
        old = self.links.get(info.link_id)
        if old is not None:
            raise ValueError(f"link {info.link_id} is already attached")
        attached = AttachedLink(info, version, writer, self.wallclock())
        self.links[info.link_id] = attached
        self.table.add_link(info)
        log.info(
            "event=link_up node=%s link=%s mode=%s remote=%s role=%s version=%s",
            self.node_id, info.link_id, info.mode, info.remote_id, info.role, version,
        )
        if info.role == "upstream":
            self.store_forward.link_up(info.link_id)
        return attached

    async def detach(self, link_id: str) -> None:
        """The link is gone: drop its routes, answer requests that waited on it."""
        attached = self.links.pop(link_id, None)
        if attached is None:
            return
        lost = self.table.remove_link(link_id)
        log.info(
            "event=link_down node=%s link=%s remote=%s routes_lost=%d",
            self.node_id, link_id, attached.info.remote_id, len(lost),
        )
        self.store_forward.link_down(link_id)
        # A forwarded request whose answer was lost with the link gets an error: it is still
        # the station's to deliver (it was never acknowledged by this node).
        for entry in self.pending.drop_link(link_id):
            if entry.in_link == link_id:
                continue  # the asker is gone; nobody to answer
            decision = timeout_reply(
                entry, node_id=self.node_id, table=self.table,
                description=f"link to {entry.dest} lost before it answered",
            )
            await self.execute(decision, None)
        if self.local is not None:
            self.local.routes_lost(
                [r.destination for r in lost] + [attached.info.remote_id]
            )

    async def run_link(
        self,
        link: RoutedLink,
        info: LinkInfo,
        version: str,
        *,
        on_attached: Callable[[], object] | None = None,
        writer: FrameWriter | None = None,
    ) -> None:
        """Attach ``link``, route every message read from it until it closes, then detach.

        A link yields text messages (decoded here), binary messages, or frames it decoded
        itself (a link that translates, such as the per-station fallback upstream, which then
        passes itself as ``writer``). ``on_attached`` (sync or async) runs once the link is in
        the table, before the first message is read.
        """
        if writer is None:
            sender: TextLink = link  # type: ignore[assignment]
            if info.overlay and isinstance(link, Link):
                # an overlay link is shared by many stations: one socket write per loop turn
                sender = link.coalescing_sender(info.remote_id)  # type: ignore[assignment]
            writer = EncodingWriter(sender)
        attached = self.attach(info, version, writer)
        attached.binary = getattr(link, "send_binary", None)
        try:
            if on_attached is not None:
                outcome = on_attached()
                if inspect.isawaitable(outcome):
                    await outcome
            async for message in link:
                if isinstance(message, str):
                    await self.receive(attached, message)
                elif isinstance(message, bytes):
                    await self.receive_binary(attached, message)
                else:
                    attached.frames_in += 1
                    await self.route(attached, message)
        finally:
            await self.detach(info.link_id)

    # --- incoming -----------------------------------------------------------------------

    async def receive(self, attached: AttachedLink, message: str | bytes) -> None:
        """One text message from a link: read its header, decide, execute.

        Only the header is parsed (``rpc.header``); a CALL, SEND or CALLRESULT keeps its
        payload as the bytes it arrived in and is forwarded so. The payload is parsed (and a
        malformed one answered as the codec answers it) only where something here reads it:
        observers, guards, local delivery, the store-and-forward queue."""
        attached.frames_in += 1
        read = header.read_frame if self.header_only else decode
        result = read(message, overlay=attached.info.overlay, version=attached.version)
        if isinstance(result, DecodeFailure):
            await self.answer_decode_failure(attached, result, "decode_failed")
        else:
            await self.route(attached, result)  # (tests patch route() to play a bad node)

    async def receive_binary(self, attached: AttachedLink, message: bytes) -> None:
        """One binary message from a link: decode (length, sha256), then :meth:`route_binary`."""
        attached.frames_in += 1
        frame = decode_binary(message, overlay=attached.info.overlay, version=attached.version)
        if isinstance(frame, BinaryFrame):
            await self.route_binary(attached, frame)
        else:
            await self.answer_decode_failure(attached, frame, "binary_decode_failed")

    async def answer_decode_failure(
        self, attached: AttachedLink, failure: DecodeFailure, event: str
    ) -> None:
        """A malformed message: log it, send the codec's CALLERROR when it has one."""
        link_id = attached.info.link_id
        self.counters["decode_failed"] += 1

        async def write(reply: Frame) -> bool:
            return await self._write(link_id, reply)

        await answer_undecodable(
            failure, write, sender=self.node_id, log=log, event=event, node=self.node_id,
            link=link_id,
        )

    async def route(self, attached: AttachedLink, frame: Frame) -> None:
        """Route one decoded frame that arrived on ``attached``."""
        decision = self._decision(attached, frame)
        if isinstance(decision, DecodeFailure):
            await self.answer_decode_failure(attached, decision, "decode_failed")
        elif decision is not None:
            await self.execute(decision, attached)

    def _decision(
        self, attached: AttachedLink, frame: Frame
    ) -> RouteDecision | DecodeFailure | None:
        """Observe ``frame``, hand it to a drain waiting for it, else decide. None: nothing
        more to do; a DecodeFailure: the payload, checked for the observers, is malformed."""
        if self.observers:
            failure = header.payload_failure(frame)
            if failure is not None:
                return failure
            self._observe(attached.info.link_id, "in", frame)
        if self.store_forward.waiting and self.store_forward.take_answer(
            attached.info.link_id, frame
        ):
            return None
        return decide(
            frame, arrived_on=attached.info, node_id=self.node_id, table=self.table,
            pending=self.pending, now=self.clock(), filters=self.filters,
            hop_limit=self.hop_limit, request_timeout=self.request_timeout,
            aliases=self.aliases,
        )

    async def route_binary(self, attached: AttachedLink, frame: BinaryFrame) -> None:
        """Route a binary frame by the rules of its text twin (loop, hop limit, spoofing,
        learning, filters, correlation, standard strip): :func:`decide` sees the surrogate,
        the decision is applied to the bytes, which are never copied here."""
        carrier = surrogate(frame)
        if self.observers:
            self._observe(attached.info.link_id, "in", carrier)
        await self.execute(self.decide(attached, carrier), attached, attached.version, frame)

    def decide(self, attached: AttachedLink, frame: Frame) -> RouteDecision:
        """The pure routing decision for ``frame`` arriving on ``attached`` (learns, tracks)."""
        return decide(
            frame,
            arrived_on=attached.info,
            node_id=self.node_id,
            table=self.table,
            pending=self.pending,
            now=self.clock(),
            filters=self.filters,
            hop_limit=self.hop_limit,
            request_timeout=self.request_timeout,
            aliases=self.aliases,
        )

    # --- the local application's frames -------------------------------------------------

    async def send_local(self, frame: Frame, version: str) -> CallError | None:
        """Send a frame of the local application (DEST set) into the overlay.

        Returns the error meant for the application itself (no route, upstream down) instead
        of delivering it, so the sender can raise it to its caller.
        """
        decision = originate(
            frame, node_id=self.node_id, table=self.table, pending=self.pending,
            now=self.clock(), request_timeout=self.request_timeout,
        )
        if isinstance(decision, Reject) and decision.link_id is None:
            self.counters["rejected"] += 1
            return decision.reply
        if isinstance(decision, Hold) and decision.reply_link is None and not (
            self.store_forward.keeps(frame, version)
        ):
            self.counters["rejected"] += 1
            return decision.reply
        if self.observers:
            self._observe("local", "in", frame)
        await self.execute(decision, None, version)
        return None

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
        await self.execute(decision, None, version, frame)
        return None

    async def call_binary(
        self, frame: BinaryFrame, version: str, timeout: float  # noqa: ASYNC109
    ) -> BinaryFrame | Frame:
        """Send a binary CALL of the local application and return its answer: a binary
        CALLRESULT, or a text CALLRESULT / CALLERROR (also one made by a node on the way).
        Raises CallTimeout after ``timeout`` seconds."""
        message_id = frame.message_id
        text: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._own_calls[message_id] = text
        binary = self.binary.expect(message_id)
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
            self.binary.forget(message_id)
            text.cancel()

    # --- executing decisions ------------------------------------------------------------

    async def execute(
        self,
        decision: RouteDecision,
        source: AttachedLink | None,
        version: str | None = None,
        body: BinaryFrame | None = None,
    ) -> None:
        """Carry out ``decision``; with ``body`` it was taken on that binary frame's surrogate
        and the bytes travel (answers and errors stay text frames)."""
        version = version or (source.version if source is not None else "2.0.1")
        if isinstance(decision, Forward):  # the hot path: inline, text first
            frame = decision.frame
            link_id = decision.link_id
            # guards check what others send through this node (not the node's own requests,
            # e.g. its load manager's profiles), in the version the destination checks it in
            if self.guards and source is not None and isinstance(frame, Call):
                if await self._unreadable(frame, source):
                    self._forget_request(link_id, frame)
                    return
                reason = self._guard(frame, self._version_towards(link_id, frame, version))
                if reason is not None:
                    await self._refuse_guarded(link_id, frame, reason, source, version)
                    return
            if body is not None:
                await self._forward_binary(link_id, frame, body, source, version)
                return
            if self.store_forward.backlog.get(link_id) and self.store_forward.keeps(
                frame, version
            ):
                # a backlog exists: keep this station's messages behind it, in order
                assert isinstance(frame, Call)
                if frame.path:
                    self.pending.pop_source(frame.path[0], frame.message_id)
                await self._store(link_id, frame, source, version)
                return
            self.counters["forwarded"] += 1
            if not await self._write(link_id, frame) and isinstance(frame, Call) and frame.path:
                await self._not_written(link_id, frame, source, version, f"link {link_id} is down")
        elif isinstance(decision, Deliver):
            if body is None:
                if await self._unreadable(decision.frame, source):
                    return
                self.counters["delivered"] += 1
                await self._deliver(header.plain(decision.frame), version, source)
            else:
                self.counters["delivered"] += 1
                error = await self.binary.deliver(rebind(body, decision.frame), version)
                if error is not None:
                    await self.send_local(error, version)
        elif isinstance(decision, Reject):
            self.counters["rejected"] += 1
            log.info(
                "event=rejected node=%s reason=%r message_id=%s",
                self.node_id, decision.reason, decision.reply.message_id,
            )
            if decision.link_id is None:
                if self.local is not None:
                    await self.local.deliver(decision.reply, version)
            else:
                await self._write(decision.link_id, decision.reply)
        elif isinstance(decision, Hold):
            await self._hold(decision, source, version, binary=body is not None)
        elif isinstance(decision, Fanout):
            for part in decision.decisions:
                await self.execute(part, source, version, body)
        elif isinstance(decision, Drop):
            self.counters["dropped"] += 1
            log.info("event=dropped node=%s reason=%r", self.node_id, decision.reason)

    def _version_towards(self, link_id: str, frame: Frame, version: str) -> str:
        """The OCPP version the receiver of ``frame`` speaks: its own link's when it is a
        station's, what a neighbour announced for it otherwise (else ``version``)."""
        target = self.links.get(link_id)
        if target is not None and target.info.mode == "standard":
            return target.version
        return self.peer_versions.get(frame.dest or "", version)

    async def _forward_binary(
        self, link_id: str, carrier: Frame, body: BinaryFrame, source: AttachedLink | None,
        version: str,
    ) -> None:
        """The bytes go on ``link_id`` (never queued); a link without binary frames is an
        error for the sender."""
        self.counters["forwarded"] += 1
        if await self.binary.write(link_id, rebind(body, carrier)):
            if self.observers:
                self._observe(link_id, "out", carrier)
        elif isinstance(carrier, Call):
            await self._not_written(
                link_id, carrier, source, version,
                f"link {link_id} is down or carries no binary frames", keep=False,
            )

    async def _not_written(
        self, link_id: str, frame: Call, source: AttachedLink | None, version: str,
        description: str, *, keep: bool = True,
    ) -> None:
        """A request could not be written on ``link_id``: kept when it must not be lost (text
        only, ``keep``), else its sender hears it now. (A text request sent stripped to a
        station is not handled here: its pending entry answers when the link is lost.)"""
        if keep and self.store_forward.keeps(frame, version):
            self.pending.pop_source(frame.path[0], frame.message_id)
            await self._store(link_id, frame, source, version)
            return
        origin = self._forget_request(link_id, frame)
        if origin is None:
            return
        reply = CallError(
            frame.message_id, "NetworkingError", description, {}, dest=origin,
            path=(self.node_id,),
        )
        await self._answer(source, reply, version)

    def _forget_request(self, link_id: str, frame: Call) -> str | None:
        """Drop the pending entry of a request that will not be answered; its originator."""
        if frame.path:
            self.pending.pop_source(frame.path[0], frame.message_id)
            return frame.path[0]
        # already stripped for a station's link: the pending entry knows the asker
        entry = self.pending.pop_link(link_id, frame.message_id)
        return entry.source if entry is not None else None

    async def _hold(
        self, decision: Hold, source: AttachedLink | None, version: str, *, binary: bool
    ) -> None:
        """The route's link is down: keep a must-not-lose request (text only), or tell the
        asker now."""
        frame = decision.frame
        if not binary and self.store_forward.keeps(frame, version):
            assert isinstance(frame, Call)
            await self._store(decision.link_id, frame, source, version)
            return
        self.counters["rejected"] += 1
        log.info(
            "event=upstream_down node=%s upstream=%s message_id=%s%s",
            self.node_id, decision.link_id, frame.message_id, " binary=1" if binary else "",
        )
        if decision.reply is None:
            return
        if decision.reply_link is None:
            if self.local is not None and not binary:
                await self.local.deliver(decision.reply, version)
        else:
            await self._write(decision.reply_link, decision.reply)

    async def _store(
        self, upstream: str, frame: Call, source: AttachedLink | None, version: str
    ) -> None:
        """Keep ``frame`` for ``upstream``, acknowledge it, drain when the upstream is up.

        A queue that cannot keep it (disk full) refuses it with InternalError: the station
        keeps it and tries again; nothing is acknowledged that was not kept. A payload that
        does not parse is answered as undecodable input, not kept."""
        if await self._unreadable(frame, source):
            return
        try:
            ack: Frame = self.store_forward.store(upstream, frame, version)
        except QueueUnavailable as exc:
            self.counters["rejected"] += 1
            log.error("event=queue_unavailable node=%s upstream=%s action=%s message_id=%s "
                      "reason=%r", self.node_id, upstream, frame.action, frame.message_id,
                      exc.description)
            origin = frame.path[0] if frame.path else None
            ack = CallError(frame.message_id, "InternalError",
                            f"{self.node_id} cannot keep it now (its queue is unavailable); "
                            "try again later", {}, dest=origin, path=(self.node_id,))
        await self._answer(source, ack, version)
        if source is not None and upstream in self.links:
            self.store_forward.start_drain(upstream)

    async def _unreadable(self, frame: Frame, source: AttachedLink | None) -> bool:
        """True, and answered as the codec answers undecodable input, when ``frame`` is raw
        (read by its header only) and its payload does not parse; its payload is parsed now
        (and kept) when it does."""
        if not isinstance(frame, header.RawFrame):
            return False
        failure = header.payload_failure(frame)
        if failure is None:
            return False
        if source is not None:
            await self.answer_decode_failure(source, failure, "decode_failed")
        return True

    def _guard(self, frame: Call, version: str) -> str | None:
        for guard in self.guards:
            try:
                reason = guard(frame, version)
            except Exception:
                log.exception("event=guard_failed node=%s action=%s", self.node_id, frame.action)
                reason = "security check failed"
            if reason is not None:
                return reason
        return None

    async def _refuse_guarded(
        self, link_id: str, frame: Call, reason: str, source: AttachedLink | None, version: str
    ) -> None:
        self.counters["rejected"] += 1
        log.warning(
            "event=guard_rejected node=%s action=%s message_id=%s reason=%r",
            self.node_id, frame.action, frame.message_id, reason,
        )
        origin = self._forget_request(link_id, frame)
        reply = CallError(
            frame.message_id, "SecurityError", reason, {}, dest=origin, path=(self.node_id,)
        )
        await self._answer(source, reply, version)

    async def _answer(self, source: AttachedLink | None, reply: Frame, version: str) -> None:
        """Send a node-made answer to whoever asked: back on ``source`` in its mode, or to the
        local application when the request was its own."""
        if source is None:
            if self.local is not None:
                await self.local.deliver(reply, version)
            return
        await self._write(source.info.link_id, frame_for_link(reply, source.info))

    async def _deliver(self, frame: Frame, version: str, source: AttachedLink | None) -> None:
        if isinstance(frame, CallResult | CallError) and frame.message_id in self._own_calls:
            waiter = self._own_calls.pop(frame.message_id)
            if not waiter.done():
                waiter.set_result(frame)
            return
        if isinstance(frame, Call) and frame.action == TOPOLOGY_ACTION and source is not None:
            await self._apply_topology(frame, source, version)
            return
        if self.local is None:
            if isinstance(frame, Call):
                reply = CallError(
                    frame.message_id, "NotSupported",
                    f"node {self.node_id} runs no application", {},
                    dest=frame.path[0] if frame.path else None, path=(self.node_id,),
                )
                await self.send_local(reply, version)
            return
        await self.local.deliver(frame, version)

    async def _apply_topology(self, frame: Call, source: AttachedLink, version: str) -> None:
        """A neighbour's NotifyNetworkTopology: install its routes, answer it."""
        outcome = self.table.apply_topology(frame.payload, source.info.link_id, self.clock())
        reply: Frame
        if isinstance(outcome, TopologyRejection):
            log.warning(
                "event=topology_refused node=%s link=%s reason=%r",
                self.node_id, source.info.link_id, outcome.description,
            )
            reply = CallError(
                frame.message_id, outcome.error_code, outcome.description, {},
                dest=frame.path[0], path=(self.node_id,),
            )
        else:
            log.info(
                "event=topology_applied node=%s link=%s accepted=%d withdrawn=%d refused=%d",
                self.node_id, source.info.link_id, len(outcome.accepted),
                len(outcome.withdrawn), len(outcome.refused),
            )
            fresh = {d: v for d, v in outcome.versions if self.peer_versions.get(d) != v}
            self.peer_versions.update(fresh)
            if fresh and self.on_new_versions is not None:
                # tell our own upstreams first: the announcing child waits for this answer
                # before it forwards the first message of such a station
                await self.on_new_versions()
            reply = CallResult(frame.message_id, {"status": "Accepted"}, dest=frame.path[0],
                               path=(self.node_id,))
            if self.local is not None:
                self.local.routes_changed(
                    list(outcome.accepted), list(outcome.withdrawn), source.info.remote_id,
                    version,
                )
        await self._write(source.info.link_id, frame_for_link(reply, source.info))

    async def call_neighbour(
        self, link_id: str, action: str, payload: dict[str, Any], wait: float = 30.0
    ) -> Frame:
        """A request of the router itself to the peer of ``link_id`` (e.g. topology)."""
        attached = self.links.get(link_id)
        if attached is None:
            raise ConnectionClosed(f"{link_id} is down")
        message_id = f"{self.node_id}-{next(self._ids)}"
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._own_calls[message_id] = future
        frame = Call(message_id, action, payload, dest=attached.info.remote_id,
                     path=(self.node_id,))
        try:
            await self._write(link_id, frame_for_link(frame, attached.info))
            return await asyncio.wait_for(future, wait)
        finally:
            self._own_calls.pop(message_id, None)

    async def _write(self, link_id: str, frame: Frame) -> bool:
        """Write ``frame`` on a link; False (logged) when the link is gone."""
        attached = self.links.get(link_id)
        if attached is None:
            log.info(
                "event=write_dropped node=%s link=%s message_id=%s reason=link_down",
                self.node_id, link_id, frame.message_id,
            )
            return False
        if attached.info.mode == "standard" and isinstance(frame, CallError):
            frame = plain_error(frame, attached.version)
        try:
            await attached.writer.write(frame)
        except ConnectionClosed as exc:
            return write_failed(attached, self.node_id, frame.message_id, exc)
        attached.frames_out += 1
        if self.observers:
            self._observe(link_id, "out", frame)
        return True

    def _observe(self, link_id: str, direction: str, frame: Frame) -> None:
        event = FrameEvent(self.wallclock(), link_id, direction, frame)
        for observer in self.observers:
            try:
                observer(event)
            except Exception:
                log.exception("event=observer_failed node=%s", self.node_id)

    # --- introspection ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The node's state as JSON-ready data (CLI `ocppnet node routes`, HTTP, dashboard)."""
        now = self.clock()
        return {
            "nodeId": self.node_id,
            "links": [
                {
                    "link": a.info.link_id,
                    "mode": a.info.mode,
                    "remoteId": a.info.remote_id,
                    "role": a.info.role,
                    "version": a.version,
                    "framesIn": a.frames_in,
                    "framesOut": a.frames_out,
                    "upSince": a.opened_at,
                }
                for a in sorted(self.links.values(), key=lambda a: a.info.link_id)
            ],
            "routes": self.table.snapshot(now),
            "pending": len(self.pending),
            "queued": dict(self.store_forward.backlog),
            "counters": dict(self.counters),
        }
