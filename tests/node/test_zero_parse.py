"""The router forwards what it reads by its header only: payload bytes pass untouched, and the
payload is parsed (a malformed one answered as the codec answers it) only where the node must
look: guards, observers, local delivery, the store-and-forward queue. No sockets."""

from __future__ import annotations

import asyncio

import orjson

from ocppnet.node.queue import ForwardQueue
from ocppnet.node.router import FrameEvent, Router
from ocppnet.routing import LinkInfo
from ocppnet.rpc.codec import decode, encode
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame
from ocppnet.rpc.header import RawFrame
from tests.node.fakes import FakeLocal, FakeWriter, settle

UP = LinkInfo("CSMS-1", "overlay", "CSMS-1", "upstream")
STATION = LinkInfo("CS-1#1", "standard", "CS-1", "downstream")
CHILD = LinkInfo("NODE-B#3", "overlay", "NODE-B", "downstream")
# what a station may write and a re-encode would change: 1.50, an escape, a signature
SIGNED = b'{"evseId": 1, "value": 1.50, "unit": "\\u00e9", "signatures": [{"signature": "c2ln"}]}'
BAD = b'{"evseId": 1, "value": }'


def make_router(**kwargs: object) -> Router:
    router = Router("NODE-A", **kwargs)  # type: ignore[arg-type]
    router.table.add_static("CSMS", "CSMS-1")
    return router


def station_call(message_id: str, action: str, payload: bytes) -> bytes:
    return b'[2,"' + message_id.encode() + b'","' + action.encode() + b'",' + payload + b"]"


async def test_a_station_request_goes_up_with_its_payload_bytes_and_the_answer_too() -> None:
    router = make_router()
    up, st = FakeWriter(), FakeWriter()
    upstream = router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, station_call("m1", "MeterValues", SIGNED))
    [sent] = up.take()
    assert isinstance(sent, RawFrame) and sent._cache is None  # never parsed
    assert encode(sent) == b'[2,"CSMS",["CS-1","NODE-A"],"m1","MeterValues",' + SIGNED + b"]"
    answer = b'[3,"CS-1","CSMS-1","m1",{"note":  "as written"}]'
    await router.receive(upstream, answer)
    [down] = st.take()
    assert encode(down) == b'[3,"m1",{"note":  "as written"}]'
    assert len(router.pending) == 0 and router.counters["forwarded"] == 2


async def test_a_transit_node_forwards_a_malformed_payload_for_the_receiver_to_answer() -> None:
    """Nothing here looks at the payload: the CSMS that parses it answers, with the codec's
    error to the station (same code and text as this node's codec would give)."""
    router = make_router()
    up, child = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    child_link = router.attach(CHILD, "2.0.1", child)
    text = b'[2,"CSMS",["CS-9","NODE-B"],"m1","DataTransfer",' + BAD + b"]"
    await router.receive(child_link, text)
    [sent] = up.take()
    wire = encode(sent)
    assert wire == b'[2,"CSMS",["CS-9","NODE-B","NODE-A"],"m1","DataTransfer",' + BAD + b"]"
    at_csms, here = decode(wire, overlay=True), decode(text, overlay=True)
    assert not isinstance(at_csms, Call) and not isinstance(here, Call)
    assert at_csms.error_code == here.error_code == "FormatViolation"
    assert at_csms.reply is not None and at_csms.reply.dest == "CS-9"


async def test_with_a_guard_a_malformed_payload_is_answered_here_and_not_forwarded() -> None:
    router = make_router()
    seen: list[Call] = []
    router.guards.append(lambda call, version: seen.append(call) or None)  # type: ignore[func-returns-value]
    up, st = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    data = station_call("m1", "DataTransfer", BAD)
    await router.receive(station, data)
    failure = decode(data)
    assert not isinstance(failure, Call | CallResult)
    assert up.take() == [] and st.take() == [failure.reply] and seen == []
    assert len(router.pending) == 0 and router.counters["decode_failed"] == 1
    # a sound payload is checked; a guard that did not read it lets the bytes through
    await router.receive(station, station_call("m2", "DataTransfer", SIGNED))
    [sent] = up.take()
    assert encode(sent).endswith(b'"m2","DataTransfer",' + SIGNED + b"]")
    assert [c.message_id for c in seen] == ["m2"]


async def test_a_payload_read_by_a_guard_leaves_as_it_was_read() -> None:
    """What leaves is what the node saw: a guard (or observer) that read the payload, and may
    have changed it, gets it written from the parsed value."""
    router = make_router()

    def tamper(call: Call, version: str) -> None:
        call.payload["value"] = 9.99

    router.guards.append(tamper)  # type: ignore[arg-type]
    up = FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", FakeWriter())
    await router.receive(station, station_call("m1", "MeterValues", SIGNED))
    [sent] = up.take()
    assert orjson.loads(encode(sent))[-1]["value"] == 9.99


async def test_observers_see_what_passes_and_a_malformed_payload_is_answered() -> None:
    router = make_router()
    events: list[FrameEvent] = []
    router.observers.append(events.append)
    up, st = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, station_call("m1", "MeterValues", SIGNED))
    assert [(e.direction, e.frame.message_id) for e in events] == [("in", "m1"), ("out", "m1")]
    assert isinstance(events[0].frame, Call) and events[0].frame.action == "MeterValues"
    [sent] = up.take()
    assert SIGNED in encode(sent)  # observed without reading the payload: bytes as they came
    assert events[0].frame.payload["value"] == 1.5
    await router.receive(station, station_call("m2", "MeterValues", BAD))
    [reply] = st.take()
    assert isinstance(reply, CallError) and reply.error_code == "FormatViolation"
    assert up.take() == [] and [e.direction for e in events] == ["in", "out", "out"]
    assert events[2].frame == reply  # the answer, as before; the bad frame was not observed


async def test_local_delivery_gets_ordinary_frames_or_the_codecs_answer() -> None:
    router = Router("CSMS-1", aliases=frozenset({"CSMS"}))
    local = FakeLocal()
    router.local = local
    st = FakeWriter()
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, station_call("m1", "MeterValues", SIGNED))
    [(frame, _version)] = local.delivered
    assert type(frame) is Call and frame.path == ("CS-1",) and frame.payload["evseId"] == 1
    await router.receive(station, station_call("m2", "MeterValues", BAD))
    assert len(local.delivered) == 1
    [reply] = st.take()
    assert isinstance(reply, CallError) and reply.message_id == "m2"
    assert router.counters["delivered"] == 1 and router.counters["decode_failed"] == 1


async def test_a_queued_request_is_kept_and_drained_as_the_bytes_it_came_with() -> None:
    queue = ForwardQueue(":memory:")
    router = make_router(queue=queue)
    st = FakeWriter()
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, station_call("t1", "TransactionEvent", SIGNED))
    await router.receive(station, station_call("t2", "TransactionEvent", BAD))
    acked, refused = st.take()
    assert acked == CallResult("t1", {})
    assert isinstance(refused, CallError) and refused.error_code == "FormatViolation"
    assert queue.count("CSMS-1") == 1  # the malformed one was not kept
    up = FakeWriter()
    box: list[object] = []

    def answer(frame: Frame) -> None:
        reply = CallResult(frame.message_id, {}, frame.path[0], ("CSMS-1",))
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(router.route(box[0], reply))  # type: ignore[arg-type]
        )

    up.reply = answer
    box.append(router.attach(UP, "2.0.1", up))
    for _ in range(5):
        await settle()
    [drained] = up.frames
    assert encode(drained) == (
        b'[2,"CSMS",["CS-1","NODE-A"],"t1","TransactionEvent",' + SIGNED + b"]"
    )
    assert queue.count() == 0
    await router.stop()
    queue.close()
