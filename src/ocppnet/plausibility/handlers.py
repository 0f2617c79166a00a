"""Plausibility enforced at a CSMS: a :class:`Handlers` wrapper around the application's handlers.

::

    app_handlers = plausible_handlers(handlers, checker, findings=log)

Before a handler runs, the request is judged; a ``reject`` finding answers CALLERROR
``PropertyConstraintViolation`` (the field holds an impossible value) with a description naming
rule and field, and the handler does not run. ``flag`` findings are recorded and the handler
runs; it can read the verdict with :func:`plausibility_verdict`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from ocppnet.errors import PropertyConstraintViolation
from ocppnet.plausibility.checker import CHECKED_ACTIONS, PlausibilityChecker
from ocppnet.plausibility.findings import FindingLog, Verdict
from ocppnet.rpc.frames import JsonObject
from ocppnet.transport.handlers import CallContext, Handler, Handlers

__all__ = ["PlausibleHandlers", "plausibility_verdict", "plausible_handlers"]

_verdict: ContextVar[Verdict | None] = ContextVar("ocppnet_plausibility_verdict", default=None)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def plausibility_verdict() -> Verdict | None:
    """Inside a handler run by :class:`PlausibleHandlers`: the verdict on its request."""
    return _verdict.get()


class PlausibleHandlers(Handlers):
    """A view on ``inner`` whose checked actions run only after the plausibility check;
    registrations go to ``inner``."""

    __slots__ = ("_wrapped", "checker", "clock", "findings", "inner")

    def __init__(self, inner: Handlers, checker: PlausibilityChecker, *,
                 findings: FindingLog | None = None,
                 clock: Callable[[], datetime] = _wall_clock) -> None:
        super().__init__()
        self.inner = inner
        self.checker = checker
        self.findings = findings if findings is not None else FindingLog()
        self.clock = clock
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    def add(self, action: str, handler: Handler) -> None:
        self.inner.add(action, handler)

    def get(self, action: str) -> Handler | None:
        target = self.inner.get(action)
        if target is None or action not in CHECKED_ACTIONS:
            return target
        cached = self._wrapped.get(action)
        if cached is not None and cached[0] is target:
            return cached[1]
        wrapped = self._wrap(target)
        self._wrapped[action] = (target, wrapped)
        return wrapped

    def __contains__(self, action: object) -> bool:
        return action in self.inner

    def actions(self) -> frozenset[str]:
        return self.inner.actions()

    def _wrap(self, handler: Handler) -> Handler:
        async def plausible(ctx: CallContext, payload: JsonObject) -> JsonObject | None:
            verdict = self.checker.check(ctx.remote_id, ctx.action, payload,
                                         version=ctx.version, now=self.clock(),
                                         message_id=ctx.message_id)
            for finding in verdict.findings:
                self.findings.record(finding, where="csms")
            if verdict.rejected:
                raise PropertyConstraintViolation(verdict.reason(), {
                    "rules": [f.rule for f in verdict.rejections],
                    "fields": [f.field for f in verdict.rejections],
                })
            token = _verdict.set(verdict)
            try:
                return await handler(ctx, payload)
            finally:
                _verdict.reset(token)

        plausible.__name__ = f"plausible_{getattr(handler, '__name__', 'handler')}"
        return plausible


def plausible_handlers(handlers: Handlers, checker: PlausibilityChecker, *,
                       findings: FindingLog | None = None,
                       clock: Callable[[], datetime] = _wall_clock) -> PlausibleHandlers:
    """``handlers`` behind ``checker`` (see the module docstring)."""
    return PlausibleHandlers(handlers, checker, findings=findings, clock=clock)
