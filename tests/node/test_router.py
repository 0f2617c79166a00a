"""The node's router carries out routing decisions; driven with fake links, no sockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from ocppnet.node.queue import ForwardQueue
from ocppnet.node.router import Router, plain_error
from ocppnet.routing import FilterRule, ForwardingFilter, LinkInfo, build_announcement
from ocppnet.rpc.codec import encode
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame
from tests.node.fakes import FakeLocal, FakeWriter, settle

UP = LinkInfo("CSMS-1", "overlay", "CSMS-1", "upstream")
STATION = LinkInfo("CS-1#1", "standard", "CS-1", "downstream")
STATION2 = LinkInfo("CS-2#2", "standard", "CS-2", "downstream")
CHILD = LinkInfo("NODE-B#3", "overlay", "NODE-B", "downstream")
BOOT = {"chargingStation": {"model": "m", "vendorName": "v"}, "reason": "PowerUp"}


def plain_networking_error(frame: Frame) -> bool:
    """What a plain station gets for an overlay NetworkingError: a code its version knows."""
    return (
        isinstance(frame, CallError) and frame.error_code == "GenericError"
        and frame.error_description.startswith("NetworkingError: ")
        and frame.dest is None and frame.path == ()
    )


def make_router(**kwargs: object) -> Router:
    router = Router("NODE-A", **kwargs)  # type: ignore[arg-type]
    router.table.add_static("CSMS", "CSMS-1")
    return router


def tx(n: int) -> Call:
    return Call(f"tx{n}", "TransactionEvent", {"seqNo": n})


async def test_station_request_goes_up_with_dest_and_path_and_answer_comes_back() -> None:
    router = make_router()
    up, st = FakeWriter(), FakeWriter()
    upstream = router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, encode(Call("1", "BootNotification", BOOT)))
    assert up.take() == [Call("1", "BootNotification", BOOT, "CSMS", ("CS-1", "NODE-A"))]
    await router.route(upstream, CallResult("1", {"status": "Accepted"}, "CS-1", ("CSMS-1",)))
    assert st.take() == [CallResult("1", {"status": "Accepted"})]  # stripped for the station
    assert router.counters["forwarded"] == 2 and len(router.pending) == 0


async def test_csms_call_reaches_the_station_and_its_answer_goes_to_the_asker() -> None:
    router = make_router()
    up, st = FakeWriter(), FakeWriter()
    upstream = router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.route(upstream, Call("r1", "Reset", {"type": "Immediate"}, "CS-1", ("CSMS-1",)))
    assert st.take() == [Call("r1", "Reset", {"type": "Immediate"})]
    await router.receive(station, encode(CallResult("r1", {"status": "Accepted"})))
    assert up.take() == [CallResult("r1", {"status": "Accepted"}, "CSMS-1", ("CS-1", "NODE-A"))]


async def test_guard_refuses_a_station_request_to_the_station() -> None:
    router = make_router()
    router.guards.append(lambda call, _: "unsigned" if call.action == "DataTransfer" else None)
    up, st = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, encode(Call("d1", "DataTransfer", {"vendorId": "x"})))
    assert up.take() == []
    assert st.take() == [CallError("d1", "SecurityError", "unsigned", {})]
    await router.receive(station, encode(Call("h1", "Heartbeat", {})))
    assert [f.message_id for f in up.take()] == ["h1"]  # other actions still pass
    assert len(router.pending) == 1  # only h1 is tracked; d1 left nothing behind


async def test_guard_refuses_a_request_bound_for_a_station_link_to_the_real_asker() -> None:
    """The frame was already stripped for the station; the refusal goes to PATH[0] upstream."""
    router = make_router()
    router.guards.append(lambda call, version: "no role" if call.action == "Reset" else None)
    up, st = FakeWriter(), FakeWriter()
    upstream = router.attach(UP, "2.0.1", up)
    router.attach(STATION, "2.0.1", st)
    await router.route(upstream, Call("r1", "Reset", {"type": "Immediate"}, "CS-1", ("CSMS-1",)))
    assert st.take() == []
    assert up.take() == [CallError("r1", "SecurityError", "no role", {}, "CSMS-1", ("NODE-A",))]
    assert len(router.pending) == 0


async def test_a_failing_guard_refuses_instead_of_forwarding() -> None:
    router = make_router()

    def broken(call: Call, version: str) -> str | None:
        raise RuntimeError("bug")

    router.guards.append(broken)
    up, st = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, encode(Call("1", "Heartbeat", {})))
    assert up.take() == []
    [reply] = st.take()
    assert isinstance(reply, CallError) and reply.error_code == "SecurityError"


async def test_guards_check_what_the_node_forwards_not_its_own_requests() -> None:
    """The node's own applications (its load manager, its grid site) are not checked by the
    guards: a guard protects stations from what others send through the node."""
    router = make_router()
    local = FakeLocal()
    router.local = local
    router.guards.append(lambda call, version: "no")
    up = FakeWriter()
    router.attach(UP, "2.0.1", up)
    assert await router.send_local(Call("x1", "Heartbeat", {}, dest="CSMS"), "2.0.1") is None
    [sent] = up.take()
    assert isinstance(sent, Call) and sent.message_id == "x1"
    assert local.delivered == []


async def test_upstream_down_non_queued_request_gets_a_networking_error() -> None:
    router = make_router(queue=ForwardQueue(":memory:"))
    st = FakeWriter()
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, encode(Call("b1", "BootNotification", BOOT)))
    [reply] = st.take()
    assert plain_networking_error(reply)


async def test_queue_acks_and_drains_in_order_new_events_stay_behind_the_backlog() -> None:
    queue = ForwardQueue(":memory:")
    router = make_router(queue=queue)
    st = FakeWriter()
    station = router.attach(STATION, "2.0.1", st)
    for n in range(5):
        await router.receive(station, encode(tx(n)))
    assert st.take() == [CallResult(f"tx{n}", {}) for n in range(5)]  # acked by the node
    assert queue.count("CSMS-1") == 5 and router.snapshot()["queued"] == {"CSMS-1": 5}

    up = FakeWriter()
    order: list[int] = []
    upstream_box: list[object] = []

    def answer(frame: Frame) -> None:
        assert isinstance(frame, Call)
        order.append(frame.payload["seqNo"])
        reply = CallResult(frame.message_id, {}, frame.path[0], ("CSMS-1",))
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(router.route(upstream_box[0], reply))  # type: ignore[arg-type]
        )

    up.reply = answer
    upstream_box.append(router.attach(UP, "2.0.1", up))
    # a new event while the backlog drains queues behind it instead of overtaking it
    await router.receive(station, encode(tx(5)))
    for _ in range(10):
        await settle()
    assert order == [0, 1, 2, 3, 4, 5]
    assert queue.count() == 0 and router.counters["drained"] == 6
    assert st.take() == [CallResult("tx5", {})]  # the CSMS's own answers are not relayed
    await router.stop()
    queue.close()


async def test_drain_pauses_when_the_upstream_says_networking_error_and_keeps_the_entry() -> None:
    queue = ForwardQueue(":memory:")
    router = make_router(queue=queue)
    station = router.attach(STATION, "2.0.1", FakeWriter())
    await router.receive(station, encode(tx(0)))
    up = FakeWriter()
    box: list[object] = []

    def refuse(frame: Frame) -> None:
        reply = CallError(frame.message_id, "NetworkingError", "busy", {}, "CS-1", ("CSMS-1",))
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(router.route(box[0], reply))  # type: ignore[arg-type]
        )

    up.reply = refuse
    box.append(router.attach(UP, "2.0.1", up))
    await settle()
    assert len(up.frames) == 1 and queue.count() == 1  # kept for the next attempt
    await router.stop()
    queue.close()


async def test_write_failure_on_upstream_queues_a_must_not_lose_request() -> None:
    queue = ForwardQueue(":memory:")
    router = make_router(queue=queue)
    up, st = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    up.closed = True
    await router.receive(station, encode(tx(0)))
    await router.receive(station, encode(Call("h1", "Heartbeat", {})))
    acked, refused = st.take()
    assert acked == CallResult("tx0", {})
    assert plain_networking_error(refused)
    assert queue.count("CSMS-1") == 1 and len(router.pending) == 0
    await router.stop()
    queue.close()


async def test_topology_from_a_child_node_installs_routes_and_is_answered() -> None:
    router = make_router()
    local = FakeLocal()
    router.local = local
    up, child = FakeWriter(), FakeWriter()
    upstream = router.attach(UP, "2.0.1", up)
    child_link = router.attach(CHILD, "2.0.1", child)
    payload = build_announcement("NODE-B", ["CS-7", "CS-8"], ttl_seconds=90,
                                 timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    await router.route(
        child_link, Call("t1", "NotifyNetworkTopology", payload, "NODE-A", ("NODE-B",))
    )
    assert child.take() == [CallResult("t1", {"status": "Accepted"}, "NODE-B", ("NODE-A",))]
    assert local.changed == [(["CS-7", "CS-8"], [], "NODE-B")]
    routes = {(r["destination"], r["origin"]) for r in router.snapshot()["routes"]}
    assert {("CS-7", "topology"), ("CS-8", "topology")} <= routes
    # a CSMS call for CS-8 now goes down to the child, before CS-8 ever spoke
    await router.route(upstream, Call("g1", "GetVariables", {}, "CS-8", ("CSMS-1",)))
    assert child.take() == [Call("g1", "GetVariables", {}, "CS-8", ("CSMS-1", "NODE-A"))]


async def test_topology_announcing_someone_else_is_refused() -> None:
    router = make_router()
    child = FakeWriter()
    child_link = router.attach(CHILD, "2.0.1", child)
    payload = build_announcement("NODE-X", ["CS-7"], ttl_seconds=90,
                                 timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    await router.route(
        child_link, Call("t1", "NotifyNetworkTopology", payload, "NODE-A", ("NODE-B",))
    )
    [reply] = child.take()
    assert isinstance(reply, CallError) and reply.error_code == "SecurityError"
    assert router.table.routes("CS-7", router.clock()) == []


async def test_decode_failures_are_answered_in_the_link_mode() -> None:
    router = make_router()
    st, child = FakeWriter(), FakeWriter()
    station = router.attach(STATION, "2.0.1", st)
    child_link = router.attach(CHILD, "2.0.1", child)
    await router.receive(station, '[2, "m1", "BootNotification", 5]')
    assert st.take() == [
        CallError("m1", "FormatViolation", "payload must be a JSON object", {})
    ]
    await router.receive(child_link, '[2, "CSMS", ["CS-9"], "m2", "Heartbeat", []]')
    [reply] = child.take()
    assert isinstance(reply, CallError) and reply.message_id == "m2"
    assert reply.dest == "CS-9" and reply.path == ("NODE-A",)  # routable back by the child
    await router.receive(station, "this is not json")  # no message id: nothing to answer
    assert st.take() == [] and router.counters["decode_failed"] == 3


async def test_loop_and_spoof_are_cut_with_errors() -> None:
    router = make_router()
    up, st, child = FakeWriter(), FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    router.attach(STATION, "2.0.1", st)
    child_link = router.attach(CHILD, "2.0.1", child)
    # CS-1 is connected here; NODE-B may not speak for it
    await router.route(child_link, Call("s1", "Heartbeat", {}, "CSMS", ("CS-1", "NODE-B")))
    [spoof] = child.take()
    assert isinstance(spoof, CallError) and "spoofed" in spoof.error_description
    await router.route(child_link, Call("l1", "Heartbeat", {}, "CSMS", ("CS-5", "NODE-A")))
    [loop] = child.take()
    assert isinstance(loop, CallError) and "loop" in loop.error_description
    assert up.take() == []


async def test_filter_reject_and_drop() -> None:
    filters = ForwardingFilter((
        FilterRule("DataTransfer", "reject", "up"),
        FilterRule("StatusNotification", "drop", "up"),
    ))
    router = make_router(filters=filters)
    up, st = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, encode(Call("d1", "DataTransfer", {"vendorId": "x"})))
    await router.receive(station, encode(Call("s1", "StatusNotification", {})))
    [reply] = st.take()
    assert isinstance(reply, CallError) and reply.error_code == "SecurityError"
    assert reply.message_id == "d1" and up.take() == []
    assert router.counters["dropped"] == 1 and router.counters["rejected"] == 1


async def test_detach_answers_requests_waiting_on_the_lost_link() -> None:
    router = make_router()
    up, st = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, encode(Call("h1", "Heartbeat", {})))
    await router.detach("CSMS-1")
    [reply] = st.take()
    assert plain_networking_error(reply)
    assert "lost" in reply.error_description


async def test_request_timeout_answers_the_station() -> None:
    now = [0.0]
    router = make_router(clock=lambda: now[0], request_timeout=5.0)
    up, st = FakeWriter(), FakeWriter()
    router.attach(UP, "2.0.1", up)
    station = router.attach(STATION, "2.0.1", st)
    await router.receive(station, encode(Call("h1", "Heartbeat", {})))
    now[0] = 6.0
    await router.housekeeping()
    [reply] = st.take()
    assert plain_networking_error(reply)


async def test_observers_see_frames_in_and_out() -> None:
    router = make_router()
    seen: list[tuple[str, str, str]] = []
    router.observers.append(lambda e: seen.append((e.link_id, e.direction, e.frame.message_id)))
    router.attach(UP, "2.0.1", FakeWriter())
    station = router.attach(STATION, "2.0.1", FakeWriter())
    await router.receive(station, encode(Call("h1", "Heartbeat", {})))
    assert seen == [("CS-1#1", "in", "h1"), ("CSMS-1", "out", "h1")]


def test_plain_error_keeps_standard_codes_and_renames_overlay_ones() -> None:
    overlay = CallError("m", "UnknownClient", "no route to X", {"a": 1}, "CS-1", ("NODE-A",))
    plain = plain_error(overlay, "2.0.1")
    assert (plain.error_code, plain.error_description) == (
        "GenericError", "UnknownClient: no route to X")
    assert plain.error_details == {"a": 1} and plain.dest == "CS-1"
    security = CallError("m", "SecurityError", "no", {})
    assert plain_error(security, "1.6") is security
    spelled = plain_error(CallError("m", "FormatViolation", "bad", {}), "1.6")
    assert (spelled.error_code, spelled.error_description) == ("FormationViolation", "bad")
    assert plain_error(CallError("m", "RpcFrameworkError", "x", {}), "1.6").error_code == (
        "ProtocolError")
