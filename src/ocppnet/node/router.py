"""The asyncio engine of a networking node: reads links, asks the pure router, carries it out.

Every decoded frame goes to :func:`ocppnet.routing.decide`; the returned decision is executed
here and nowhere else (write on a link, deliver to the local application, queue while an
upstream is down, answer with an error). One task reads each link, so frames from one link keep
their order. See docs/routing.md and docs/node.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ocppnet.errors import CallTimeout, ConnectionClosed
from ocppnet.node.offline import must_not_lose, offline_ack
from ocppnet.node.queue import ForwardQueue
from ocppnet.routing import (
    Decision,
    Deliver,
    Drop,
    Fanout,
    Forward,
    ForwardingFilter,
    Hold,
    LinkInfo,
    PendingTable,
    Reject,
    RoutingTable,
    decide,
    frame_for_link,
    originate,
    timeout_reply,
)
from ocppnet.routing.forwarding import DEFAULT_HOP_LIMIT, FORWARD_ALL
from ocppnet.routing.topology import ACTION as TOPOLOGY_ACTION
from ocppnet.routing.topology import TopologyRejection
from ocppnet.rpc.binary import BinaryFrame, decode_binary, encode_binary
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame, MessageType, Send
from ocppnet.rpc.versions import wire_error_code
from ocppnet.transport.coalesce import CoalescingSender
from ocppnet.transport.link import Link

log = logging.getLogger("ocppnet.node.router")

_PLAIN_CODES = {
    "1.6": frozenset({
        "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
        "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
        "TypeConstraintViolation", "GenericError",
    }),
    "2": frozenset({
        "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported",
        "NotImplemented", "NotSupported", "OccurrenceConstraintViolation",
        "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError", "SecurityError",
        "TypeConstraintViolation",
    }),
}


def plain_error(frame: CallError, version: str) -> CallError:
    """``frame`` as a plain OCPP peer of ``version`` may receive it: overlay-only codes
    (NetworkingError, UnknownClient) become GenericError, named in the description, because
    a standard implementation refuses codes its version does not define."""
    code = wire_error_code(version, frame.error_code)
    if code in _PLAIN_CODES["1.6" if version == "1.6" else "2"]:
        if code == frame.error_code:
            return frame
        description = frame.error_description
    else:
        code, description = "GenericError", f"{frame.error_code}: {frame.error_description}"
    return CallError(
        frame.message_id, code, description, frame.error_details, frame.dest, frame.path
    )


class FrameWriter(Protocol):
    """Where frames for one link go; raises ConnectionClosed when the link is gone."""

    async def write(self, frame: Frame) -> None: ...


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


class TextLink(Protocol):
    """The transport Link surface the router needs."""

    async def send_text(self, data: bytes | str) -> None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...


class EncodingWriter:
    """FrameWriter for a WebSocket link: encode once, send as a text message."""

    __slots__ = ("link",)

    def __init__(self, link: TextLink) -> None:
        self.link = link

    async def write(self, frame: Frame) -> None:
        await self.link.send_text(encode(frame))


@dataclass(slots=True)
class AttachedLink:
    info: LinkInfo
    version: str
    writer: FrameWriter
    opened_at: float
    frames_in: int = 0
    frames_out: int = 0
    binary: Callable[[bytes], Awaitable[None]] | None = None
    """Sends one binary message on the link (None: the link carries text only)."""


@dataclass(frozen=True, slots=True)
class FrameEvent:
    """One frame seen by the router, for the dashboard's live stream."""

    at: float
    link_id: str
    direction: str  # "in" | "out"
    frame: Frame


@dataclass(slots=True)
class _Drain:
    """An upstream's store-and-forward backlog being sent in order."""

    task: asyncio.Task[None] | None = None
    waiters: dict[tuple[str, str], asyncio.Future[Frame]] = field(default_factory=dict)


class Router:
    """Links + routing table + pending requests + store-and-forward queue of one node."""

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
    ) -> None:
        self.node_id = node_id
        self.aliases = aliases
        self.hop_limit = hop_limit
        self.request_timeout = request_timeout
        self.filters = filters
        self.queue = queue
        self.drain_timeout = drain_timeout
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
        self.counters: dict[str, int] = {
            "forwarded": 0, "delivered": 0, "rejected": 0, "dropped": 0, "queued": 0,
            "drained": 0, "decode_failed": 0,
        }
        self._drains: dict[str, _Drain] = {}
        self._queued: dict[str, int] = {}
        self._housekeeping: asyncio.Task[None] | None = None
        self._own_calls: dict[str, asyncio.Future[Frame]] = {}
        self._binary_calls: dict[str, asyncio.Future[BinaryFrame]] = {}
        self.binary_local: BinaryApplication | None = None
        """Where binary frames for this node go (CALLRESULTs of call_binary excepted)."""
        self._ids = itertools.count(1)

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start the once-a-second housekeeping (request timeouts, route expiry)."""
        if self._housekeeping is None:
            self._housekeeping = asyncio.create_task(self._tick())
        if self.queue is not None:
            for upstream in self.queue.upstreams():
                self._queued[upstream] = self.queue.count(upstream)

    async def stop(self) -> None:
        tasks = [t for t in [self._housekeeping, *(d.task for d in self._drains.values())] if t]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
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
        if info.role == "upstream" and self._queued.get(info.link_id):
            self.start_drain(info.link_id)
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
        drain = self._drains.get(link_id)
        if drain is not None:
            for future in drain.waiters.values():
                if not future.done():
                    future.set_exception(ConnectionClosed(f"{link_id} closed"))
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
        link: TextLink,
        info: LinkInfo,
        version: str,
        *,
        on_attached: Callable[[], object] | None = None,
    ) -> None:
        """Attach ``link``, route every message read from it until it closes, then detach.

        ``on_attached`` (sync or async) runs once the link is in the table, before the first
        message is read.
        """
        sender: TextLink = link
        if info.overlay and isinstance(link, Link):
            # an overlay link is shared by many stations: one socket write per loop turn
            sender = CoalescingSender(link.websocket, info.remote_id)  # type: ignore[assignment]
        attached = self.attach(info, version, EncodingWriter(sender))
        attached.binary = getattr(link, "send_binary", None)
        try:
            if on_attached is not None:
                outcome = on_attached()
                if inspect.isawaitable(outcome):
                    await outcome
            async for message in link:
                if isinstance(message, bytes):
                    await self.receive_binary(attached, message)
                    continue
                await self.receive(attached, message)
        finally:
            await self.detach(info.link_id)

    # --- incoming -----------------------------------------------------------------------

    async def receive(self, attached: AttachedLink, message: str | bytes) -> None:
        """One text message from a link: decode, decide, execute."""
        info = attached.info
        attached.frames_in += 1
        result = decode(message, overlay=info.overlay, version=attached.version)
        if isinstance(result, DecodeFailure):
            self.counters["decode_failed"] += 1
            log.warning(
                "event=decode_failed node=%s link=%s code=%s description=%r",
                self.node_id, info.link_id, result.error_code, result.description,
            )
            reply = result.reply
            if reply is not None:
                if reply.dest is not None and not reply.path:
                    reply = type(reply)(
                        reply.message_id, reply.error_code, reply.error_description,
                        reply.error_details, reply.dest, (self.node_id,),
                    )
                await self._write(info.link_id, reply)
            return
        await self.route(attached, result)

    async def route(self, attached: AttachedLink, frame: Frame) -> None:
        """Route one decoded frame that arrived on ``attached``."""
        if self.observers:
            self._observe(attached.info.link_id, "in", frame)
        if isinstance(frame, CallResult | CallError) and frame.dest is not None:
            drain = self._drains.get(attached.info.link_id)
            if drain is not None:
                waiter = drain.waiters.pop((frame.dest, frame.message_id), None)
                if waiter is not None:
                    if not waiter.done():
                        waiter.set_result(frame)
                    return
        decision = decide(
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
        await self.execute(decision, attached)

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
            isinstance(frame, Call) and self.queue is not None
            and must_not_lose(version, frame.action)
        ):
            self.counters["rejected"] += 1
            return decision.reply
        if self.observers:
            self._observe("local", "in", frame)
        await self.execute(decision, None, version)
        return None

    # --- executing decisions ------------------------------------------------------------

    async def execute(
        self, decision: Decision, source: AttachedLink | None, version: str | None = None
    ) -> None:
        version = version or (source.version if source is not None else "2.0.1")
        if isinstance(decision, Forward):
            frame = decision.frame
            if self.guards and isinstance(frame, Call):
                reason = self._guard(frame, version)
                if reason is not None:
                    await self._refuse_guarded(decision.link_id, frame, reason, source, version)
                    return
            if (
                isinstance(frame, Call)
                and self._queued.get(decision.link_id)
                and must_not_lose(version, frame.action)
            ):
                # a backlog exists: keep this station's messages behind it, in order
                if frame.path:
                    self.pending.pop_source(frame.path[0], frame.message_id)
                await self._store(decision.link_id, frame, source, version)
                return
            self.counters["forwarded"] += 1
            if not await self._write(decision.link_id, frame) and isinstance(frame, Call):
                await self._undeliverable(decision.link_id, frame, source, version)
        elif isinstance(decision, Deliver):
            self.counters["delivered"] += 1
            await self._deliver(decision.frame, version, source)
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
            await self._hold(decision, source, version)
        elif isinstance(decision, Fanout):
            for part in decision.decisions:
                await self.execute(part, source, version)
        elif isinstance(decision, Drop):
            self.counters["dropped"] += 1
            log.info("event=dropped node=%s reason=%r", self.node_id, decision.reason)

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
        if frame.path:
            origin: str | None = frame.path[0]
            self.pending.pop_source(frame.path[0], frame.message_id)
        else:  # already stripped for a station's link: the pending entry knows the asker
            entry = self.pending.pop_link(link_id, frame.message_id)
            origin = entry.source if entry is not None else None
        reply = CallError(
            frame.message_id, "SecurityError", reason, {}, dest=origin, path=(self.node_id,)
        )
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
            self.peer_versions.update(outcome.versions)
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

    async def _hold(self, decision: Hold, source: AttachedLink | None, version: str) -> None:
        frame = decision.frame
        if isinstance(frame, Call) and self.queue is not None and must_not_lose(
            version, frame.action
        ):
            await self._store(decision.link_id, frame, source, version)
            return
        self.counters["rejected"] += 1
        log.info(
            "event=upstream_down node=%s upstream=%s message_id=%s",
            self.node_id, decision.link_id, frame.message_id,
        )
        if decision.reply is None:
            return
        if decision.reply_link is None:
            if self.local is not None:
                await self.local.deliver(decision.reply, version)
        else:
            await self._write(decision.reply_link, decision.reply)

    async def _store(
        self, upstream: str, frame: Call, source: AttachedLink | None, version: str
    ) -> None:
        """Keep a must-not-lose request for ``upstream`` and acknowledge it to its station."""
        assert self.queue is not None
        origin = frame.path[0] if frame.path else self.node_id
        self.queue.append(upstream, origin, frame, self.wallclock())
        self._queued[upstream] = self._queued.get(upstream, 0) + 1
        self.counters["queued"] += 1
        log.info(
            "event=queued node=%s upstream=%s source=%s action=%s message_id=%s backlog=%d",
            self.node_id, upstream, origin, frame.action, frame.message_id,
            self._queued[upstream],
        )
        ack = CallResult(
            frame.message_id, offline_ack(version, frame.action), dest=origin,
            path=(self.node_id,),
        )
        if source is None:
            if self.local is not None:
                await self.local.deliver(ack, version)
            return
        await self._write(source.info.link_id, frame_for_link(ack, source.info))
        if upstream in self.links:
            self.start_drain(upstream)

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
            log.info(
                "event=write_failed node=%s link=%s message_id=%s reason=%r",
                self.node_id, link_id, frame.message_id, exc.description,
            )
            return False
        attached.frames_out += 1
        if self.observers:
            self._observe(link_id, "out", frame)
        return True

    async def _undeliverable(
        self, link_id: str, frame: Call, source: AttachedLink | None, version: str
    ) -> None:
        """A request could not be written on its link: keep it, or tell its sender now."""
        if not frame.path:
            return  # sent stripped to a station: its pending entry answers on link loss
        origin = frame.path[0]
        self.pending.pop_source(origin, frame.message_id)
        if self.queue is not None and must_not_lose(version, frame.action):
            await self._store(link_id, frame, source, version)
            return
        reply = CallError(
            frame.message_id, "NetworkingError", f"link {link_id} is down", {},
            dest=origin, path=(self.node_id,),
        )
        if source is None:
            if self.local is not None:
                await self.local.deliver(reply, version)
            return
        await self._write(source.info.link_id, frame_for_link(reply, source.info))

    def _observe(self, link_id: str, direction: str, frame: Frame) -> None:
        event = FrameEvent(self.wallclock(), link_id, direction, frame)
        for observer in self.observers:
            try:
                observer(event)
            except Exception:
                log.exception("event=observer_failed node=%s", self.node_id)

    # --- store and forward --------------------------------------------------------------

    def resume_drain(self, upstream: str) -> None:
        """Send ``upstream``'s backlog if it has one and is up (e.g. a fallback socket opened)."""
        if self._queued.get(upstream) and upstream in self.links and self.queue is not None:
            self.start_drain(upstream)

    def start_drain(self, upstream: str) -> None:
        drain = self._drains.setdefault(upstream, _Drain())
        if drain.task is None or drain.task.done():
            drain.task = asyncio.create_task(self._drain(upstream, drain))

    async def _drain(self, upstream: str, drain: _Drain) -> None:
        """Send the backlog in order, one request at a time, each removed once answered."""
        assert self.queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = self.queue.pending(upstream, limit=100)
            if not batch:
                self._queued[upstream] = 0
                log.info("event=queue_drained node=%s upstream=%s", self.node_id, upstream)
                return
            for item in batch:
                attached = self.links.get(upstream)
                if attached is None:
                    return
                key = (item.source, item.call.message_id)
                future: asyncio.Future[Frame] = loop.create_future()
                drain.waiters[key] = future
                try:
                    await attached.writer.write(frame_for_link(item.call, attached.info))
                    answer = await asyncio.wait_for(future, self.drain_timeout)
                except (ConnectionClosed, TimeoutError) as exc:
                    log.warning(
                        "event=drain_paused node=%s upstream=%s reason=%r",
                        self.node_id, upstream, str(exc) or type(exc).__name__,
                    )
                    return
                finally:
                    drain.waiters.pop(key, None)
                if isinstance(answer, CallError) and answer.error_code == "NetworkingError":
                    log.warning(
                        "event=drain_paused node=%s upstream=%s reason=%r",
                        self.node_id, upstream, answer.error_description,
                    )
                    return
                if isinstance(answer, CallError):
                    log.warning(
                        "event=queued_call_refused node=%s upstream=%s action=%s code=%s",
                        self.node_id, upstream, item.call.action, answer.error_code,
                    )
                self.queue.remove(item.seq)
                self._queued[upstream] = max(0, self._queued.get(upstream, 1) - 1)
                self.counters["drained"] += 1

    # --- binary frames (docs/files.md) --------------------------------------------------

    async def receive_binary(self, attached: AttachedLink, message: bytes) -> None:
        """One binary message from a link: decode (length, sha256), then :meth:`route_binary`."""
        info = attached.info
        attached.frames_in += 1
        result = decode_binary(message, overlay=info.overlay, version=attached.version)
        if isinstance(result, DecodeFailure):
            self.counters["decode_failed"] += 1
            log.warning(
                "event=binary_decode_failed node=%s link=%s code=%s description=%r",
                self.node_id, info.link_id, result.error_code, result.description,
            )
            reply = result.reply
            if reply is not None:
                if reply.dest is not None and not reply.path:
                    reply = type(reply)(
                        reply.message_id, reply.error_code, reply.error_description,
                        reply.error_details, reply.dest, (self.node_id,),
                    )
                await self._write(info.link_id, reply)
            return
        await self.route_binary(attached, result)

    async def route_binary(self, attached: AttachedLink, frame: BinaryFrame) -> None:
        """Route a binary frame by the rules of its text twin (loop, hop limit, spoofing,
        learning, filters, correlation, standard strip): :func:`decide` sees the surrogate,
        the decision is applied to the bytes, which are never copied here."""
        carrier = surrogate(frame)
        if self.observers:
            self._observe(attached.info.link_id, "in", carrier)
        decision = decide(
            carrier,
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
                    if source is None:
                        if self.local is not None:
                            await self.local.deliver(reply, version)
                    else:
                        await self._write(source.info.link_id, frame_for_link(reply, source.info))
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
            "queued": dict(self._queued),
            "counters": dict(self.counters),
        }
