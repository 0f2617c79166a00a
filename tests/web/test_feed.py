"""The message stream: CSMS bus events and a router's own traffic become rows; slow readers
lose their oldest rows, never block the sender."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ocppnet.csms.events import EventBus, MessageSeen, StationChanged
from ocppnet.node.router import FrameEvent, Router
from ocppnet.rpc.frames import Call, CallError, CallResult
from ocppnet.web.feed import MessageFeed

AT = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


async def test_bus_messages_become_rows_other_events_do_not() -> None:
    bus, feed = EventBus(), MessageFeed()
    feed.follow(bus, "CSMS")
    await asyncio.sleep(0)
    bus.publish(StationChanged(AT, "CS-1", True))
    bus.publish(MessageSeen(AT, "CS-1", "in", 2, "m1", "BootNotification",
                            ("CS-1", "NODE-B", "NODE-A"), "unsigned", 120))
    bus.publish(MessageSeen(AT, "CS-1", "out", 2, "m2", "SetChargingProfile", ("CS-1",), None))
    for _ in range(5):
        await asyncio.sleep(0)
    await feed.close()
    assert feed.recent() == [
        {"at": AT.isoformat(), "source": "CSMS", "station": "CS-1", "direction": "in",
         "type": "CALL", "messageId": "m1", "action": "BootNotification",
         "path": ["CS-1", "NODE-B", "NODE-A"], "signature": "unsigned"},
        {"at": AT.isoformat(), "source": "CSMS", "station": "CS-1", "direction": "out",
         "type": "CALL", "messageId": "m2", "action": "SetChargingProfile",
         "path": ["CS-1"], "signature": "signed"},
    ]
    assert bus.subscribers == 0


def test_ring_keeps_the_newest_and_a_full_reader_drops_its_oldest() -> None:
    feed = MessageFeed(keep=3, queue_size=2)
    queue = feed.subscribe()
    for i in range(5):
        feed.add({"n": i})
    assert [e["n"] for e in feed.recent()] == [2, 3, 4]
    assert [queue.get_nowait()["n"] for _ in range(queue.qsize())] == [3, 4]
    feed.unsubscribe(queue)
    feed.add({"n": 5})
    assert queue.empty()


def test_tap_shows_own_requests_and_their_answers_only() -> None:
    router = Router("GRID-OP")
    feed = MessageFeed()
    feed.tap(router, verdict=lambda action, kind, payload: f"checked {action} {kind}")
    observe = router.observers[0]
    signed = {"evseId": 0, "signatures": [{"keyId": "k"}]}
    observe(FrameEvent(1.0, "CSMS", "out",
                       Call("g1", "SetChargingProfile", signed, "CS-1", ("GRID-OP",))))
    observe(FrameEvent(1.1, "CSMS", "out",  # forwarded for someone else: not ours
                       Call("x1", "Reset", {}, "CS-2", ("OTHER", "GRID-OP"))))
    observe(FrameEvent(1.2, "CSMS", "in",
                       CallResult("g1", {"status": "Accepted"}, "GRID-OP",
                                  ("CS-1", "NODE-A", "CSMS"))))
    observe(FrameEvent(1.3, "CSMS", "in",  # an answer to nothing we asked
                       CallError("zz", "GenericError", "", {}, "GRID-OP", ("CS-9",))))
    rows = feed.recent()
    assert [(r["direction"], r["type"], r["action"], r["station"], r["signature"])
            for r in rows] == [
        ("out", "CALL", "SetChargingProfile", "CS-1", "checked SetChargingProfile request"),
        ("in", "CALLRESULT", "SetChargingProfile", "CS-1", "unsigned"),
    ]
    assert rows[1]["path"] == ["CS-1", "NODE-A", "CSMS"]
    assert rows[0]["source"] == "GRID-OP"
