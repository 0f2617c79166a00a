"""End-to-end security on a Connection (station, CSMS, participant): a Handlers wrapper + signed
calls. The asyncio side of :mod:`ocppnet.security` (which stays pure): it wraps transport's
:class:`Handlers` and :class:`Connection`.

:func:`secure_handlers` wraps a transport :class:`Handlers` registry so that every incoming
request is checked with :meth:`SecurityContext.check_incoming` before its handler runs:
reject (and drop, see below) answers CALLERROR ``SecurityError`` with the reason, accept runs
the handler with the :class:`PolicyDecision` readable through :func:`security_decision`. Signed
``AddSignaturePolicy`` / ``DeleteSignaturePolicy`` / ``AddUserRole`` / ``DeleteUserRole``
requests are served by :meth:`SecurityContext.handle_management`. Responses are signed as the
outgoing policy says. :func:`signed_call` is the outgoing side: sign per policy, call, check
the response. The clock is injected (wall time: signatures are checked against real time).

``drop`` answers nothing (the handler raises :class:`~ocppnet.errors.DropRequest`, which the
Connection turns into silence); the sender's call times out as if the message had been lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, Protocol

from ocppnet.errors import DropRequest, InternalError, SecurityError, error_class
from ocppnet.rpc.frames import JsonObject
from ocppnet.security.context import SecurityContext
from ocppnet.security.jws import is_signed, signed_action, unsigned_action
from ocppnet.security.management import MANAGEMENT_ACTIONS
from ocppnet.security.policy import Outcome, PolicyDecision
from ocppnet.security.verdicts import Clock, verdict_summary, wall_clock
from ocppnet.transport.connection import Connection
from ocppnet.transport.handlers import CallContext, Handler, Handlers
from ocppnet.validation import validate

__all__ = [
    "MessageRecorder",
    "SecuredHandlers",
    "VerdictHook",
    "record_verdicts",
    "secure_handlers",
    "security_decision",
    "sign_request",
    "signed_call",
]

log = logging.getLogger("ocppnet.security")  # (the events are security events)

#: ``hook(ctx, payload, decision)``: called for every checked request (accepted or not).
VerdictHook = Callable[[CallContext, JsonObject, PolicyDecision], None]

_decision: ContextVar[PolicyDecision | None] = ContextVar("ocppnet_security_decision", default=None)


def security_decision() -> PolicyDecision | None:
    """Inside a handler run by :class:`SecuredHandlers`: the decision on its request."""
    return _decision.get()


class SecuredHandlers(Handlers):
    """A view on ``inner`` whose handlers run only after the security check.

    Registrations go to ``inner`` (so handlers added later are covered too); the management
    actions are served here unless ``inner`` has its own handler for them.
    """

    __slots__ = ("_wrapped", "clock", "inner", "management", "on_verdict", "security")

    def __init__(
        self,
        inner: Handlers,
        security: SecurityContext,
        *,
        clock: Clock = wall_clock,
        on_verdict: VerdictHook | None = None,
        management: bool = True,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.security = security
        self.clock = clock
        self.on_verdict = on_verdict
        self.management = management
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    def add(self, action: str, handler: Handler) -> None:
        self.inner.add(action, handler)

    def _target(self, action: str) -> Handler | None:
        if is_signed(action):  # OCPP 2.1 "<Action>-Signed": the handler of <Action>
            if self.security.jws == "off":
                return None
            action = unsigned_action(action)
        handler = self.inner.get(action)
        if handler is None and self.management and action in MANAGEMENT_ACTIONS:
            return self._manage
        return handler

    def get(self, action: str) -> Handler | None:
        target = self._target(action)
        if target is None:
            return None
        cached = self._wrapped.get(action)
        if cached is not None and cached[0] is target:
            return cached[1]
        wrapped = self._wrap(target, signed=is_signed(action))
        self._wrapped[action] = (target, wrapped)
        return wrapped

    def __contains__(self, action: object) -> bool:
        return isinstance(action, str) and self._target(action) is not None

    def actions(self) -> frozenset[str]:
        extra = MANAGEMENT_ACTIONS if self.management else frozenset()
        return self.inner.actions() | extra

    def check(self, ctx: CallContext, payload: JsonObject) -> PolicyDecision:
        """The decision on one incoming request (also reported to ``on_verdict``)."""
        decision = self.security.check_incoming(
            ctx.action, "request", payload, version=ctx.version, now=self.clock()
        )
        if self.on_verdict is not None:
            try:
                self.on_verdict(ctx, payload, decision)
            except Exception:
                log.exception("event=verdict_hook_failed action=%s", ctx.action)
        return decision

    def _refuse(self, ctx: CallContext, decision: PolicyDecision) -> None:
        event = "security_drop" if decision.outcome is Outcome.DROP else "security_reject"
        log.warning(
            "event=%s remote=%s action=%s message_id=%s path=%s reason=%r",
            event, ctx.remote_id, ctx.action, ctx.message_id, "/".join(ctx.path),
            decision.reason,
        )
        if decision.outcome is Outcome.DROP:
            raise DropRequest(decision.reason)
        raise decision.error()

    def _wrap(self, handler: Handler, *, signed: bool = False) -> Handler:
        """``signed``: an OCPP 2.1 ``<Action>-Signed`` request, verified and decided like
        ours; the encapsulated message is validated and handled, the reply signed (7.2)."""

        async def secured(ctx: CallContext, payload: JsonObject) -> JsonObject | None:
            decision = self.check(ctx, payload)
            if signed and decision.accepted and decision.payload is not None:
                inner_ctx = replace(ctx, action=unsigned_action(ctx.action))
                failure = validate(ctx.version, inner_ctx.action, "request", decision.payload)
                if failure is not None:
                    raise error_class(failure.error_code)(
                        f"{inner_ctx.action}Request (signed): {failure.description}")
                result = await self._run(handler, inner_ctx, decision.payload, decision)
                if result is None:
                    return None
                failure = validate(ctx.version, inner_ctx.action, "response", result)
                if failure is not None:
                    raise InternalError(f"{inner_ctx.action} handler gave an invalid response")
                return self.security.seal(inner_ctx.action, "response", result,
                                          now=self.clock())
            if not decision.accepted:
                self._refuse(ctx, decision)
            result = await self._run(handler, ctx, payload, decision)
            if result is None:
                return None
            return self.security.sign_outgoing(
                ctx.action, "response", result, version=ctx.version, now=self.clock()
            )

        secured.__name__ = f"secured_{getattr(handler, '__name__', 'handler')}"
        return secured

    async def _run(
        self, handler: Handler, ctx: CallContext, payload: JsonObject, decision: PolicyDecision
    ) -> JsonObject | None:
        if not decision.accepted:
            self._refuse(ctx, decision)
        if decision.logged_failure:
            log.warning(
                "event=security_accept_and_log remote=%s action=%s message_id=%s reason=%r",
                ctx.remote_id, ctx.action, ctx.message_id, decision.reason,
            )
        token = _decision.set(decision)
        try:
            return await handler(ctx, payload)
        finally:
            _decision.reset(token)

    async def _manage(self, ctx: CallContext, payload: JsonObject) -> JsonObject:
        decision = _decision.get()
        assert decision is not None  # only ever called through _wrap
        response = self.security.handle_management(ctx.action, payload, decision,
                                                   now=self.clock())
        log.info(
            "event=security_management remote=%s action=%s status=%s",
            ctx.remote_id, ctx.action, response.get("status"),
        )
        return response


def secure_handlers(
    handlers: Handlers,
    security: SecurityContext,
    *,
    clock: Clock = wall_clock,
    on_verdict: VerdictHook | None = None,
    management: bool = True,
) -> SecuredHandlers:
    """``handlers`` behind the incoming policy of ``security`` (see the module docstring)."""
    return SecuredHandlers(
        handlers, security, clock=clock, on_verdict=on_verdict, management=management
    )


def sign_request(
    security: SecurityContext,
    action: str,
    payload: Mapping[str, Any],
    *,
    version: str,
    clock: Clock = wall_clock,
) -> JsonObject:
    """``payload`` signed as the outgoing request policy says (unchanged copy if it says none)."""
    return security.sign_outgoing(action, "request", payload, version=version, now=clock())


async def signed_call(
    conn: Connection,
    security: SecurityContext,
    action: str,
    payload: Mapping[str, Any],
    *,
    clock: Clock = wall_clock,
    timeout: float | None = None,  # noqa: ASYNC109 - the Connection's per-call timeout
) -> JsonObject:
    """Sign per policy, ``conn.call``, and check the response against the incoming policy.

    With ``jws = "send"`` on an OCPP 2.1 link the request goes out as ``<action>-Signed``
    and the encapsulated response is returned.

    Raises what ``conn.call`` raises, and SecurityError when the response is refused.
    """
    if security.wants_jws(conn.version):  # OCPP 2.1 "<Action>-Signed"
        envelope = security.seal(action, "request", payload, now=clock())
        response = await conn.call(signed_action(action), envelope, timeout=timeout)
        decision = security.check_incoming(
            signed_action(action), "response", response, version=conn.version, now=clock()
        )
        if decision.accepted and decision.payload is not None:
            failure = validate(conn.version, action, "response", decision.payload)
            if failure is not None:
                raise error_class(failure.error_code)(
                    f"{action}Response (signed): {failure.description}")
            return decision.payload
    else:
        signed = sign_request(security, action, payload, version=conn.version, clock=clock)
        response = await conn.call(action, signed, timeout=timeout)
        decision = security.check_incoming(
            action, "response", response, version=conn.version, now=clock()
        )
    if not decision.accepted:
        log.warning(
            "event=security_response_refused remote=%s action=%s reason=%r",
            conn.remote_id, action, decision.reason,
        )
        raise SecurityError(f"response refused: {decision.reason}",
                            {"verdicts": [v.reason for v in decision.verdicts]})
    return response


class MessageRecorder(Protocol):
    """What :func:`record_verdicts` needs from a CSMS (``CsmsApp`` has it)."""

    def record_message(
        self,
        station_id: str,
        direction: Any,
        message_type: int,
        message_id: str,
        action: str | None,
        payload: JsonObject | None,
        path: Any = (),
        *,
        signature: str | None = None,
    ) -> None: ...


def record_verdicts(
    recorder: MessageRecorder, *, signed_only: bool = True, refused_only: bool = False
) -> VerdictHook:
    """A verdict hook that logs each checked request with its verdict in a message log
    (``signed_only``: only requests that carry signatures, the others are logged as unsigned
    by the CSMS itself; ``refused_only``: only requests the policy refused — for a
    :class:`~ocppnet.csms.app.CsmsApp`, which logs the requests its handlers run with their
    verdict itself)."""

    def hook(ctx: CallContext, payload: JsonObject, decision: PolicyDecision) -> None:
        if signed_only and "signatures" not in payload and not is_signed(ctx.action):
            return
        if refused_only and decision.accepted:
            return
        recorder.record_message(
            ctx.remote_id, "in", 2, ctx.message_id, ctx.action, payload, ctx.path,
            signature=verdict_summary(decision),
        )

    return hook
