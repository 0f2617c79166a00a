"""Property tests of the sans-I/O RPC session: random interleavings, no sockets, no clock.

A hypothesis state machine submits calls, sends their CALLs, answers them with right, wrong,
stale and duplicate ids, feeds malformed answers and the peer's requests, withdraws calls,
lets time pass, closes and reopens the link; after every step the invariants hold:

- at most one of our calls is in flight, and it is the oldest one not yet ended;
- calls get their turn (a message id) in submission order, ids never repeat;
- every call ends exactly once, and ends only through what the session returned;
- an answer ends the call in flight only when its message id is that call's;
- a call times out only once its deadline (sent at + timeout) has passed;
- the peer's requests are answered one at a time, in arrival order (also after an answer
  was abandoned).
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ocppnet.errors import CallErrorReceived, CallTimeout, ConnectionClosed
from ocppnet.rpc.frames import Call, CallError, CallResult, CallResultError, Request, Send
from ocppnet.rpc.session import CallState, OutgoingCall, RpcSession

HEARTBEAT_OK = {"currentTime": "2025-01-01T00:00:00Z"}
HEARTBEAT_BAD = {"currentTime": 17}
ACTIONS = ("Heartbeat", "NoSuchAction")


class SessionMachine(RuleBasedStateMachine):
    """One session, the calls submitted to it, and what the session said about them."""

    def __init__(self) -> None:
        super().__init__()
        self.session = RpcSession("2.1", remote_id="PEER", id_prefix="p-")
        self.now = 0.0
        self.calls: list[OutgoingCall] = []  # in submission order
        self.endings: dict[int, int] = {}  # id(call) -> times the session reported its end
        self.sent_at: dict[int, float] = {}
        self.ids_given: list[str] = []
        self.arrived: list[Request] = []  # the peer's requests, in arrival order
        self.dispatched: list[Request] = []  # in the order the session handed them out
        self.forgotten: set[str] = set()  # requests dropped by close()
        self.request_count = 0

    # --- helpers ----------------------------------------------------------------------

    def ended(self, call: OutgoingCall | None) -> None:
        if call is None:
            return
        assert call.state is CallState.ENDED
        self.endings[id(call)] = self.endings.get(id(call), 0) + 1
        self.note_ready()

    def note_ready(self) -> None:
        current = self.session.in_flight
        if current is not None and current.message_id not in self.ids_given:
            assert current.message_id is not None
            self.ids_given.append(current.message_id)

    def dispatch(self, request: Request | None) -> None:
        if request is not None:
            self.dispatched.append(request)

    # --- our calls --------------------------------------------------------------------

    @rule(timeout=st.floats(min_value=0.5, max_value=30.0))
    @precondition(lambda self: self.session.is_open)
    def submit(self, timeout: float) -> None:
        call = self.session.submit("Heartbeat", {}, timeout, handle=len(self.calls))
        self.calls.append(call)
        self.note_ready()

    @rule()
    def send_the_call_in_flight(self) -> None:
        call = self.session.in_flight
        if call is None or call.state is not CallState.READY:
            return
        frame = call.frame()
        assert frame.message_id == call.message_id and frame.action == call.action
        self.session.sent(call, self.now)
        self.sent_at[id(call)] = self.now
        assert call.deadline == self.now + call.timeout

    @rule(kind=st.sampled_from(["result", "invalid", "callerror"]))
    def answer_the_call_in_flight(self, kind: str) -> None:
        call = self.session.in_flight
        if call is None:
            return
        assert call.message_id is not None
        frame: CallResult | CallError
        if kind == "callerror":
            frame = CallError(call.message_id, "GenericError", "no", {"k": 1})
        else:
            frame = CallResult(call.message_id, HEARTBEAT_OK if kind == "result" else HEARTBEAT_BAD)
        ended = self.session.receive_response(frame)
        assert ended is call
        self.ended(ended)
        if kind == "result":
            assert (call.outcome, call.result, call.error) == ("result", HEARTBEAT_OK, None)
        elif kind == "callerror":
            assert call.outcome == "error" and isinstance(call.error, CallErrorReceived)
            assert call.error.details == {"k": 1}
        else:
            assert call.outcome == "error" and call.error is not None
            assert isinstance(call.reply, CallResultError)  # 2.1 tells the peer
            assert call.reply.message_id == call.message_id

    @rule(
        message_id=st.one_of(st.text(max_size=8), st.sampled_from(["p-0", "p-99", "p-1"])),
        callerror=st.booleans(),
    )
    def answer_with_another_id(self, message_id: str, callerror: bool) -> None:
        """Unknown, stale and duplicate ids end nothing (unless it is the id in flight)."""
        current = self.session.in_flight
        if current is not None and current.message_id == message_id:
            return
        frame = (CallError(message_id, "GenericError", "", {}) if callerror
                 else CallResult(message_id, HEARTBEAT_OK))
        assert self.session.receive_response(frame) is None
        assert self.session.in_flight is current

    @rule(data=st.data())
    def answer_an_ended_call_again(self, data: st.DataObject) -> None:
        """A duplicate or late answer to a call that ended matches nothing."""
        done = [c for c in self.calls if c.state is CallState.ENDED and c.message_id]
        if not done:
            return
        call = data.draw(st.sampled_from(done))
        assert call.message_id is not None
        current = self.session.in_flight
        assert self.session.receive_response(CallResult(call.message_id, HEARTBEAT_OK)) is None
        assert self.session.receive_malformed(call.message_id, "FormatViolation", "x") is None
        assert self.session.in_flight is current

    @rule(right_id=st.booleans())
    def malformed_answer(self, right_id: bool) -> None:
        current = self.session.in_flight
        message_id = current.message_id if current is not None and right_id else "zz"
        ended = self.session.receive_malformed(message_id, "FormatViolation", "bad")
        if current is not None and right_id:
            assert ended is current and current.outcome == "error"
            assert current.error is not None and "malformed" in current.error.description
        else:
            assert ended is None
        self.ended(ended)

    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        if not self.calls:
            return
        call = data.draw(st.sampled_from(self.calls))
        was_ended = call.state is CallState.ENDED
        ended = self.session.withdraw(call)
        assert (ended is None) == was_ended
        if ended is not None:
            assert ended.outcome == "withdrawn"
        self.ended(ended)

    @rule(dt=st.floats(min_value=0.0, max_value=20.0))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        current = self.session.in_flight
        ended = self.session.expire(self.now)
        if ended is None:
            assert (current is None or current.deadline is None
                    or current.deadline > self.now)
        else:
            assert ended is current and ended.outcome == "timeout"
            assert isinstance(ended.error, CallTimeout)
            assert self.sent_at[id(ended)] + ended.timeout <= self.now
        self.ended(ended)

    @rule()
    def close_and_reopen(self) -> None:
        before = [c for c in self.calls if c.state is not CallState.ENDED]
        waiting = [r.message_id for r in self.arrived if r not in self.dispatched]
        ended = self.session.close("link lost")
        assert ended == before  # the one in flight first, then the queue in order
        for call in ended:
            assert call.outcome == "closed" and isinstance(call.error, ConnectionClosed)
            self.ended(call)
        self.forgotten.update(waiting)
        self.session.open()

    # --- the peer's requests ----------------------------------------------------------

    @rule(action=st.sampled_from(ACTIONS), send=st.booleans())
    def peer_request(self, action: str, send: bool) -> None:
        self.request_count += 1
        message_id = f"r{self.request_count}"
        request: Request = Send(message_id, action, {}) if send else Call(message_id, action, {})
        self.arrived.append(request)
        self.dispatch(self.session.receive_request(request))

    @rule()
    @precondition(lambda self: self.session.answering is not None)
    def answer_the_peer(self) -> None:
        request = self.session.answering
        assert request is not None
        refusal = self.session.refusal(request, request.action == "Heartbeat")
        if request.action == "NoSuchAction":
            assert refusal is not None and refusal.code == "NotImplemented"
            reply = self.session.error_frame(request, refusal)
            assert (reply is None) == isinstance(request, Send)
        elif isinstance(request, Call):
            answer = self.session.answer(request, HEARTBEAT_OK)
            assert isinstance(answer, CallResult) and answer.message_id == request.message_id
        self.dispatch(self.session.answered())

    @rule()
    @precondition(lambda self: self.session.answering is not None)
    def abandon_the_answer(self) -> None:
        """The worker was cancelled mid-answer: the waiting requests keep their order."""
        self.session.stop_answering()
        assert self.session.answering is None

    # --- invariants -------------------------------------------------------------------

    @invariant()
    def at_most_one_in_flight_and_it_is_the_oldest_unended(self) -> None:
        flying = [c for c in self.calls if c.in_flight]
        assert len(flying) <= 1
        assert self.session.in_flight is (flying[0] if flying else None)
        unended = [c for c in self.calls if c.state is not CallState.ENDED]
        if unended:
            assert unended[0] is self.session.in_flight
            assert all(c.state is CallState.QUEUED for c in unended[1:])
        assert list(self.session.queued) == unended[1:]

    @invariant()
    def turns_come_in_submission_order_and_ids_never_repeat(self) -> None:
        numbers = [int(c.message_id.removeprefix("p-")) for c in self.calls if c.message_id]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        assert len(set(self.ids_given)) == len(self.ids_given)

    @invariant()
    def every_call_ends_exactly_once(self) -> None:
        for call in self.calls:
            count = self.endings.get(id(call), 0)
            assert count == (1 if call.state is CallState.ENDED else 0), call
            if call.state is CallState.ENDED:
                assert call.outcome in {"result", "error", "timeout", "closed", "withdrawn"}

    @invariant()
    def the_peer_is_answered_one_at_a_time_in_arrival_order(self) -> None:
        expected = [r for r in self.arrived if r.message_id not in self.forgotten]
        assert self.dispatched == expected[:len(self.dispatched)]
        answering = self.session.answering
        assert answering is None or answering is self.dispatched[-1]
        undispatched = len(expected) - len(self.dispatched)
        assert self.session.waiting_requests == undispatched

    def teardown(self) -> None:
        for call in self.session.close("end of test"):
            self.ended(call)
        assert all(self.endings.get(id(c)) == 1 for c in self.calls)


SessionMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_session_rules = SessionMachine.TestCase


def test_a_closed_session_refuses_calls_and_sends() -> None:
    session = RpcSession("2.1", remote_id="PEER", id_prefix="p-", is_open=False)
    for attempt in (lambda: session.submit("Heartbeat", {}, 1.0),
                    lambda: session.send("Heartbeat", {})):
        try:
            attempt()
        except ConnectionClosed as exc:
            assert "PEER" in exc.description
        else:
            raise AssertionError("a closed session took a call")
