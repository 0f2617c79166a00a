"""The node's mirror: what it copies, what it sheds under back-pressure and how it says so."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ocppnet.config import parse_section
from ocppnet.errors import ConfigError
from ocppnet.node.link_state import AttachedLink, FrameEvent
from ocppnet.node.mirror import Mirror
from ocppnet.node.mirror_config import MirrorSection
from ocppnet.routing import ForwardingFilter, LinkInfo
from ocppnet.rpc.frames import Call, CallError, Frame, Send


class Router:
    """The two things a Mirror uses of a router: its links and send_local."""

    def __init__(self) -> None:
        self.node_id = "NODE-B"
        self.links = {
            "CS-1#1": AttachedLink(LinkInfo("CS-1#1", "standard", "CS-1", "downstream"), "2.1",
                                   None, 0.0),  # type: ignore[arg-type]
            "NODE-C#2": AttachedLink(LinkInfo("NODE-C#2", "overlay", "NODE-C", "downstream"),
                                     "2.1", None, 0.0),  # type: ignore[arg-type]
        }
        self.sent: list[Frame] = []
        self.refuse = False

    async def send_local(self, frame: Frame, version: str) -> CallError | None:
        if self.refuse:
            return CallError(frame.message_id, "UnknownClient", "no route to TWIN-1", {})
        self.sent.append(frame)
        return None


def batch(seq: int, stream: int = 1) -> Send:
    return Send(f"m{seq}", "NotifyPeriodicEventStream", {
        "id": stream, "pending": 0, "basetime": "2026-12-01T10:00:00Z",
        "data": [{"t": 0, "v": "1"}], "customData": {"vendorId": "x", "seq": seq}})


def event(frame: Frame, link: str = "CS-1#1", direction: str = "in") -> FrameEvent:
    return FrameEvent(1_796_000_000.0, link, direction, frame)


async def drain(mirror: Mirror) -> None:
    task = asyncio.create_task(mirror.run())
    for _ in range(20):
        await asyncio.sleep(0)
    task.cancel()


async def test_copies_carry_the_station_payload_unchanged() -> None:
    router = Router()
    mirror = Mirror(router, MirrorSection(to="TWIN-1"))  # type: ignore[arg-type]
    original = batch(0)
    mirror.observe(event(original))
    mirror.observe(event(batch(1), link="NODE-C#2"))  # copied by NODE-C itself, not here
    mirror.observe(event(batch(2), direction="out"))
    mirror.observe(event(Call("c1", "Heartbeat", {})))  # not a mirrored action
    await drain(mirror)
    [copy] = router.sent
    assert isinstance(copy, Send) and copy.action == "MirrorData" and copy.dest == "TWIN-1"
    assert copy.payload["payload"] is original.payload
    assert copy.payload | {"payload": None} == {
        "source": "CS-1", "node": "NODE-B", "action": "NotifyPeriodicEventStream",
        "receivedAt": "2026-11-30T00:53:20Z", "payload": None, "shed": 0}
    assert mirror.status() == {"to": "TWIN-1", "queued": 0, "mirrored": 1, "shed": 0,
                               "failed": 0}


async def test_a_full_queue_sheds_and_the_next_copy_says_how_many() -> None:
    router = Router()
    mirror = Mirror(router, MirrorSection(to="TWIN-1", queue=2))  # type: ignore[arg-type]
    for seq in range(5):
        mirror.observe(event(batch(seq)))
    await drain(mirror)
    assert mirror.counters["shed"] == 3 and len(router.sent) == 2
    mirror.observe(event(batch(5)))
    await drain(mirror)
    assert [f.payload["shed"] for f in router.sent] == [0, 0, 3]


async def test_an_unreachable_twin_keeps_the_shed_count_for_later() -> None:
    router = Router()
    mirror = Mirror(router, MirrorSection(to="TWIN-1", queue=1))  # type: ignore[arg-type]
    mirror.observe(event(batch(0)))
    mirror.observe(event(batch(1)))  # shed
    router.refuse = True
    await drain(mirror)
    assert mirror.counters["failed"] == 1
    router.refuse = False
    mirror.observe(event(batch(2)))
    await drain(mirror)
    assert [f.payload["shed"] for f in router.sent] == [2]  # the one shed, the one lost


def test_filters_make_the_target_read_only_and_keep_telemetry_from_the_csms() -> None:
    mirror = Mirror(Router(), MirrorSection(to="TWIN-1"))  # type: ignore[arg-type]
    rules = mirror.filters(ForwardingFilter())
    assert rules.verdict("Reset", direction="down", source="TWIN-1", dest="CS-1") == "reject"
    assert rules.verdict("NotifyPeriodicEventStream", direction="up", source="CS-1",
                         dest="CSMS") == "drop"
    assert rules.verdict("TransactionEvent", direction="up", source="CS-1",
                         dest="CSMS") == "forward"
    open_rules = Mirror(Router(), MirrorSection(  # type: ignore[arg-type]
        to="TWIN-1", read_only=False, telemetry_to_csms=True)).filters(ForwardingFilter())
    assert open_rules.rules == ()


@pytest.mark.parametrize(("table", "message"), [
    ({}, "node.mirror.to: missing"),
    ({"to": "*"}, "node.mirror.to: '*' is not a valid node id"),
    ({"to": "TWIN-1", "queue": 0}, "node.mirror.queue: must be >= 1"),
    ({"to": "TWIN-1", "action": []}, "node.mirror.action: unknown key"),
])
def test_bad_mirror_sections_name_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("*", r"\*")):
        parse_section(MirrorSection, table, source="n.toml", where="node.mirror")
