"""The sans-I/O RPC session, one rule at a time: values in, values out, ``now`` given."""

from __future__ import annotations

import pytest

from ocppnet.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionClosed,
    FormatViolation,
    NotSupported,
    OccurrenceConstraintViolation,
    TypeConstraintViolation,
)
from ocppnet.rpc.frames import Call, CallError, CallResult, CallResultError, Send
from ocppnet.rpc.session import CallState, Rejection, RpcSession

HEARTBEAT_OK = {"currentTime": "2025-01-01T00:00:00Z"}


def session(version: str = "2.0.1", **kwargs: bool) -> RpcSession:
    return RpcSession(version, remote_id="CP1", id_prefix="ab-", **kwargs)


def test_a_call_is_ready_at_once_and_its_deadline_runs_from_sending() -> None:
    s = session()
    call = s.submit("Heartbeat", {}, 5.0)
    assert call.state is CallState.READY and call.message_id == "ab-1"
    assert call.frame() == Call("ab-1", "Heartbeat", {})
    assert s.next_deadline is None and s.expire(1000.0) is None  # not on the wire yet
    s.sent(call, 100.0)
    assert call.state is CallState.WAITING and s.next_deadline == 105.0
    assert s.expire(104.999) is None
    assert s.expire(105.0) is call
    assert call.outcome == "timeout" and isinstance(call.error, CallTimeout)
    assert "Heartbeat" in call.error.description and s.in_flight is None


def test_later_calls_queue_and_take_their_turn_in_order() -> None:
    s = session()
    first, second, third = (s.submit("Heartbeat", {}, 5.0) for _ in range(3))
    assert [c.state for c in (first, second, third)] == [
        CallState.READY, CallState.QUEUED, CallState.QUEUED]
    assert second.message_id is None
    with pytest.raises(RuntimeError, match="queued"):
        second.frame()
    assert s.queued == (second, third)
    s.sent(first, 0.0)
    assert s.receive_response(CallResult("ab-1", HEARTBEAT_OK)) is first
    assert first.result == HEARTBEAT_OK and s.in_flight is second
    assert second.message_id == "ab-2" and second.state is CallState.READY
    assert s.withdraw(second) is second and second.outcome == "withdrawn"
    assert s.in_flight is third and third.message_id == "ab-3"


def test_a_queued_call_withdrawn_leaves_the_queue_and_ends_once() -> None:
    s = session()
    s.submit("Heartbeat", {}, 5.0)
    queued = s.submit("Heartbeat", {}, 5.0)
    assert s.withdraw(queued) is queued and s.queued == ()
    assert s.withdraw(queued) is None


def test_answers_match_only_the_call_in_flight() -> None:
    s = session()
    call = s.submit("Heartbeat", {}, 5.0)
    assert s.receive_response(CallResult("other", HEARTBEAT_OK)) is None
    assert s.receive_response(CallError("other", "GenericError", "", {})) is None
    assert s.in_flight is call
    assert s.receive_response(CallError("ab-1", "GenericError", "nope", {"a": 1})) is call
    assert isinstance(call.error, CallErrorReceived)
    assert (call.error.code, call.error.details) == ("GenericError", {"a": 1})
    assert s.receive_response(CallResult("ab-1", HEARTBEAT_OK)) is None  # a duplicate


def test_an_answer_during_the_send_ends_the_call_and_sent_changes_nothing() -> None:
    s = session()
    call = s.submit("Heartbeat", {}, 5.0)
    assert s.receive_response(CallResult("ab-1", HEARTBEAT_OK)) is call
    s.sent(call, 1.0)
    assert call.state is CallState.ENDED and call.deadline is None


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_an_invalid_result_fails_the_call_and_21_answers_callresulterror(version: str) -> None:
    s = session(version)
    call = s.submit("Heartbeat", {}, 5.0)
    assert s.receive_response(CallResult("ab-1", {"currentTime": 5})) is call
    assert isinstance(call.error, TypeConstraintViolation)
    assert call.error.description.startswith("HeartbeatResponse: ")
    if version == "2.1":
        assert isinstance(call.reply, CallResultError)
        assert (call.reply.message_id, call.reply.error_code) == ("ab-1",
                                                                 "TypeConstraintViolation")
    else:
        assert call.reply is None


def test_without_validation_any_result_is_taken() -> None:
    s = session(validate_messages=False)
    call = s.submit("BootNotification", {"reason": "PowerUp"}, 5.0)  # invalid, not checked
    assert s.receive_response(CallResult("ab-1", {"x": 1})) is call and call.result == {"x": 1}


def test_a_malformed_answer_with_the_id_in_flight_fails_the_call() -> None:
    s = session()
    call = s.submit("Heartbeat", {}, 5.0)
    assert s.receive_malformed(None, "FormatViolation", "x") is None
    assert s.receive_malformed("zz", "FormatViolation", "x") is None
    assert s.receive_malformed("ab-1", "FormationViolation", "payload is 17") is call
    assert isinstance(call.error, FormatViolation)
    assert call.error.description == "malformed response: payload is 17"


def test_an_invalid_request_is_refused_before_it_gets_an_id() -> None:
    s = session()
    with pytest.raises(OccurrenceConstraintViolation, match=r"BootNotificationRequest: .*charg"):
        s.submit("BootNotification", {"reason": "PowerUp"}, 5.0)
    assert s.in_flight is None and s.next_message_id() == "ab-1"


def test_close_ends_the_call_in_flight_and_the_queue_and_forgets_waiting_requests() -> None:
    s = session()
    calls = [s.submit("Heartbeat", {}, 5.0) for _ in range(3)]
    s.receive_request(Call("r1", "Heartbeat", {}))
    s.receive_request(Call("r2", "Heartbeat", {}))
    assert s.close("link lost") == calls
    assert all(isinstance(c.error, ConnectionClosed) and c.outcome == "closed" for c in calls)
    assert s.waiting_requests == 0 and not s.is_open
    with pytest.raises(ConnectionClosed, match="not connected to CP1"):
        s.submit("Heartbeat", {}, 5.0)
    s.open("2.1")
    # queued calls never got an id: the next one follows the last id handed out
    assert s.version == "2.1" and s.submit("Heartbeat", {}, 5.0).message_id == "ab-2"


def test_send_frames_need_21_are_valid_and_not_queued() -> None:
    with pytest.raises(NotSupported, match=r"2\.0\.1"):
        session().send("Heartbeat", {})
    s = session("2.1")
    s.submit("Heartbeat", {}, 5.0)
    assert s.send("Heartbeat", {}) == Send("ab-2", "Heartbeat", {})
    with pytest.raises(OccurrenceConstraintViolation):
        s.send("BootNotification", {})


def test_requests_are_answered_one_at_a_time_in_arrival_order() -> None:
    s = session()
    one, two, three = (Call(f"r{i}", "Heartbeat", {}) for i in (1, 2, 3))
    assert s.receive_request(one) is one
    assert s.receive_request(two) is None and s.receive_request(three) is None
    assert s.answering is one and s.waiting_requests == 2
    assert s.answered() is two
    assert s.answered() is three
    assert s.answered() is None and s.answering is None


def test_an_abandoned_answer_leaves_the_waiting_requests_first_in_line() -> None:
    s = session()
    one, two, three = (Call(f"r{i}", "Heartbeat", {}) for i in (1, 2, 3))
    s.receive_request(one)
    s.receive_request(two)
    s.stop_answering()
    assert s.receive_request(three) is two  # the one that waited goes first
    assert s.answered() is three


def test_refusals_name_the_rule() -> None:
    s = session()
    assert s.refusal(Call("m", "Heartbeat", {}), True) is None
    unsupported = s.refusal(Call("m", "Heartbeat", {}), False)
    assert unsupported is not None
    assert (unsupported.code, unsupported.reason) == ("NotSupported", "no_handler")
    unknown = s.refusal(Call("m", "NoSuchAction", {}), False)
    assert unknown is not None and unknown.code == "NotImplemented"
    invalid = s.refusal(Call("m", "BootNotification", {"reason": "PowerUp"}), True)
    assert invalid is not None and invalid.code == "OccurrenceConstraintViolation"
    assert "chargingStation" in invalid.description


def test_handler_results_become_callresults_or_internal_errors() -> None:
    s = session()
    request = Call("m", "Heartbeat", {})
    assert s.answer(request, HEARTBEAT_OK) == CallResult("m", HEARTBEAT_OK)
    bad = s.answer(request, {"currentTime": "soon"})
    assert isinstance(bad, Rejection) and bad.code == "InternalError"
    assert bad.reason == "handler_invalid_response" and "currentTime" in bad.cause
    none = s.answer(request, None)
    assert isinstance(none, Rejection) and none.reason == "handler_bad_result"


def test_error_frames_speak_the_version_cut_long_descriptions_and_skip_send() -> None:
    rejection = Rejection("OccurrenceConstraintViolation", "x" * 300, "handler_error", {"d": 1})
    frame = session("1.6").error_frame(Call("m", "Heartbeat", {}), rejection)
    assert frame is not None
    assert frame.error_code == "OccurenceConstraintViolation"  # 1.6's spelling
    assert len(frame.error_description) == 255 and frame.error_description.endswith("...")
    assert frame.error_details == {"d": 1}
    assert session("2.1").error_frame(Send("m", "Heartbeat", {}), rejection) is None


def test_calls_never_end_twice() -> None:
    s = session()
    call = s.submit("Heartbeat", {}, 5.0)
    s.receive_response(CallResult("ab-1", HEARTBEAT_OK))
    assert s.withdraw(call) is None
    assert s.send_failed(call, ConnectionClosed("x")) is None
    assert s.close("x") == []
