"""Binary frames through the router: same rules as text frames, bytes kept, errors as text."""

from __future__ import annotations

import asyncio

import pytest

from ocppnet.errors import CallTimeout
from ocppnet.node.router import AttachedLink, Router
from ocppnet.routing import FilterRule, ForwardingFilter, LinkInfo
from ocppnet.rpc.binary import BinaryFrame, decode_binary, encode_binary
from ocppnet.rpc.frames import CallError, CallResult, MessageType
from tests.node.fakes import FakeLocal, FakeWriter

UP = LinkInfo("CSMS-1", "overlay", "CSMS-1", "upstream")
CHILD = LinkInfo("NODE-B#2", "overlay", "NODE-B", "downstream")
STATION = LinkInfo("CS-1#1", "standard", "CS-1", "downstream")
DATA = bytes(range(256)) * 300
META = {"fileName": "fw.bin", "offset": 0, "totalLength": len(DATA), "fileSha256": "0" * 64}


class BinarySink:
    """The binary side of a fake link: records the raw messages written."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.arrived = asyncio.Event()

    async def __call__(self, data: bytes) -> None:
        self.messages.append(data)
        self.arrived.set()

    def frames(self, *, overlay: bool) -> list[BinaryFrame]:
        out = []
        for message in self.messages:
            frame = decode_binary(message, overlay=overlay)
            assert isinstance(frame, BinaryFrame), frame
            out.append(frame)
        self.messages = []
        return out


def attach(router: Router, info: LinkInfo) -> tuple[AttachedLink, FakeWriter, BinarySink]:
    writer, sink = FakeWriter(), BinarySink()
    attached = router.attach(info, "2.0.1", writer)
    attached.binary = sink
    return attached, writer, sink


def make_router(node_id: str = "NODE-A", **kwargs: object) -> Router:
    router = Router(node_id, **kwargs)  # type: ignore[arg-type]
    router.table.add_static("CSMS", "CSMS-1")
    return router


def chunk(message_id: str, dest: str | None, path: tuple[str, ...]) -> BinaryFrame:
    return BinaryFrame(MessageType.CALL, message_id, DATA, "SendFile", META, dest, path)


async def test_binary_call_goes_down_to_a_standard_station_stripped_and_answer_comes_back() -> None:
    router = make_router()
    upstream, up_text, up_bin = attach(router, UP)
    station, st_text, st_bin = attach(router, STATION)
    await router.receive_binary(upstream, encode_binary(chunk("c1", "CS-1", ("CSMS-1",))))
    [down] = st_bin.frames(overlay=False)
    assert (down.dest, down.path, down.action, down.data, down.meta) == (
        None, (), "SendFile", DATA, META
    )
    answer = BinaryFrame(MessageType.CALLRESULT, "c1", b"", None, {"status": "Accepted"})
    await router.receive_binary(station, encode_binary(answer))
    [back] = up_bin.frames(overlay=True)
    assert (back.message_id, back.dest, back.path) == ("c1", "CSMS-1", ("CS-1", "NODE-A"))
    assert len(router.pending) == 0 and up_text.take() == [] and st_text.take() == []


async def test_two_routers_forward_a_binary_frame_with_the_record_route() -> None:
    """CSMS-1 -> NODE-A -> NODE-B -> CS-1: each hop appends itself, bytes unchanged."""
    node_a, node_b = make_router("NODE-A"), make_router("NODE-B")
    a_up, _, _ = attach(node_a, UP)
    _, _, a_down = attach(node_a, CHILD)
    node_a.table.learn("CS-1", CHILD.link_id, node_a.clock())
    b_up, _, _ = attach(node_b, LinkInfo("NODE-A", "overlay", "NODE-A", "upstream"))
    _, _, b_station = attach(node_b, STATION)
    await node_a.receive_binary(a_up, encode_binary(chunk("c1", "CS-1", ("CSMS-1",))))
    [hop1] = a_down.frames(overlay=True)
    assert (hop1.dest, hop1.path) == ("CS-1", ("CSMS-1", "NODE-A"))
    await node_b.route_binary(b_up, hop1)
    [hop2] = b_station.frames(overlay=False)
    assert hop2.data == DATA and hop2.meta == META and hop2.dest is None


async def test_loop_spoof_and_hop_limit_get_text_errors_and_no_bytes() -> None:
    router = make_router(hop_limit=3)
    upstream, up_text, up_bin = attach(router, UP)
    child, child_text, _ = attach(router, CHILD)
    router.table.learn("CS-1", CHILD.link_id, router.clock())
    # loop: our own id is already in PATH
    await router.receive_binary(upstream, encode_binary(chunk("l1", "CS-1", ("CSMS-1", "NODE-A"))))
    [loop] = up_text.take()
    assert isinstance(loop, CallError) and loop.error_code == "NetworkingError"
    assert "loop" in loop.error_description
    # spoof: CS-1 lives behind NODE-B, it cannot arrive from the CSMS link
    await router.receive_binary(upstream, encode_binary(chunk("s1", "CSMS", ("CS-1",))))
    [spoof] = up_text.take()
    assert isinstance(spoof, CallError) and "spoofed" in spoof.error_description
    # spoof: only the CSMS link may speak for CSMS
    await router.receive_binary(child, encode_binary(chunk("s2", "CS-1", ("CSMS",))))
    [spoof] = child_text.take()
    assert isinstance(spoof, CallError) and "spoofed" in spoof.error_description
    # hop limit
    await router.receive_binary(child, encode_binary(chunk("h1", "CSMS", ("CS-1", "X", "Y", "Z"))))
    [hops] = child_text.take()
    assert isinstance(hops, CallError) and "hop limit" in hops.error_description
    assert up_bin.messages == [] and router.counters["forwarded"] == 0


async def test_filters_and_guards_see_the_binary_action_and_meta() -> None:
    rules = ForwardingFilter((FilterRule("SendFile", "reject", "down"),))
    router = make_router(filters=rules)
    upstream, up_text, _ = attach(router, UP)
    _, _, st_bin = attach(router, STATION)
    await router.receive_binary(upstream, encode_binary(chunk("f1", "CS-1", ("CSMS-1",))))
    [refused] = up_text.take()
    assert isinstance(refused, CallError) and refused.error_code == "SecurityError"
    router.filters = ForwardingFilter()
    router.guards.append(lambda call, _: "not signed" if "signatures" not in call.payload else None)
    await router.receive_binary(upstream, encode_binary(chunk("g1", "CS-1", ("CSMS-1",))))
    [guarded] = up_text.take()
    assert isinstance(guarded, CallError) and guarded.error_description == "not signed"
    assert st_bin.messages == []


async def test_corrupted_binary_frame_is_answered_with_a_text_format_violation() -> None:
    router = make_router()
    upstream, up_text, _ = attach(router, UP)
    _, _, st_bin = attach(router, STATION)
    raw = bytearray(encode_binary(chunk("x1", "CS-1", ("CSMS-1",))))
    raw[-1] ^= 0xFF
    await router.receive_binary(upstream, bytes(raw))
    [error] = up_text.take()
    assert isinstance(error, CallError) and error.error_code == "FormatViolation"
    assert (error.dest, error.path) == ("CSMS-1", ("NODE-A",))
    assert "sha256" in error.error_description and st_bin.messages == []


async def test_link_without_binary_support_answers_networking_error() -> None:
    router = make_router()
    upstream, up_text, _ = attach(router, UP)
    station = router.attach(STATION, "2.0.1", FakeWriter())  # text-only link
    assert station.binary is None
    await router.receive_binary(upstream, encode_binary(chunk("n1", "CS-1", ("CSMS-1",))))
    [error] = up_text.take()
    assert isinstance(error, CallError) and error.error_code == "NetworkingError"
    assert len(router.pending) == 0


async def test_local_binary_call_gets_binary_or_text_answers() -> None:
    router = make_router("CSMS-1")
    router.local = FakeLocal()
    _, _, st_bin = attach(router, STATION)

    async def answer_later(reply: BinaryFrame | CallError) -> None:
        await st_bin.arrived.wait()
        st_bin.arrived.clear()
        st_bin.messages.clear()
        station = router.links[STATION.link_id]
        if isinstance(reply, BinaryFrame):
            await router.receive_binary(station, encode_binary(reply))
        else:
            await router.route(station, reply)

    ok = BinaryFrame(MessageType.CALLRESULT, "b1", b"log", None, {"status": "Accepted"})
    task = asyncio.create_task(answer_later(ok))
    got = await router.call_binary(chunk("b1", "CS-1", ()), "2.0.1", timeout=5)
    await task
    assert isinstance(got, BinaryFrame) and got.data == b"log" and got.path == ("CS-1",)
    task = asyncio.create_task(answer_later(CallError("b2", "NotSupported", "no files", {})))
    err = await router.call_binary(chunk("b2", "CS-1", ()), "2.0.1", timeout=5)
    await task
    assert isinstance(err, CallError) and err.error_code == "NotSupported"
    unknown = await router.call_binary(chunk("b3", "CS-9", ()), "2.0.1", timeout=5)
    assert isinstance(unknown, CallError) and unknown.error_code == "UnknownClient"
    with pytest.raises(CallTimeout):
        await router.call_binary(chunk("b4", "CS-1", ()), "2.0.1", timeout=0.05)
    assert router.local.delivered == []  # nothing leaked to the text application


async def test_binary_for_a_node_without_binary_application_is_refused() -> None:
    router = make_router()
    upstream, up_text, _ = attach(router, UP)
    await router.receive_binary(upstream, encode_binary(chunk("z1", "NODE-A", ("CSMS-1",))))
    [error] = up_text.take()
    assert isinstance(error, CallError) and error.error_code == "NotSupported"
    result = BinaryFrame(MessageType.CALLRESULT, "z2", b"", None, {}, "NODE-A", ("CSMS-1",))
    await router.receive_binary(upstream, encode_binary(result))
    assert up_text.take() == []  # a result nobody waits for is dropped, not answered
    assert not isinstance(error, CallResult)
