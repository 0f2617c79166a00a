"""Store-and-forward for a router: must-not-lose requests kept in SQLite while their upstream is
down (or has a backlog), acknowledged to the station, and sent in order once it is up again.

A mixin of :class:`~ocppnet.node.router.Router` (it uses the router's links, queue and writer);
the semantics are in docs/node.md "Store and forward".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ocppnet.errors import ConnectionClosed
from ocppnet.node.link_state import AttachedLink
from ocppnet.node.offline import must_not_lose, offline_ack
from ocppnet.node.queue import ForwardQueue
from ocppnet.routing import Hold, PendingTable, frame_for_link
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame

if TYPE_CHECKING:
    from ocppnet.node.application import LocalApplication

log = logging.getLogger("ocppnet.node.router")


@dataclass(slots=True)
class Drain:
    """An upstream's store-and-forward backlog being sent in order."""

    task: asyncio.Task[None] | None = None
    waiters: dict[tuple[str, str], asyncio.Future[Frame]] = field(default_factory=dict)


class StoreAndForward:
    """Mixin: the router's persistent queue per upstream and its in-order drain."""

    # provided by the router
    node_id: str
    queue: ForwardQueue | None
    links: dict[str, AttachedLink]
    local: LocalApplication | None
    pending: PendingTable
    counters: dict[str, int]
    drain_timeout: float
    wallclock: Callable[[], float]
    _drains: dict[str, Drain]
    _queued: dict[str, int]

    if TYPE_CHECKING:

        async def _write(self, link_id: str, frame: Frame) -> bool: ...

        async def _answer(
            self, source: AttachedLink | None, reply: Frame, version: str
        ) -> None: ...

    async def hold(self, decision: Hold, source: AttachedLink | None, version: str) -> None:
        frame = decision.frame
        if isinstance(frame, Call) and self.queue is not None and must_not_lose(
            version, frame.action
        ):
            await self.store(decision.link_id, frame, source, version)
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

    async def store(
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
        await self._answer(source, ack, version)
        if source is not None and upstream in self.links:
            self.start_drain(upstream)

    async def undeliverable(
        self, link_id: str, frame: Call, source: AttachedLink | None, version: str
    ) -> None:
        """A request could not be written on its link: keep it, or tell its sender now."""
        if not frame.path:
            return  # sent stripped to a station: its pending entry answers on link loss
        origin = frame.path[0]
        self.pending.pop_source(origin, frame.message_id)
        if self.queue is not None and must_not_lose(version, frame.action):
            await self.store(link_id, frame, source, version)
            return
        reply = CallError(
            frame.message_id, "NetworkingError", f"link {link_id} is down", {},
            dest=origin, path=(self.node_id,),
        )
        await self._answer(source, reply, version)

    def resume_drain(self, upstream: str) -> None:
        """Send ``upstream``'s backlog if it has one and is up (e.g. a fallback socket opened)."""
        if self._queued.get(upstream) and upstream in self.links and self.queue is not None:
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
