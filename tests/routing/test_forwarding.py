"""decide() at one node: DEST/PATH filling, record route, loops, spoofing, correlation."""

from __future__ import annotations

from typing import Any

import pytest

from ocppnet.routing import (
    CSMS,
    Deliver,
    Drop,
    Fanout,
    Forward,
    ForwardingFilter,
    Hold,
    LinkInfo,
    PendingTable,
    Reject,
    RoutingTable,
    decide,
    frame_for_link,
    originate,
    timeout_reply,
)
from ocppnet.rpc.codec import encode
from ocppnet.rpc.frames import Call, CallError, CallResult, CallResultError, Frame, Send

UP = LinkInfo("up", "overlay", "CSMS-1", "upstream")
B = LinkInfo("b", "overlay", "NODE-B", "downstream")
C = LinkInfo("c", "overlay", "NODE-C", "downstream")
S1 = LinkInfo("s1", "standard", "CS-1")
S2 = LinkInfo("s2", "standard", "CS-2")


class Node:
    def __init__(self, **options: Any) -> None:
        self.table = RoutingTable(learned_ttl=100.0)
        for link in (UP, B, C, S1, S2):
            self.table.add_link(link)
        self.table.add_static(CSMS, "up")
        self.pending = PendingTable()
        self.options = options

    def __call__(self, frame: Frame, link: LinkInfo, now: float = 0.0) -> Any:
        return decide(
            frame,
            arrived_on=link,
            node_id="NODE-A",
            table=self.table,
            pending=self.pending,
            now=now,
            request_timeout=30.0,
            **self.options,
        )


@pytest.fixture
def node() -> Node:
    return Node()


def test_station_call_gets_dest_csms_and_record_route(node: Node) -> None:
    decision = node(Call("42", "Heartbeat", {}), S1)
    assert isinstance(decision, Forward) and decision.link_id == "up"
    assert decision.frame == Call("42", "Heartbeat", {}, dest=CSMS, path=("CS-1", "NODE-A"))
    assert encode(decision.frame) == b'[2,"CSMS",["CS-1","NODE-A"],"42","Heartbeat",{}]'


def test_response_returns_to_station_stripped_once(node: Node) -> None:
    node(Call("42", "Heartbeat", {}), S1)
    answer = CallResult("42", {"currentTime": "t"}, dest="CS-1", path=("CSMS-1",))
    assert node(answer, UP) == Forward("s1", CallResult("42", {"currentTime": "t"}))
    assert encode(node(Call("43", "Heartbeat", {}), S1).frame).startswith(b'[2,"CSMS"')
    late = node(answer, UP)
    assert isinstance(late, Drop) and "no pending request" in late.reason


def test_two_stations_same_message_id_share_one_upstream(node: Node) -> None:
    first, second = node(Call("1", "Heartbeat", {}), S1), node(Call("1", "Heartbeat", {}), S2)
    assert first.link_id == second.link_id == "up"
    to_2 = node(CallResult("1", {"n": 2}, dest="CS-2", path=("CSMS-1",)), UP)
    to_1 = node(CallResult("1", {"n": 1}, dest="CS-1", path=("CSMS-1",)), UP)
    assert to_2 == Forward("s2", CallResult("1", {"n": 2}))
    assert to_1 == Forward("s1", CallResult("1", {"n": 1}))


def test_csms_call_to_station_and_answer_back(node: Node) -> None:
    call = Call("c-9", "Reset", {"type": "Immediate"}, dest="CS-1", path=("CSMS-1",))
    assert node(call, UP) == Forward("s1", Call("c-9", "Reset", {"type": "Immediate"}))
    back = node(CallResult("c-9", {"status": "Accepted"}), S1)
    assert back == Forward(
        "up", CallResult("c-9", {"status": "Accepted"}, dest="CSMS-1", path=("CS-1", "NODE-A"))
    )
    assert encode(back.frame) == b'[3,"CSMS-1",["CS-1","NODE-A"],"c-9",{"status":"Accepted"}]'


def test_unsolicited_station_response_dropped(node: Node) -> None:
    decision = node(CallError("x", "GenericError", "", {}), S1)
    assert isinstance(decision, Drop) and "CS-1" in decision.reason


def test_two_backends_same_id_to_one_station_second_rejected(node: Node) -> None:
    node.table.add_static("GRID-1", "up")
    node(Call("7", "Reset", {}, dest="CS-1", path=("CSMS-1",)), UP)
    clash = node(Call("7", "SetChargingProfile", {}, dest="CS-1", path=("GRID-1",)), UP)
    assert isinstance(clash, Reject) and clash.reply.error_code == "NetworkingError"
    assert (clash.reply.dest, clash.reply.path) == ("GRID-1", ("NODE-A",))
    answer = node(CallResult("7", {}), S1)
    assert answer.frame.dest == "CSMS-1"


def test_loop_is_cut_with_error_to_source(node: Node) -> None:
    looped = Call("5", "Heartbeat", {}, dest=CSMS, path=("CS-1", "NODE-A", "NODE-B"))
    decision = node(looped, B)
    assert isinstance(decision, Reject)
    assert decision.link_id == "s1"  # straight to the station, not back around the loop
    assert decision.reply == CallError("5", "NetworkingError", decision.reason, {})
    assert "loop detected" in decision.reason
    assert isinstance(node(CallResult("5", {}, dest="X", path=("NODE-A",)), B), Drop)


def test_hop_limit(node: Node) -> None:
    hops = tuple(f"N{i}" for i in range(16))
    full = Call("h", "Heartbeat", {}, dest="CSMS", path=hops)
    node.table.learn("N0", "b", 0.0)
    reached = node(full, B)
    assert isinstance(reached, Reject) and "hop limit 16 reached" in reached.reason
    assert isinstance(node(Call("h", "Ping", {}, dest="NODE-A", path=hops), B), Deliver)
    over = node(Call("h", "Ping", {}, dest="NODE-A", path=(*hops, "N16")), B)
    assert isinstance(over, Reject) and "exceeded" in over.reason
    small = Node(hop_limit=2)
    assert isinstance(small(Call("1", "Heartbeat", {}), S1), Forward)
    assert isinstance(small(Call("2", "Heartbeat", {}, dest=CSMS, path=("X", "NODE-B")), B), Reject)


def test_spoofed_path_rejected_to_the_neighbour(node: Node) -> None:
    forged = Call("s", "StatusNotification", {}, dest=CSMS, path=("CS-1", "NODE-B"))
    decision = node(forged, B)
    assert isinstance(decision, Reject) and decision.link_id == "b"
    assert decision.reply.dest == "NODE-B" and "spoofed path" in decision.reason
    assert node.table.routes("CS-1", 0.0)[0].link == "s1"  # nothing learned
    forged_answer = CallResult("s", {}, dest="CSMS-1", path=("CS-2", "NODE-B"))
    assert isinstance(node(forged_answer, B), Drop)


def test_new_id_behind_child_is_learned(node: Node) -> None:
    assert isinstance(
        node(Call("1", "Heartbeat", {}, dest=CSMS, path=("CS-7", "NODE-B")), B), Forward
    )
    assert node.table.lookup("CS-7", 1.0).origin == "learned"  # type: ignore[union-attr]
    call = Call("2", "Reset", {}, dest="CS-7", path=("CSMS-1",))
    assert node(call, UP) == Forward("b", Call("2", "Reset", {}, "CS-7", ("CSMS-1", "NODE-A")))


def test_unknown_destination(node: Node) -> None:
    unknown = node(Call("u", "Reset", {}, dest="CS-404", path=("CSMS-1",)), UP)
    assert isinstance(unknown, Reject) and unknown.reply.error_code == "UnknownClient"
    assert (unknown.link_id, unknown.reply.dest) == ("up", "CSMS-1")
    assert isinstance(node(Send("u", "Notify", {}, dest="CS-404", path=("CSMS-1",)), UP), Drop)
    assert isinstance(node(CallResult("u", {}, dest="CS-404", path=("CSMS-1",)), UP), Drop)


def test_frame_is_never_sent_back_where_it_came_from(node: Node) -> None:
    node.table.learn("CS-7", "b", 0.0)
    decision = node(Call("1", "DataTransfer", {}, dest="CS-7", path=("NODE-B",)), B)
    assert isinstance(decision, Reject) and decision.reply.error_code == "UnknownClient"


def test_standard_link_carries_only_its_station(node: Node) -> None:
    node.table.add_static("CS-9", "s2")
    decision = node(Call("1", "Reset", {}, dest="CS-9", path=("CSMS-1",)), UP)
    assert isinstance(decision, Reject) and "carries only CS-2" in decision.reason


def test_upstream_down_holds_frame(node: Node) -> None:
    node.table.remove_link("up")
    decision = node(Call("t", "TransactionEvent", {}), S1)
    assert isinstance(decision, Hold) and decision.link_id == "up"
    assert decision.frame.path == ("CS-1", "NODE-A")
    assert decision.reply == CallError("t", "NetworkingError", "upstream up unavailable", {})
    assert decision.reply_link == "s1"
    assert frame_for_link(decision.frame, UP) == decision.frame
    assert frame_for_link(decision.frame, S1) == Call("t", "TransactionEvent", {})
    sent = node(Send("m", "NotifyPeriodicEventStream", {}), S1)
    assert isinstance(sent, Hold) and sent.reply is None


def test_broadcast_send_floods_overlay_links(node: Node) -> None:
    flood = Send("b1", "NotifyEvent", {}, dest="*", path=("NODE-C",))
    decision = node(flood, C)
    assert isinstance(decision, Fanout)
    deliver, *forwards = decision.decisions
    assert deliver == Deliver(flood, "c")
    assert [(f.link_id, f.frame.path) for f in forwards] == [
        ("b", ("NODE-C", "NODE-A")),
        ("up", ("NODE-C", "NODE-A")),
    ]
    split = node(Send("b2", "NotifyEvent", {}, dest="*", path=("X-9", "CSMS-1", "NODE-B")), B)
    assert isinstance(split, Fanout)
    assert [d.link_id for d in split.decisions] == ["b", "c"]  # not to CSMS-1: it is in PATH
    refused = node(Call("b3", "Reset", {}, dest="*", path=("NODE-C",)), C)
    assert isinstance(refused, Reject) and "only for SEND" in refused.reason


def test_filter_rejects_drops_and_lets_responses_through() -> None:
    rules = {
        "rules": [
            {"action": "DataTransfer", "direction": "up", "verdict": "drop"},
            {"action": "Set*", "source": "ANALYTICS", "verdict": "reject"},
        ]
    }
    node = Node(filters=ForwardingFilter.from_config(rules))
    node.table.add_link(LinkInfo("an", "overlay", "ANALYTICS", "upstream"))
    assert isinstance(node(Call("1", "DataTransfer", {}), S1), Drop)
    rejected = node(
        Call("2", "SetVariables", {}, dest="CS-1", path=("ANALYTICS",)), node.table.link("an")
    )
    assert isinstance(rejected, Reject) and rejected.reply.error_code == "SecurityError"
    assert rejected.link_id == "an" and rejected.reply.dest == "ANALYTICS"
    assert isinstance(
        node(Call("3", "DataTransfer", {}, dest="CS-1", path=("CSMS-1",)), UP), Forward
    )
    assert isinstance(node(CallResult("3", {}), S1), Forward)


def test_local_delivery_and_aliases() -> None:
    csms = Node(aliases=frozenset({CSMS}))
    decision = csms(Call("1", "BootNotification", {}), S1)
    assert decision == Deliver(Call("1", "BootNotification", {}, dest=CSMS, path=("CS-1",)), "s1")
    to_me = Call("2", "Ping", {}, dest="NODE-A", path=("CSMS-1",))
    assert Node()(to_me, UP) == Deliver(to_me, "up")


def test_overlay_frame_without_routing_fields_is_a_format_violation(node: Node) -> None:
    decision = node(Call("1", "Heartbeat", {}), B)
    assert isinstance(decision, Reject) and decision.reply.error_code == "FormatViolation"


def test_station_callresulterror_goes_to_csms(node: Node) -> None:
    decision = node(CallResultError("9", "FormatViolation", "bad", {}), S1)
    assert isinstance(decision, Forward) and decision.frame.dest == CSMS


# --- originate and timeouts ------------------------------------------------------------


def test_node_calls_its_station_and_gets_answer(node: Node) -> None:
    kwargs: dict[str, Any] = {"node_id": "NODE-A", "table": node.table, "pending": node.pending}
    out = originate(Call("n1", "GetVariables", {}, dest="CS-2"), now=0.0, **kwargs)
    assert out == Forward("s2", Call("n1", "GetVariables", {}))
    answer = node(CallResult("n1", {"ok": 1}), S2)
    assert answer == Deliver(CallResult("n1", {"ok": 1}, dest="NODE-A", path=("CS-2",)), "s2")
    up = originate(Call("n2", "Notify", {}, dest="CSMS-1"), now=0.0, **kwargs)
    assert up == Forward("up", Call("n2", "Notify", {}, dest="CSMS-1", path=("NODE-A",)))
    lost = originate(Call("n3", "Notify", {}, dest="NOWHERE"), now=0.0, **kwargs)
    assert isinstance(lost, Reject) and lost.link_id is None
    flood = originate(Send("n4", "Notify", {}, dest="*"), now=0.0, **kwargs)
    assert [d.link_id for d in flood.decisions] == ["b", "c", "up"]
    with pytest.raises(ValueError):
        originate(Call("n5", "Notify", {}), now=0.0, **kwargs)


def test_expired_request_answered_with_error(node: Node) -> None:
    node(Call("42", "Authorize", {}), S1, now=0.0)
    node(Call("43", "Reset", {}, dest="CS-2", path=("CSMS-1",)), UP, now=10.0)
    assert node.pending.expire(29.0) == []
    (expired,) = node.pending.expire(30.0)
    reply = timeout_reply(expired, node_id="NODE-A", table=node.table, description="timeout")
    assert reply == Forward("s1", CallError("42", "NetworkingError", "timeout", {"dest": CSMS}))
    (second,) = node.pending.expire(40.0)
    to_csms = timeout_reply(second, node_id="NODE-A", table=node.table, description="timeout")
    assert to_csms.frame.dest == "CSMS-1" and to_csms.link_id == "up"


def test_upstream_lost_fails_pending_calls_in_time(node: Node) -> None:
    node(Call("1", "Authorize", {}), S1)
    node(Call("2", "Authorize", {}), S2)
    node.table.remove_link("up")
    replies = [
        timeout_reply(e, node_id="NODE-A", table=node.table, description="upstream lost")
        for e in node.pending.drop_link("up")
    ]
    assert sorted(r.link_id for r in replies) == ["s1", "s2"]
    node.table.add_link(UP)
    assert isinstance(node(Call("3", "Authorize", {}), S1), Forward)
    node.table.remove_link("s1")
    (orphan,) = node.pending.drop_link("s1")
    gone = timeout_reply(orphan, node_id="NODE-A", table=node.table, description="x")
    assert isinstance(gone, Drop)  # the asker is gone too
