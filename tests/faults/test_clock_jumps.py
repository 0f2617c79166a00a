"""A wall clock that jumps an hour either way: learned routes and pending requests live by
elapsed (monotonic) time, so they neither expire early nor linger; the replay window is the
signature layer's (tests/security/test_replay.py covers the jump there)."""

from __future__ import annotations

from ocppnet.node.router import Router
from ocppnet.routing import LinkInfo
from ocppnet.rpc.codec import encode
from ocppnet.rpc.frames import Call
from tests.node.fakes import FakeWriter

UP = LinkInfo("CSMS-1", "overlay", "CSMS-1", "upstream")
CHILD = LinkInfo("NODE-B#1", "overlay", "NODE-B", "downstream")
STATION = LinkInfo("CS-1#2", "standard", "CS-1", "downstream")


class Clocks:
    def __init__(self) -> None:
        self.mono = 100.0
        self.wall = 1_796_000_000.0


async def test_a_wall_clock_jump_does_not_expire_learned_routes() -> None:
    clocks = Clocks()
    router = Router("NODE-A", learned_ttl=300.0, clock=lambda: clocks.mono,
                    wallclock=lambda: clocks.wall)
    router.table.add_static("CSMS", "CSMS-1")
    router.attach(UP, "2.0.1", FakeWriter())
    child = router.attach(CHILD, "2.0.1", FakeWriter())
    # CS-9, two hops down, is learned from the frame it sends through NODE-B
    await router.receive(child, encode(Call("m1", "Heartbeat", {}, "CSMS", ("CS-9", "NODE-B"))))
    assert router.table.lookup("CS-9", clocks.mono) is not None
    for jump in (+3600.0, -7200.0):  # an NTP step forward, then one back past the start
        clocks.wall += jump
        clocks.mono += 1.0
        await router.housekeeping()
        assert router.table.lookup("CS-9", clocks.mono) is not None, jump
    clocks.mono += 300.0  # the TTL passes in elapsed time: now it goes
    await router.housekeeping()
    route = router.table.lookup("CS-9", clocks.mono)
    assert route is None or route.origin != "learned"


async def test_a_wall_clock_jump_does_not_time_out_a_pending_request() -> None:
    clocks = Clocks()
    router = Router("NODE-A", request_timeout=60.0, clock=lambda: clocks.mono,
                    wallclock=lambda: clocks.wall)
    router.table.add_static("CSMS", "CSMS-1")
    up_writer = FakeWriter()
    up = router.attach(UP, "2.0.1", up_writer)
    router.attach(STATION, "2.0.1", FakeWriter())
    # the CSMS asks CS-1 (a plain station below this node); CS-1 never answers
    await router.receive(up, encode(Call("c1", "Reset", {"type": "Immediate"}, "CS-1",
                                         ("CSMS-1",))))
    assert len(router.pending) == 1
    clocks.wall += 3600.0
    clocks.mono += 1.0
    await router.housekeeping()
    assert len(router.pending) == 1 and up_writer.take() == []  # no early timeout
    clocks.mono += 60.0
    await router.housekeeping()
    assert len(router.pending) == 0  # answered after 60 s of elapsed time
    [reply] = up_writer.take()
    assert reply.message_id == "c1"
