"""Store-and-forward for a router: must-not-lose requests kept in SQLite while their upstream is
down (or has a backlog), acknowledged to the station, and sent in order once it is up again.

A collaborator of :class:`~ocppnet.node.router.Router`: the router decides *that* a request is
kept (:meth:`StoreAndForward.keeps`) and sends the acknowledgement :meth:`StoreAndForward.store`
returns; this class owns the queue, the backlog counts and the drain tasks, and reads the
router's links (a read-only mapping) to write the backlog. The semantics are in docs/node.md
"Store and forward".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ocppnet.errors import ConnectionClosed
from ocppnet.node.link_state import AttachedLink
from ocppnet.node.offline import must_not_lose, offline_ack
from ocppnet.node.queue import ForwardQueue
from ocppnet.routing import frame_for_link
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame
from ocppnet.transport.tasks import cancel_and_wait

log = logging.getLogger("ocppnet.node.router")


@dataclass(slots=True)
class Drain:
    """An upstream's store-and-forward backlog being sent in order."""

    task: asyncio.Task[None] | None = None
    waiters: dict[tuple[str, str], asyncio.Future[Frame]] = field(default_factory=dict)


@dataclass(slots=True)
class StoreAndForward:
    """The persistent queue per upstream and its in-order drain.

    ``counters`` is the router's counter table (this class counts ``queued`` and ``drained``
    in it); ``links`` is the router's table of attached links, only read here.
    """

    node_id: str
    queue: ForwardQueue | None
    links: Mapping[str, AttachedLink]
    counters: dict[str, int]
    drain_timeout: float = 30.0
    wallclock: Callable[[], float] = time.time
    backlog: dict[str, int] = field(default_factory=dict)
    """Requests kept per upstream (what ``snapshot()["queued"]`` shows)."""
    waiting: int = 0
    """Drained requests waiting for their answer now (0: :meth:`take_answer` takes nothing)."""
    _drains: dict[str, Drain] = field(default_factory=dict, repr=False)

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Count what a previous run left queued."""
        if self.queue is not None:
            for upstream in self.queue.upstreams():
                self.backlog[upstream] = self.queue.count(upstream)

    async def stop(self) -> None:
        await cancel_and_wait(d.task for d in self._drains.values() if d.task is not None)

    def link_up(self, link_id: str) -> None:
        """An upstream came up: send its backlog."""
        if self.backlog.get(link_id):
            self.start_drain(link_id)

    def link_down(self, link_id: str) -> None:
        """The link is gone: requests of the drain that wait for its answer fail now."""
        drain = self._drains.get(link_id)
        if drain is not None:
            for future in drain.waiters.values():
                if not future.done():
                    future.set_exception(ConnectionClosed(f"{link_id} closed"))

    # --- what the router asks -----------------------------------------------------------

    def answering_for(self) -> set[str]:
        """Stations whose kept requests still wait for the upstream's answer: the node must
        stay their route (announced) until the drain has them answered, even when they left."""
        if self.queue is None or not any(self.backlog.values()):
            return set()
        return self.queue.sources()

    def keeps(self, frame: Frame, version: str) -> bool:
        """True when ``frame`` is a request this node keeps rather than loses."""
        return (
            isinstance(frame, Call) and self.queue is not None
            and must_not_lose(version, frame.action)
        )

    def take_answer(self, link_id: str, frame: Frame) -> bool:
        """True when ``frame`` (read on ``link_id``) answers a request of the drain."""
        if not isinstance(frame, CallResult | CallError) or frame.dest is None:
            return False
        drain = self._drains.get(link_id)
        if drain is None:
            return False
        waiter = drain.waiters.pop((frame.dest, frame.message_id), None)
        if waiter is None:
            return False
        if not waiter.done():
            waiter.set_result(frame)
        return True

    def store(self, upstream: str, frame: Call, version: str) -> CallResult:
        """Keep a must-not-lose request for ``upstream``; returns the acknowledgement for its
        station (the router sends it)."""
        assert self.queue is not None
        origin = frame.path[0] if frame.path else self.node_id
        self.queue.append(upstream, origin, frame, self.wallclock())
        self.backlog[upstream] = self.backlog.get(upstream, 0) + 1
        self.counters["queued"] += 1
        log.info(
            "event=queued node=%s upstream=%s source=%s action=%s message_id=%s backlog=%d",
            self.node_id, upstream, origin, frame.action, frame.message_id,
            self.backlog[upstream],
        )
        return CallResult(
            frame.message_id, offline_ack(version, frame.action), dest=origin,
            path=(self.node_id,),
        )

    # --- draining -----------------------------------------------------------------------

    def resume_drain(self, upstream: str) -> None:
        """Send ``upstream``'s backlog if it has one and is up (e.g. a fallback socket opened)."""
        if self.backlog.get(upstream) and upstream in self.links and self.queue is not None:
            self.start_drain(upstream)

    def start_drain(self, upstream: str) -> None:
        drain = self._drains.setdefault(upstream, Drain())
        if drain.task is None or drain.task.done():
            drain.task = asyncio.create_task(self._drain(upstream, drain))

    async def _drain(self, upstream: str, drain: Drain) -> None:
        """Send the backlog in order, one request at a time, each removed once answered."""
        assert self.queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = self.queue.pending(upstream, limit=100)
            if not batch:
                self.backlog[upstream] = 0
                log.info("event=queue_drained node=%s upstream=%s", self.node_id, upstream)
                return
            for item in batch:
                attached = self.links.get(upstream)
                if attached is None:
                    return
                key = (item.source, item.call.message_id)
                future: asyncio.Future[Frame] = loop.create_future()
                drain.waiters[key] = future
                self.waiting += 1
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
                    self.waiting -= 1
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
                self.backlog[upstream] = max(0, self.backlog.get(upstream, 1) - 1)
                self.counters["drained"] += 1
