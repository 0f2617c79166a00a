"""The call/answer rules of one logical OCPP peer, without I/O (sans-I/O).

An :class:`RpcSession` is told what happens (a call is submitted, its CALL went out at ``now``,
a frame arrived, time is ``now``, the link closed) and answers with values: the frame to send,
the call that ended and how, the request to answer next. It owns no socket, clock, task or
future; ``transport.connection.Connection`` is the asyncio driver that acts on what it says.

The rules (OCPP-J, section 4.1 "Synchronicity"):

- One of our CALLs is in flight at a time; later ones wait in FIFO order. A call's timeout
  runs from the moment its CALL is on the wire (``sent(call, now)``), not while it queues.
- An answer (CALLRESULT, CALLERROR, a malformed frame whose id the codec recovered) ends the
  call in flight when its message id matches, and only then; anything else is stale or
  unknown (:meth:`RpcSession.receive_response` returns None).
- Every call ends exactly once: answered, failed (CALLERROR, invalid response), timed out,
  closed with the link, or withdrawn by its caller.
- The peer's requests (CALL and SEND) are answered one at a time in arrival order: a request
  that arrives while another is unanswered waits behind it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, TypeAlias

from ocppnet.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionClosed,
    NotSupported,
    OcppNetError,
    error_class,
)
from ocppnet.rpc.codec import MAX_DESCRIPTION_LENGTH
from ocppnet.rpc.frames import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    JsonObject,
    Request,
    Send,
)
from ocppnet.rpc.versions import check_version, wire_error_code
from ocppnet.validation import is_known_action, validate

__all__ = ["CallState", "Outcome", "OutgoingCall", "Rejection", "RpcSession", "local_error"]

Outcome: TypeAlias = Literal["result", "error", "timeout", "closed", "withdrawn"]


class CallState(Enum):
    """Where one of our calls is: QUEUED -> READY -> WAITING -> ENDED (READY and WAITING are
    "in flight"; any state may go straight to ENDED)."""

    QUEUED = "queued"  # behind the call in flight
    READY = "ready"  # in flight, has its message id; the driver is sending its CALL
    WAITING = "waiting"  # the CALL is on the wire; the deadline runs
    ENDED = "ended"


class OutgoingCall:
    """One of our calls, from submission to its end.

    After it ended, ``outcome`` says how ("result", "error", "timeout", "closed", "withdrawn"),
    ``result`` holds the CALLRESULT payload or ``error`` the exception for the caller, and
    ``reply`` the frame to send the peer about its answer (2.1: a CALLRESULTERROR for an invalid
    CALLRESULT). ``handle`` is the driver's (e.g. the future its caller waits on).
    """

    __slots__ = (
        "action", "deadline", "error", "handle", "message_id", "outcome", "payload", "reply",
        "result", "state", "timeout",
    )

    def __init__(self, action: str, payload: JsonObject, timeout: float, handle: Any) -> None:
        self.action = action
        self.payload = payload
        self.timeout = timeout
        self.handle = handle
        self.state = CallState.QUEUED
        self.message_id: str | None = None
        self.deadline: float | None = None
        self.outcome: Outcome | None = None
        self.result: JsonObject | None = None
        self.error: OcppNetError | None = None
        self.reply: CallResultError | None = None

    @property
    def in_flight(self) -> bool:
        return self.state is CallState.READY or self.state is CallState.WAITING

    def frame(self) -> Call:
        """The CALL to send (only once the call is READY: it needs its message id)."""
        if self.message_id is None:
            raise RuntimeError(f"{self.action} call is {self.state.value}, not in flight")
        return Call(self.message_id, self.action, self.payload)

    def __repr__(self) -> str:
        return (f"OutgoingCall({self.action!r}, id={self.message_id!r}, "
                f"state={self.state.value}, outcome={self.outcome!r})")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the peer's request is not answered with a CALLRESULT; ``reason`` names it in logs
    ("no_handler", "invalid_request", "handler_error", "handler_failed", "handler_bad_result",
    "handler_invalid_response"). ``code`` is in ocppnet's spelling (OCPP 2.x); ``details``
    go on the wire, ``cause`` only into the log."""

    code: str
    description: str
    reason: str
    details: JsonObject = field(default_factory=dict)
    cause: str = ""


def local_error(code: str, description: str) -> OcppNetError:
    """The ocppnet exception for an error code in any version's spelling."""
    return error_class(wire_error_code("2.1", code))(description)


def _cut(description: str) -> str:
    if len(description) <= MAX_DESCRIPTION_LENGTH:
        return description
    return description[:MAX_DESCRIPTION_LENGTH - 3] + "..."


class RpcSession:
    """The state of one logical peer speaking OCPP ``version`` ("1.6", "2.0.1", "2.1").

    ``id_prefix`` makes our message ids unique across sessions (``<prefix><counter>``); the
    driver draws it at random. A session starts open (unless ``is_open`` is False);
    :meth:`close` ends everything in flight and :meth:`open` takes calls again (a new link).
    """

    __slots__ = (
        "_answering", "_count", "_in_flight", "_inbox", "_open", "_prefix", "_queue",
        "remote_id", "validate_messages", "version",
    )

    def __init__(
        self, version: str, *, remote_id: str, id_prefix: str, validate_messages: bool = True,
        is_open: bool = True,
    ) -> None:
        self.version = check_version(version)
        self.remote_id = remote_id
        self.validate_messages = validate_messages
        self._prefix = id_prefix
        self._count = 0
        self._open = is_open
        self._in_flight: OutgoingCall | None = None
        self._queue: deque[OutgoingCall] | None = None  # created when a second call waits
        self._answering: Request | None = None  # the peer's request being answered
        self._inbox: deque[Request] | None = None  # created when a second request waits

    # --- state --------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def in_flight(self) -> OutgoingCall | None:
        """Our call in flight (READY or WAITING), if any."""
        return self._in_flight

    @property
    def queued(self) -> tuple[OutgoingCall, ...]:
        """Our calls waiting behind the one in flight, first to go first."""
        return tuple(self._queue) if self._queue else ()

    @property
    def next_deadline(self) -> float | None:
        """When the call in flight times out, once its CALL is on the wire."""
        call = self._in_flight
        return call.deadline if call is not None else None

    @property
    def answering(self) -> Request | None:
        """The peer's request being answered, if any."""
        return self._answering

    @property
    def waiting_requests(self) -> int:
        """The peer's requests waiting behind the one being answered."""
        return len(self._inbox) if self._inbox else 0

    def open(self, version: str | None = None) -> None:
        """A (new) link: calls are taken again, optionally in another version."""
        if version is not None:
            self.version = check_version(version)
        self._open = True

    def close(self, reason: str) -> list[OutgoingCall]:
        """The link is gone: the call in flight and every queued call end ("closed", with
        ConnectionClosed(reason)), the peer's waiting requests are forgotten. Returns the
        calls that ended, the one in flight first."""
        self._open = False
        ended: list[OutgoingCall] = []
        call, self._in_flight = self._in_flight, None
        if call is not None:
            ended.append(self._end(call, "closed", error=ConnectionClosed(reason)))
        queue, self._queue = self._queue, None
        while queue:
            ended.append(self._end(queue.popleft(), "closed", error=ConnectionClosed(reason)))
        if self._inbox:
            self._inbox.clear()
        return ended

    def next_message_id(self) -> str:
        self._count += 1
        return f"{self._prefix}{self._count}"

    # --- our calls ----------------------------------------------------------------------

    def check_request(self, action: str, payload: JsonObject) -> None:
        """Raise the validator's error (FormatViolation family) for an invalid request."""
        if self.validate_messages:
            failure = validate(self.version, action, "request", payload)
            if failure is not None:
                raise local_error(failure.error_code, f"{action}Request: {failure.description}")

    def submit(
        self, action: str, payload: JsonObject, timeout: float, handle: Any = None
    ) -> OutgoingCall:
        """A new call: READY at once when nothing is in flight (send ``call.frame()``, then
        :meth:`sent`), else QUEUED until the calls before it end. Raises the validation error
        for an invalid request and ConnectionClosed when the session is closed."""
        self.check_request(action, payload)
        if not self._open:
            raise ConnectionClosed(f"not connected to {self.remote_id}")
        call = OutgoingCall(action, payload, timeout, handle)
        if self._in_flight is None:
            self._make_ready(call)
        else:
            if self._queue is None:
                self._queue = deque()
            self._queue.append(call)
        return call

    def sent(self, call: OutgoingCall, now: float) -> None:
        """The CALL of ``call`` is on the wire at ``now``: its deadline starts to run. A call
        that ended meanwhile (answered during the send, closed) stays as it is."""
        if call.state is CallState.READY:
            call.state = CallState.WAITING
            call.deadline = now + call.timeout

    def send_failed(self, call: OutgoingCall, error: OcppNetError) -> OutgoingCall | None:
        """Sending the CALL of ``call`` failed with ``error``: it ends ("error")."""
        if call is not self._in_flight:
            return None
        return self._finish(call, "error", error=error)

    def withdraw(self, call: OutgoingCall) -> OutgoingCall | None:
        """The caller gave up on ``call`` (e.g. it was cancelled): it ends ("withdrawn"),
        wherever it is; None when it had ended already."""
        if call is self._in_flight:
            return self._finish(call, "withdrawn")
        if call.state is CallState.QUEUED and self._queue is not None:
            self._queue.remove(call)
            return self._end(call, "withdrawn")
        return None

    def expire(self, now: float) -> OutgoingCall | None:
        """The call in flight if its deadline passed at ``now``: it ends ("timeout",
        CallTimeout). None when nothing expired (the driver re-arms at ``next_deadline``)."""
        call = self._in_flight
        if call is None or call.deadline is None or call.deadline > now:
            return None
        error = CallTimeout(f"no response to {call.action} within {call.timeout}s")
        return self._finish(call, "timeout", error=error)

    def receive_response(self, frame: CallResult | CallError) -> OutgoingCall | None:
        """The peer's answer: the call it ends, or None when it matches nothing in flight
        (late after a timeout, a duplicate, an unknown id: the driver logs and drops it)."""
        call = self._in_flight
        if call is None or call.message_id != frame.message_id:
            return None
        if isinstance(frame, CallError):
            error = CallErrorReceived(frame.error_code, frame.error_description,
                                      frame.error_details)
            return self._finish(call, "error", error=error)
        if self.validate_messages:
            failure = validate(self.version, call.action, "response", frame.payload)
            if failure is not None:
                description = f"{call.action}Response: {failure.description}"
                if self.version == "2.1":
                    call.reply = CallResultError(frame.message_id, failure.error_code,
                                                 description, {})
                return self._finish(call, "error",
                                    error=local_error(failure.error_code, description))
        return self._finish(call, "result", result=frame.payload)

    def receive_malformed(
        self, message_id: str | None, code: str, description: str
    ) -> OutgoingCall | None:
        """A frame the codec could not decode, with the message id it recovered: ends the
        call in flight with that id ("error"), else None."""
        call = self._in_flight
        if call is None or message_id is None or call.message_id != message_id:
            return None
        return self._finish(call, "error",
                            error=local_error(code, f"malformed response: {description}"))

    def send(self, action: str, payload: JsonObject) -> Send:
        """An OCPP 2.1 SEND (no response, not queued behind the call in flight); raises
        NotSupported before 2.1, the validation error, ConnectionClosed when closed."""
        if self.version != "2.1":
            raise NotSupported(f"SEND needs OCPP 2.1, this link speaks {self.version}")
        self.check_request(action, payload)
        if not self._open:
            raise ConnectionClosed(f"not connected to {self.remote_id}")
        return Send(self.next_message_id(), action, payload)

    def _make_ready(self, call: OutgoingCall) -> None:
        call.message_id = self.next_message_id()
        call.state = CallState.READY
        self._in_flight = call

    def _finish(self, call: OutgoingCall, outcome: Outcome, *, result: JsonObject | None = None,
                error: OcppNetError | None = None) -> OutgoingCall:
        """End the call in flight and make the next queued one READY."""
        self._in_flight = None
        self._end(call, outcome, result=result, error=error)
        queue = self._queue
        if queue:
            self._make_ready(queue.popleft())
        return call

    @staticmethod
    def _end(call: OutgoingCall, outcome: Outcome, *, result: JsonObject | None = None,
             error: OcppNetError | None = None) -> OutgoingCall:
        if call.state is CallState.ENDED:
            raise RuntimeError(f"{call!r} ended twice")  # a bug in the session, never input
        call.state = CallState.ENDED
        call.outcome = outcome
        call.result = result
        call.error = error
        return call

    # --- the peer's requests ------------------------------------------------------------

    def receive_request(self, request: Request) -> Request | None:
        """The peer's CALL or SEND arrived: returns the request to answer now (this one, or
        one that waited before it), None when one is being answered (:meth:`answered` hands
        out the next)."""
        if self._answering is not None or self._inbox:
            if self._inbox is None:
                self._inbox = deque()
            self._inbox.append(request)
            if self._answering is not None:
                return None
            request = self._inbox.popleft()
        self._answering = request
        return request

    def answered(self) -> Request | None:
        """The request being answered is done (replied to or not): the next one to answer."""
        inbox = self._inbox
        self._answering = inbox.popleft() if inbox else None
        return self._answering

    def stop_answering(self) -> None:
        """The request being answered was abandoned (its worker was cancelled); the waiting
        ones stay, and the next request that arrives starts answering them in order."""
        self._answering = None

    def refusal(self, request: Request, has_handler: bool) -> Rejection | None:
        """Why ``request`` is not for a handler (none registered, invalid payload), or None."""
        action = request.action
        if not has_handler:
            if is_known_action(self.version, action):
                return Rejection("NotSupported", f"{action} is not supported by this endpoint",
                                 "no_handler")
            return Rejection("NotImplemented", f"unknown action {action}", "no_handler")
        if self.validate_messages:
            failure = validate(self.version, action, "request", request.payload)
            if failure is not None:
                return Rejection(failure.error_code, failure.description, "invalid_request")
        return None

    def answer(self, request: Call, result: object) -> CallResult | Rejection:
        """The CALLRESULT for a handler's ``result``, or why it cannot be one."""
        if not isinstance(result, dict):
            return Rejection("InternalError", f"{request.action} handler returned no object",
                             "handler_bad_result", cause=type(result).__name__)
        if self.validate_messages:
            failure = validate(self.version, request.action, "response", result)
            if failure is not None:
                return Rejection("InternalError",
                                 f"{request.action} handler gave an invalid response",
                                 "handler_invalid_response",
                                 cause=f"{failure.error_code}: {failure.description}")
        return CallResult(request.message_id, result)

    def error_frame(self, request: Request, rejection: Rejection) -> CallError | None:
        """The CALLERROR answering ``request`` (code in the version's spelling, description
        cut to the limit); None for a SEND, which is never answered."""
        if isinstance(request, Send):
            return None
        return CallError(request.message_id, wire_error_code(self.version, rejection.code),
                         _cut(rejection.description), rejection.details)
