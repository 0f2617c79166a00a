"""The dashboard's live message stream: recent messages in a ring, fanned out to browsers.

Entries come from the CSMS event bus (:meth:`MessageFeed.follow`), from a router's own traffic
(:meth:`MessageFeed.tap`, e.g. a grid operator's requests and their answers) and from anyone
that has a verdict to show (:meth:`MessageFeed.add`, e.g. a node checking signatures). Adding
never waits: a slow browser loses its oldest entries, never slows the sender.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ocppnet.csms.events import EventBus, MessageSeen
from ocppnet.node.router import FrameEvent, Router
from ocppnet.rpc.frames import Call, CallError, CallResult, CallResultError, Frame, Send
from ocppnet.transport.tasks import cancel_and_wait

Entry = dict[str, Any]
#: ``verdict(action, kind, payload) -> "valid" | "invalid: ..." ...`` for a signed payload
Verdict = Callable[[str, str, dict[str, Any]], str]

TYPE_NAMES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR", 5: "CALLRESULTERROR", 6: "SEND"}


def message_entry(
    *,
    at: datetime,
    source: str,
    station: str,
    direction: str,
    message_type: int,
    message_id: str,
    action: str | None,
    path: Sequence[str],
    signature: str | None,
) -> Entry:
    """One row of the stream; ``source`` is who saw it, ``direction`` is seen from there."""
    return {
        "at": at.isoformat(),
        "source": source,
        "station": station,
        "direction": direction,
        "type": TYPE_NAMES.get(message_type, str(message_type)),
        "messageId": message_id,
        "action": action,
        "path": list(path),
        "signature": signature or "signed",
    }


def entry_of_message(source: str, event: MessageSeen) -> Entry:
    """A CSMS bus event as a stream row (a signed payload without verdict shows "signed")."""
    return message_entry(
        at=event.at, source=source, station=event.station_id, direction=event.direction,
        message_type=event.message_type, message_id=event.message_id, action=event.action,
        path=event.path, signature=event.signature,
    )


def signature_of(payload: dict[str, Any], action: str | None, kind: str,
                 verdict: Verdict | None) -> str:
    if "signatures" not in payload:
        return "unsigned"
    if verdict is None or action is None:
        return "signed"
    return verdict(action, kind, payload)


class MessageFeed:
    """Recent entries (``recent()``) and per-browser bounded queues (``subscribe()``)."""

    def __init__(self, keep: int = 300, queue_size: int = 500) -> None:
        self._recent: deque[Entry] = deque(maxlen=keep)
        self._queues: list[asyncio.Queue[Entry]] = []
        self._queue_size = queue_size
        self._tasks: list[asyncio.Task[None]] = []
        self.added = 0

    def add(self, entry: Entry) -> None:
        self.added += 1
        self._recent.append(entry)
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(entry)

    def recent(self) -> list[Entry]:
        return list(self._recent)

    def subscribe(self) -> asyncio.Queue[Entry]:
        queue: asyncio.Queue[Entry] = asyncio.Queue(self._queue_size)
        self._queues.append(queue)
        return queue

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def unsubscribe(self, queue: asyncio.Queue[Entry]) -> None:
        if queue in self._queues:
            self._queues.remove(queue)

    # --- sources ------------------------------------------------------------------------

    def follow(self, bus: EventBus, source: str = "CSMS") -> None:
        """Copy every MessageSeen of a CSMS bus into the feed (until :meth:`close`)."""
        subscription = bus.subscribe()

        async def pump() -> None:
            with subscription:
                async for event in subscription:
                    if isinstance(event, MessageSeen):
                        self.add(entry_of_message(source, event))

        self._tasks.append(asyncio.create_task(pump(), name=f"feed:{source}"))

    def tap(self, router: Router, *, verdict: Verdict | None = None) -> None:
        """Show a router's *own* traffic: requests it originates and the answers it gets.

        Frames it only forwards are left out (the CSMS already shows station traffic)."""
        node_id = router.node_id
        actions: dict[str, str] = {}

        def observe(event: FrameEvent) -> None:
            frame = event.frame
            if event.direction == "out" and frame.path == (node_id,) and isinstance(
                frame, Call | Send
            ):
                actions[frame.message_id] = frame.action
                if len(actions) > 1000:
                    actions.pop(next(iter(actions)))
                self.add(_frame_entry(event, node_id, "out", frame, frame.action,
                                      signature_of(frame.payload, frame.action, "request",
                                                   verdict)))
            elif event.direction == "in" and frame.dest == node_id and isinstance(
                frame, CallResult | CallError | CallResultError
            ):
                action = actions.pop(frame.message_id, None)
                if action is None:
                    return
                signature = (
                    signature_of(frame.payload, action, "response", verdict)
                    if isinstance(frame, CallResult) else "error, unsigned"
                )
                self.add(_frame_entry(event, node_id, "in", frame, action, signature))

        router.observers.append(observe)

    async def close(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()


def _frame_entry(
    event: FrameEvent, node_id: str, direction: str, frame: Frame, action: str, signature: str
) -> Entry:
    station = (frame.dest or "") if direction == "out" else (frame.path[0] if frame.path else "")
    return message_entry(
        at=datetime.fromtimestamp(event.at, UTC), source=node_id, station=station,
        direction=direction, message_type=int(frame.message_type),
        message_id=frame.message_id, action=action, path=frame.path, signature=signature,
    )
