"""One logical OCPP peer: outgoing calls (one in flight, FIFO behind it) and incoming dispatch.

A :class:`Connection` owns no socket. It sends through a :class:`FrameSender` and is fed
frames by whoever reads the link (``await conn.handle_frame(frame)``): a direct WebSocket
link feeds one Connection, an overlay link feeds one per remote id. Frames it builds are in
standard form (``dest`` None); an overlay sender adds DEST and PATH on the way out.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import itertools
import logging
import os
from collections import deque
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import Any, Protocol

from ocppnet.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionClosed,
    DropRequest,
    NotSupported,
    OcppNetError,
    error_class,
)
from ocppnet.rpc.codec import MAX_DESCRIPTION_LENGTH, DecodeFailure
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
from ocppnet.rpc.versions import check_version, wire_error_code
from ocppnet.transport.handlers import CallContext, Handlers
from ocppnet.validation import is_known_action, validate

log = logging.getLogger("ocppnet.transport.connection")

DEFAULT_CALL_TIMEOUT = 30.0


class FrameSender(Protocol):
    """Where a Connection's outgoing frames go; raises ConnectionClosed when it cannot send."""

    async def send_frame(self, frame: Frame) -> None: ...


@dataclass(slots=True)
class _Pending:
    message_id: str
    action: str
    future: asyncio.Future[JsonObject]


def _local_error(code: str, description: str) -> OcppNetError:
    """The ocppnet exception for an error code in any version's spelling."""
    return error_class(wire_error_code("2.1", code))(description)


def _cut(description: str) -> str:
    return description if len(description) <= MAX_DESCRIPTION_LENGTH else description[:252] + "..."


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
        self.version = check_version(version)
        self.remote_id = remote_id
        self.call_timeout = call_timeout
        self.validate_messages = validate_messages
        self._sender: FrameSender | None = None
        self._attached = asyncio.Event()
        self._call_lock = asyncio.Lock()  # FIFO: waiters acquire in arrival order
        self._pending: _Pending | None = None
        self._inbox: deque[Request] = deque()
        self._worker: asyncio.Task[None] | None = None  # the worker once it had to wait
        self._draining = False  # a worker exists (running eagerly or as _worker)
        self._id_prefix = os.urandom(4).hex() + "-"
        self._ids = itertools.count(1)
        if sender is not None:
            self.attach(sender)

    # --- link state -------------------------------------------------------------------

    def attach(self, sender: FrameSender, *, version: str | None = None) -> None:
        """Start sending through ``sender`` (a new or re-established link)."""
        self._sender = sender
        if version is not None:
            self.version = check_version(version)
        self._attached.set()

    def detach(self, reason: str = "link closed") -> None:
        """The link is gone: the call in flight and queued calls fail with ConnectionClosed."""
        self._sender = None
        self._attached.clear()
        self._inbox.clear()
        pending = self._pending
        if pending is not None and not pending.future.done():
            pending.future.set_exception(ConnectionClosed(reason))

    @property
    def is_attached(self) -> bool:
        return self._sender is not None

    @property
    def pending_message_id(self) -> str | None:
        """The message id of our CALL in flight, if any (routers match errors by it)."""
        return self._pending.message_id if self._pending is not None else None

    async def wait_attached(self) -> None:
        await self._attached.wait()

    def _next_id(self) -> str:
        return f"{self._id_prefix}{next(self._ids)}"

    # --- outgoing ---------------------------------------------------------------------

    def _check_request(self, action: str, payload: JsonObject) -> None:
        if self.validate_messages:
            failure = validate(self.version, action, "request", payload)
            if failure is not None:
                raise _local_error(failure.error_code, f"{action}Request: {failure.description}")

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
        self._check_request(action, payload)
        if self._sender is None:
            raise ConnectionClosed(f"not connected to {self.remote_id}")
        async with self._call_lock:
            sender = self._sender
            if sender is None:
                raise ConnectionClosed(f"not connected to {self.remote_id}")
            message_id = self._next_id()
            future: asyncio.Future[JsonObject] = asyncio.get_running_loop().create_future()
            self._pending = _Pending(message_id, action, future)
            try:
                await sender.send_frame(Call(message_id, action, payload))
                wait = self.call_timeout if timeout is None else timeout
                try:
                    return await asyncio.wait_for(future, wait)
                except TimeoutError:
                    log.warning(
                        "event=call_timeout remote=%s action=%s message_id=%s timeout=%s",
                        self.remote_id, action, message_id, wait,
                    )
                    raise CallTimeout(f"no response to {action} within {wait}s") from None
            finally:
                self._pending = None
                if future.done() and not future.cancelled():
                    future.exception()  # mark retrieved: detach() may have failed it mid-send
                else:
                    future.cancel()

    async def send(self, action: str, payload: JsonObject) -> None:
        """OCPP 2.1 SEND: a request without response; not queued behind the call in flight."""
        if self.version != "2.1":
            raise NotSupported(f"SEND needs OCPP 2.1, this link speaks {self.version}")
        self._check_request(action, payload)
        sender = self._sender
        if sender is None:
            raise ConnectionClosed(f"not connected to {self.remote_id}")
        await sender.send_frame(Send(self._next_id(), action, payload))

    # --- incoming ---------------------------------------------------------------------

    async def handle_frame(self, frame: Frame) -> None:
        """Feed one decoded frame from the link. Returns quickly: requests run in a worker.

        The worker starts eagerly: it runs here until it first has to wait, and only then
        becomes a task. A synchronous handler whose reply can be written at once is answered
        without creating a task at all (asyncio.create_task per request cost ~5 % of a busy
        CSMS); a handler that waits (e.g. calls the peer back) continues in a task as before.
        """
        if isinstance(frame, Call | Send):
            self._inbox.append(frame)
            if not self._draining:
                self._start_worker()
        elif isinstance(frame, CallResult | CallError):
            await self._on_response(frame)
        else:
            log.warning(
                "event=callresulterror_received remote=%s message_id=%s code=%s description=%r",
                self.remote_id, frame.message_id, frame.error_code, frame.error_description,
            )

    def handle_decode_failure(self, failure: DecodeFailure) -> None:
        """A malformed frame from the link: if it answers our call in flight, fail it now."""
        pending = self._pending
        if (
            pending is not None
            and failure.message_id == pending.message_id
            and not pending.future.done()
        ):
            pending.future.set_exception(
                _local_error(failure.error_code, f"malformed response: {failure.description}")
            )

    async def _on_response(self, frame: CallResult | CallError) -> None:
        pending = self._pending
        if pending is None or pending.message_id != frame.message_id or pending.future.done():
            log.warning(
                "event=unexpected_response remote=%s message_id=%s (late or unknown, dropped)",
                self.remote_id, frame.message_id,
            )
            return
        if isinstance(frame, CallError):
            pending.future.set_exception(
                CallErrorReceived(frame.error_code, frame.error_description, frame.error_details)
            )
            return
        if self.validate_messages:
            failure = validate(self.version, pending.action, "response", frame.payload)
            if failure is not None:
                description = f"{pending.action}Response: {failure.description}"
                pending.future.set_exception(_local_error(failure.error_code, description))
                log.warning(
                    "event=invalid_response remote=%s action=%s message_id=%s code=%s "
                    "description=%r",
                    self.remote_id, pending.action, frame.message_id, failure.error_code,
                    failure.description,
                )
                if self.version == "2.1":
                    await self._reply(
                        CallResultError(frame.message_id, failure.error_code, description, {})
                    )
                return
        pending.future.set_result(frame.payload)

    def _start_worker(self) -> None:
        """Run ``_drain_inbox`` up to its first suspension, then hand the rest to a task."""
        context = contextvars.copy_context()  # a task's context, as create_task would give it
        coro = self._drain_inbox()
        self._draining = True
        try:
            yielded = context.run(coro.send, None)
        except StopIteration:
            return  # answered everything without waiting
        except asyncio.CancelledError:
            return  # a handler raised it: the worker ends, as a cancelled task would
        self._worker = asyncio.get_running_loop().create_task(
            _Resumed(coro, yielded), context=context
        )

    async def _drain_inbox(self) -> None:
        """Answer incoming requests one at a time, in arrival order."""
        try:
            while self._inbox:
                request = self._inbox.popleft()
                try:
                    reply = await self._answer(request)
                    if reply is not None:
                        await self._reply(reply)
                except Exception:  # a bug here must not stop the following requests
                    log.exception(
                        "event=dispatch_failed remote=%s message_id=%s",
                        self.remote_id, request.message_id,
                    )
        finally:
            self._draining = False
            self._worker = None

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

    def _error(self, request: Request, code: str, description: str) -> CallError | None:
        if isinstance(request, Send):
            log.warning(
                "event=send_failed remote=%s action=%s message_id=%s code=%s description=%r",
                self.remote_id, request.action, request.message_id, code, description,
            )
            return None
        return CallError(
            request.message_id, wire_error_code(self.version, code), _cut(description), {}
        )

    async def _answer(self, request: Request) -> CallResult | CallError | None:
        """The reply to one request (None for SEND); never raises for bad input or handlers."""
        action = request.action
        handler = self.handlers.get(action)
        if handler is None:
            return self._error(request, *self._no_handler(action))
        if self.validate_messages:
            failure = validate(self.version, action, "request", request.payload)
            if failure is not None:
                return self._error(request, failure.error_code, failure.description)
        ctx = CallContext(
            self, self.remote_id, request.message_id, action, self.version,
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
            if isinstance(request, Send):
                return self._error(request, exc.code, exc.description)
            return CallError(
                request.message_id, wire_error_code(self.version, exc.code), _cut(exc.description),
                exc.details,
            )
        except Exception:
            log.exception(
                "event=handler_failed remote=%s action=%s message_id=%s",
                self.remote_id, action, request.message_id,
            )
            return self._error(request, "InternalError", f"{action} handler failed")
        if isinstance(request, Send):
            return None
        if not isinstance(result, dict):
            log.error(
                "event=handler_bad_result remote=%s action=%s type=%s",
                self.remote_id, action, type(result).__name__,
            )
            return self._error(request, "InternalError", f"{action} handler returned no object")
        if self.validate_messages:
            failure = validate(self.version, action, "response", result)
            if failure is not None:
                log.error(
                    "event=handler_invalid_response remote=%s action=%s code=%s description=%r",
                    self.remote_id, action, failure.error_code, failure.description,
                )
                return self._error(
                    request, "InternalError", f"{action} handler gave an invalid response"
                )
        return CallResult(request.message_id, result)

    def _no_handler(self, action: str) -> tuple[str, str]:
        """NotSupported for an action of the protocol without a handler, else NotImplemented."""
        if is_known_action(self.version, action):
            return "NotSupported", f"{action} is not supported by this endpoint"
        return "NotImplemented", f"unknown action {action}"
