"""The event bus: fan-out, bounded queues that drop the oldest, JSON form."""

from __future__ import annotations

from ocppnet.csms import EnergyChanged, EventBus, MessageSeen, StationChanged, event_to_json

from .conftest import T0


def message(i: int) -> MessageSeen:
    return MessageSeen(T0, "CS1", "in", 2, f"m{i}", "Heartbeat", ("CS1", "n1"))


async def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = EventBus()
    a, b = bus.subscribe(), bus.subscribe()
    for i in range(3):
        bus.publish(message(i))
    assert [(await a.get()).message_id for _ in range(3)] == ["m0", "m1", "m2"]  # type: ignore[union-attr]
    assert b.pending() == 3


async def test_slow_subscriber_loses_the_oldest_and_counts_them() -> None:
    bus = EventBus()
    slow, fast = bus.subscribe(maxsize=2), bus.subscribe(maxsize=100)
    for i in range(5):
        bus.publish(message(i))
    assert slow.dropped == 3 and fast.dropped == 0
    got = [slow.get_nowait(), slow.get_nowait(), slow.get_nowait()]
    assert [e.message_id if isinstance(e, MessageSeen) else None for e in got] == [
        "m3", "m4", None]
    assert fast.pending() == 5 and bus.published == 5


async def test_closed_subscription_receives_nothing_more() -> None:
    bus = EventBus()
    with bus.subscribe() as sub:
        bus.publish(message(0))
    bus.publish(message(1))
    assert sub.closed and sub.pending() == 1 and bus.subscribers == 0


async def test_async_iteration() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish(StationChanged(T0, "CS1", True))
    bus.publish(StationChanged(T0, "CS1", False))
    seen = []
    async for event in sub:
        seen.append(event)
        if len(seen) == 2:
            break
    assert [e.connected for e in seen if isinstance(e, StationChanged)] == [True, False]


def test_json_form_names_the_kind() -> None:
    assert event_to_json(message(7)) == {
        "kind": "message", "at": "2025-03-01T12:00:00+00:00", "station_id": "CS1",
        "direction": "in", "message_type": 2, "message_id": "m7", "action": "Heartbeat",
        "path": ["CS1", "n1"], "signature": None, "payload_size": 0}
    energy = event_to_json(EnergyChanged(T0, "CS1", "T1", "active", 12.5, 1))
    assert energy["kind"] == "energy" and energy["energy_wh"] == 12.5
