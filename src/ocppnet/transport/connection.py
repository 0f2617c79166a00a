"""One logical OCPP peer, the asyncio driver of an :class:`~ocppnet.rpc.session.RpcSession`.

The session (``rpc/session.py``, sans-I/O) holds the call/answer rules: one CALL in flight per
direction, the FIFO queue, message ids, matching answers, deadlines, validation decisions. A
:class:`Connection` acts on what it says: it keeps a future per call, one timer for the call
in flight, and runs handlers (eagerly, in a task only once a handler waits).

A Connection owns no socket. It sends through a :class:`FrameSender` and is fed frames by
whoever reads the link (``await conn.handle_frame(frame)``): a direct WebSocket link feeds one
Connection, an overlay link feeds one per remote id. Frames it builds are in standard form
(``dest`` None); an overlay sender adds DEST and PATH on the way out.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import os
from collections.abc import Coroutine, Generator
from typing import Any, Protocol

from ocppnet.errors import CallErrorReceived, ConnectionClosed, DropRequest, OcppNetError
from ocppnet.rpc.codec import DecodeFailure
from ocppnet.rpc.frames import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    Frame,
    JsonObject,
    Request,
    Send,
)
from ocppnet.rpc.session import CallState, OutgoingCall, Rejection, RpcSession
from ocppnet.transport.handlers import CallContext, Handlers

log = logging.getLogger("ocppnet.transport.connection")

DEFAULT_CALL_TIMEOUT = 30.0


class FrameSender(Protocol):
    """Where a Connection's outgoing frames go; raises ConnectionClosed when it cannot send."""

    async def send_frame(self, frame: Frame) -> None: ...


class _Resumed(Coroutine[Any, Any, None]):
    """A coroutine that already ran up to ``yield yielded``, to be carried on by a Task.

    The task's first ``send`` gets what the coroutine is waiting for; after that every
    ``send`` and ``throw`` (cancellation too, even before the task's first step) goes to the
    coroutine itself, exactly as if the task had started it.
    """

    __slots__ = ("_coro", "_first", "_started")

    def __init__(self, coro: Coroutine[Any, Any, None], yielded: Any) -> None:
        self._coro = coro
        self._first = yielded
        self._started = False

    def send(self, value: Any) -> Any:
        if not self._started:
            self._started = True
            first, self._first = self._first, None
            return first
        return self._coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        self._started = True
        self._first = None
        return self._coro.throw(typ, val, tb) if val is not None else self._coro.throw(typ)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, None]:
        raise TypeError("_Resumed is driven by a Task, not awaited")


class Connection:
    """A logical peer speaking OCPP ``version`` ("1.6", "2.0.1", "2.1") with ``remote_id``."""

    __slots__ = ("_attached", "_sender", "_session", "_timer", "_worker", "call_timeout",
                 "handlers", "remote_id")

    def __init__(
        self,
        handlers: Handlers,
        *,
        version: str,
        remote_id: str,
        sender: FrameSender | None = None,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        validate_messages: bool = True,
    ) -> None:
        self.handlers = handlers
        self.remote_id = remote_id
        self.call_timeout = call_timeout
        self._session = RpcSession(
            version, remote_id=remote_id, id_prefix=os.urandom(4).hex() + "-",
            validate_messages=validate_messages, is_open=False,
        )
        self._sender: FrameSender | None = None
        self._attached: asyncio.Event | None = None  # made by the first wait_attached()
        self._timer: asyncio.TimerHandle | None = None  # the deadline of the call in flight
        self._worker: asyncio.Task[None] | None = None  # the handler worker once it had to wait
        if sender is not None:
            self.attach(sender)

    @property
    def session(self) -> RpcSession:
        """The sans-I/O state underneath (read it; drive it only through this Connection)."""
        return self._session

    @property
    def version(self) -> str:
        return self._session.version

    @version.setter
    def version(self, version: str) -> None:
        self._session.version = version

    @property
    def validate_messages(self) -> bool:
        return self._session.validate_messages

    @validate_messages.setter
    def validate_messages(self, value: bool) -> None:
        self._session.validate_messages = value

    # --- link state -------------------------------------------------------------------

    def attach(self, sender: FrameSender, *, version: str | None = None) -> None:
        """Start sending through ``sender`` (a new or re-established link)."""
        self._sender = sender
        self._session.open(version)
        if self._attached is not None:
            self._attached.set()

    def detach(self, reason: str = "link closed") -> None:
        """The link is gone: the call in flight and queued calls fail with ConnectionClosed."""
        self._sender = None
        if self._attached is not None:
            self._attached.clear()
        for call in self._session.close(reason):
            self._settle(call)
        self._cancel_timer()

    @property
    def is_attached(self) -> bool:
        return self._sender is not None

    @property
    def pending_message_id(self) -> str | None:
        """The message id of our CALL in flight, if any (routers match errors by it)."""
        call = self._session.in_flight
        return call.message_id if call is not None else None

    async def wait_attached(self) -> None:
        if self._sender is not None:
            return
        if self._attached is None:
            self._attached = asyncio.Event()
        await self._attached.wait()

    # --- outgoing ---------------------------------------------------------------------

    async def call(
        self,
        action: str,
        payload: JsonObject,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - per-call timeouts are the OCPP API
    ) -> JsonObject:
        """Send a CALL and return the CALLRESULT payload.

        Raises a FormatViolation-family error before sending an invalid request,
        CallErrorReceived for a CALLERROR, CallTimeout after ``timeout`` seconds (counted from
        the moment the CALL is sent, not from the time spent queued behind the call in
        flight), ConnectionClosed when the link goes away, and a validation error
        (FormatViolation, OccurrenceConstraintViolation, ...) for an invalid CALLRESULT.
        """
        session = self._session
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        outgoing = session.submit(
            action, payload, self.call_timeout if timeout is None else timeout, future
        )
        try:
            if outgoing.state is CallState.QUEUED:
                await future  # None once it is our turn; ConnectionClosed if the link went
                if not outgoing.in_flight:  # closed between its turn and now
                    raise outgoing.error or ConnectionClosed(f"not connected to {self.remote_id}")
                future = outgoing.handle = loop.create_future()
            sender = self._sender
            assert sender is not None  # an open session has a sender
            await sender.send_frame(outgoing.frame())
            session.sent(outgoing, loop.time())
            if outgoing.deadline is not None and outgoing.state is CallState.WAITING:
                self._timer = loop.call_at(outgoing.deadline, self._deadline_passed)
            result: JsonObject = await future
            return result
        except BaseException as exc:
            ended = (
                session.send_failed(outgoing, exc) if isinstance(exc, OcppNetError)
                else session.withdraw(outgoing)
            )
            if ended is not None:
                self._ended(ended)
            if future.done() and not future.cancelled():
                future.exception()  # mark retrieved: detach() may have failed it mid-send
            raise

    async def send(self, action: str, payload: JsonObject) -> None:
        """OCPP 2.1 SEND: a request without response; not queued behind the call in flight."""
        frame = self._session.send(action, payload)
        sender = self._sender
        assert sender is not None  # an open session has a sender
        await sender.send_frame(frame)

    def _settle(self, call: OutgoingCall) -> None:
        """Tell the caller of an ended call (its future) how it ended."""
        future: asyncio.Future[Any] = call.handle
        if future.done():
            return
        if call.error is not None:
            future.set_exception(call.error)
        elif call.outcome == "result":
            future.set_result(call.result)
        else:
            future.cancel()

    def _ended(self, call: OutgoingCall) -> None:
        """``call`` ended: settle it, drop its timer, wake the caller whose turn it is now."""
        self._settle(call)
        self._cancel_timer()
        ready = self._session.in_flight
        if ready is not None and ready.state is CallState.READY:
            turn: asyncio.Future[Any] = ready.handle
            if not turn.done():
                turn.set_result(None)

    def _cancel_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _deadline_passed(self) -> None:
        self._cancel_timer()  # the handle that fired us, or one this replaces
        session = self._session
        call = session.expire(asyncio.get_running_loop().time())
        if call is None:  # the loop's clock ran a little behind the timer: look again
            deadline = session.next_deadline
            if deadline is not None:
                self._timer = asyncio.get_running_loop().call_at(deadline, self._deadline_passed)
            return
        log.warning(
            "event=call_timeout remote=%s action=%s message_id=%s timeout=%s",
            self.remote_id, call.action, call.message_id, call.timeout,
        )
        self._ended(call)

    # --- incoming ---------------------------------------------------------------------

    async def handle_frame(self, frame: Frame) -> None:
        """Feed one decoded frame from the link. Returns quickly: requests run in a worker.

        The worker starts eagerly: it runs here until it first has to wait, and only then
        becomes a task. A synchronous handler whose reply can be written at once is answered
        without creating a task at all (asyncio.create_task per request cost ~5 % of a busy
        CSMS); a handler that waits (e.g. calls the peer back) continues in a task as before.
        """
        reply = self.feed(frame)
        if reply is not None:
            await self._reply(reply)

    def feed(self, frame: Frame) -> CallResultError | None:
        """:meth:`handle_frame` without the await, for a driver that reads in a callback:
        returns the frame the caller must send back (OCPP 2.1: a CALLRESULTERROR for an
        invalid CALLRESULT), else None. Needs a running event loop (a waiting handler
        continues in a task)."""
        if isinstance(frame, Call | Send):
            request = self._session.receive_request(frame)
            if request is not None:
                self._start_worker(request)
            return None
        if isinstance(frame, CallResult | CallError):
            call = self._session.receive_response(frame)
            if call is None:
                log.warning(
                    "event=unexpected_response remote=%s message_id=%s (late or unknown, dropped)",
                    self.remote_id, frame.message_id,
                )
                return None
            self._ended(call)
            if call.error is not None and not isinstance(call.error, CallErrorReceived):
                log.warning(
                    "event=invalid_response remote=%s action=%s message_id=%s code=%s "
                    "description=%r",
                    self.remote_id, call.action, frame.message_id, call.error.code,
                    call.error.description,
                )
            return call.reply
        log.warning(
            "event=callresulterror_received remote=%s message_id=%s code=%s description=%r",
            self.remote_id, frame.message_id, frame.error_code, frame.error_description,
        )
        return None

    def handle_decode_failure(self, failure: DecodeFailure) -> None:
        """A malformed frame from the link: if it answers our call in flight, fail it now."""
        call = self._session.receive_malformed(
            failure.message_id, failure.error_code, failure.description
        )
        if call is not None:
            self._ended(call)

    def _start_worker(self, request: Request) -> None:
        """Run ``_drain`` up to its first suspension, then hand the rest to a task."""
        context = contextvars.copy_context()  # a task's context, as create_task would give it
        coro = self._drain(request)
        try:
            yielded = context.run(coro.send, None)
        except StopIteration:
            return  # answered everything without waiting
        except asyncio.CancelledError:
            return  # a handler raised it: the worker ends, as a cancelled task would
        self._worker = asyncio.get_running_loop().create_task(
            _Resumed(coro, yielded), context=context
        )

    async def _drain(self, request: Request | None) -> None:
        """Answer ``request`` and then the ones the session hands out, one at a time."""
        session = self._session
        try:
            while request is not None:
                try:
                    reply = await self._answer(request)
                    if reply is not None:
                        await self._reply(reply)
                except Exception:  # a bug here must not stop the following requests
                    log.exception(
                        "event=dispatch_failed remote=%s message_id=%s",
                        self.remote_id, request.message_id,
                    )
                request = session.answered()
        finally:
            self._worker = None
            if request is not None:  # cancelled while answering it
                session.stop_answering()

    async def _reply(self, frame: Frame) -> None:
        sender = self._sender
        if sender is None:
            log.info(
                "event=reply_dropped remote=%s message_id=%s reason=not_connected",
                self.remote_id, frame.message_id,
            )
            return
        try:
            await sender.send_frame(frame)
        except ConnectionClosed:
            log.info(
                "event=reply_dropped remote=%s message_id=%s reason=link_closed",
                self.remote_id, frame.message_id,
            )
        except TypeError:  # orjson: the handler's result holds a value that is not JSON
            log.exception(
                "event=reply_not_json remote=%s message_id=%s", self.remote_id, frame.message_id
            )
            if isinstance(frame, CallResult):
                await self._reply(
                    CallError(frame.message_id, "InternalError", "response is not JSON", {})
                )

    def _rejected(self, request: Request, rejection: Rejection) -> CallError | None:
        """The CALLERROR for ``rejection``; a SEND's failure is only logged."""
        frame = self._session.error_frame(request, rejection)
        if frame is None:
            log.warning(
                "event=send_failed remote=%s action=%s message_id=%s code=%s description=%r",
                self.remote_id, request.action, request.message_id, rejection.code,
                rejection.description,
            )
        return frame

    async def _answer(self, request: Request) -> CallResult | CallError | None:
        """The reply to one request (None for SEND); never raises for bad input or handlers."""
        session = self._session
        action = request.action
        handler = self.handlers.get(action)
        refusal = session.refusal(request, handler is not None)
        if refusal is not None or handler is None:
            assert refusal is not None
            return self._rejected(request, refusal)
        ctx = CallContext(
            self, self.remote_id, request.message_id, action, session.version,
            request.path, request.dest,
        )
        try:
            outcome: object = handler(ctx, request.payload)
            if type(outcome) is dict:  # a synchronous handler's answer: skip the ABC check
                result: object = outcome
            else:
                result = await outcome if inspect.isawaitable(outcome) else outcome
        except DropRequest as exc:
            log.warning(
                "event=request_dropped remote=%s action=%s message_id=%s reason=%r",
                self.remote_id, action, request.message_id, exc.description,
            )
            return None
        except OcppNetError as exc:
            return self._rejected(
                request, Rejection(exc.code, exc.description, "handler_error", exc.details)
            )
        except Exception:
            log.exception(
                "event=handler_failed remote=%s action=%s message_id=%s",
                self.remote_id, action, request.message_id,
            )
            return self._rejected(
                request, Rejection("InternalError", f"{action} handler failed", "handler_failed")
            )
        if isinstance(request, Send):
            return None
        answer = session.answer(request, result)
        if isinstance(answer, Rejection):
            log.error(
                "event=%s remote=%s action=%s cause=%r",
                answer.reason, self.remote_id, action, answer.cause,
            )
            return self._rejected(request, answer)
        return answer
