"""Plausibility enforced at a networking node: a router guard on forwarded station requests.

::

    node.router.guards.append(plausibility_guard(checker, findings=log, node_id="NODE-A"))

A request with a finding of severity ``reject`` is refused: the router answers its asker with
CALLERROR ``SecurityError`` and the reason (rule, field, detail); ``flag`` findings are recorded
in ``findings`` and the request goes on. The station is the first hop of the request's path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ocppnet.plausibility.checker import CHECKED_ACTIONS, PlausibilityChecker
from ocppnet.plausibility.findings import FindingLog
from ocppnet.rpc.frames import Call

__all__ = ["PlausibilityGuard", "plausibility_guard"]


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class PlausibilityGuard:
    """Callable ``(call, version) -> reason | None`` for :attr:`Router.guards`."""

    __slots__ = ("checked", "checker", "clock", "findings", "node_id", "refused")

    def __init__(self, checker: PlausibilityChecker, *, findings: FindingLog | None = None,
                 clock: Callable[[], datetime] = _wall_clock, node_id: str = "") -> None:
        self.checker = checker
        self.findings = findings if findings is not None else FindingLog()
        self.clock = clock
        self.node_id = node_id
        self.checked = 0
        self.refused = 0

    def __call__(self, call: Call, version: str) -> str | None:
        if call.action not in CHECKED_ACTIONS:
            return None
        station = call.path[0] if call.path else (call.dest or "?")
        verdict = self.checker.check(station, call.action, call.payload, version=version,
                                     now=self.clock(), message_id=call.message_id)
        self.checked += 1
        for finding in verdict.findings:
            self.findings.record(finding, where=f"node {self.node_id or '?'}")
        if not verdict.rejected:
            return None
        self.refused += 1
        return f"refused at node {self.node_id or '?'}: {verdict.reason()}"


def plausibility_guard(checker: PlausibilityChecker, *, findings: FindingLog | None = None,
                       clock: Callable[[], datetime] = _wall_clock,
                       node_id: str = "") -> PlausibilityGuard:
    """A router guard judging station requests with ``checker`` (see the module docstring)."""
    return PlausibilityGuard(checker, findings=findings, clock=clock, node_id=node_id)
