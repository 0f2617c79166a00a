"""The router's collaborators work on their own: what each needs is a link table, no router."""

from __future__ import annotations

import asyncio

from ocppnet.node.binary_routing import BinaryFrames
from ocppnet.node.link_state import AttachedLink
from ocppnet.node.queue import ForwardQueue
from ocppnet.node.store_forward import StoreAndForward
from ocppnet.routing import LinkInfo
from ocppnet.rpc.binary import BinaryFrame
from ocppnet.rpc.frames import Call, CallError, CallResult, MessageType
from tests.node.fakes import FakeWriter, settle

UP = LinkInfo("CSMS-1", "overlay", "CSMS-1", "upstream")


def counters() -> dict[str, int]:
    return {"queued": 0, "drained": 0}


async def test_store_and_forward_keeps_acknowledges_and_drains_in_order() -> None:
    links: dict[str, AttachedLink] = {}
    sf = StoreAndForward("NODE-A", ForwardQueue(":memory:"), links, counters(),
                         wallclock=lambda: 0.0)
    tx = [Call(f"tx{n}", "TransactionEvent", {"seqNo": n}, "CSMS", ("CS-1",)) for n in range(3)]
    assert sf.keeps(tx[0], "2.0.1") and not sf.keeps(Call("h", "Heartbeat", {}), "2.0.1")
    acks = [sf.store("CSMS-1", call, "2.0.1") for call in tx]
    assert [(a.message_id, a.payload, a.dest, a.path) for a in acks] == [
        (f"tx{n}", {}, "CS-1", ("NODE-A",)) for n in range(3)]
    assert sf.backlog == {"CSMS-1": 3} and sf.counters["queued"] == 3
    assert sf.answering_for() == {"CS-1"}  # announced upstream until answered

    writer = FakeWriter()
    links["CSMS-1"] = AttachedLink(UP, "2.0.1", writer, 0.0)
    sf.link_up("CSMS-1")
    for n in range(3):
        await settle()
        [sent] = writer.take()
        assert sent.message_id == f"tx{n}" and sf.waiting == 1
        answer = CallResult(sent.message_id, {}, "CS-1", ("CSMS-1",))
        assert sf.take_answer("CSMS-1", answer)
    await settle()
    assert sf.backlog == {"CSMS-1": 0} and sf.counters["drained"] == 3 and sf.waiting == 0
    assert sf.answering_for() == set()
    assert not sf.take_answer("CSMS-1", CallResult("tx0", {}, "CS-1", ("CSMS-1",)))
    await sf.stop()


async def test_a_lost_link_pauses_the_drain_and_keeps_the_request() -> None:
    links: dict[str, AttachedLink] = {}
    queue = ForwardQueue(":memory:")
    sf = StoreAndForward("NODE-A", queue, links, counters(), wallclock=lambda: 0.0)
    sf.store("CSMS-1", Call("tx0", "TransactionEvent", {}, "CSMS", ("CS-1",)), "2.0.1")
    links["CSMS-1"] = AttachedLink(UP, "2.0.1", FakeWriter(), 0.0)
    sf.link_up("CSMS-1")
    await settle()
    del links["CSMS-1"]
    sf.link_down("CSMS-1")
    await settle()
    assert queue.count("CSMS-1") == 1 and sf.waiting == 0 and sf.counters["drained"] == 0
    await sf.stop()


class BinarySink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def __call__(self, data: bytes) -> None:
        self.messages.append(data)


async def test_binary_frames_write_only_where_a_link_takes_bytes() -> None:
    links: dict[str, AttachedLink] = {"CSMS-1": AttachedLink(UP, "2.1", FakeWriter(), 0.0)}
    binary = BinaryFrames("NODE-A", links)
    frame = BinaryFrame(MessageType.CALL, "b1", b"data", "SendFile", {}, "CSMS", ("NODE-A",))
    assert not await binary.write("CSMS-1", frame)  # text only
    assert not await binary.write("nowhere", frame)
    sink = BinarySink()
    links["CSMS-1"].binary = sink
    assert await binary.write("CSMS-1", frame)
    assert len(sink.messages) == 1 and links["CSMS-1"].frames_out == 1


async def test_binary_frames_deliver_answers_to_waiters_and_refuse_calls_nobody_takes() -> None:
    binary = BinaryFrames("NODE-A", {})
    waiter = binary.expect("c1")
    answer = BinaryFrame(MessageType.CALLRESULT, "c1", b"", None, {"status": "Accepted"})
    assert await binary.deliver(answer, "2.1") is None
    assert (await asyncio.wait_for(waiter, 1.0)) is answer
    call = BinaryFrame(MessageType.CALL, "c2", b"x", "SendFile", {}, "NODE-A", ("CSMS-1",))
    refusal = await binary.deliver(call, "2.1")
    assert isinstance(refusal, CallError) and refusal.error_code == "NotSupported"
    assert refusal.dest == "CSMS-1" and refusal.path == ("NODE-A",)
    binary.expect("c3")
    binary.forget("c3")
    late = BinaryFrame(MessageType.CALLRESULT, "c3", b"", None, {})
    assert await binary.deliver(late, "2.1") is None  # dropped: no waiter, no application
