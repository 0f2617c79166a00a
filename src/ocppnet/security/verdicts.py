"""The clock signature checks run on, and how a policy decision reads in a log line (pure).

Shared by the Connection-side wrapper (:mod:`ocppnet.transport.secured`), the node guard
(:mod:`ocppnet.security.node_guard`) and the CSMS's message log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ocppnet.security.policy import PolicyDecision

__all__ = ["Clock", "verdict_summary", "wall_clock"]

Clock = Callable[[], datetime]
"""Where ``now`` comes from: wall time, since signatures are checked against real time."""


def wall_clock() -> datetime:
    return datetime.now(UTC)


def verdict_summary(decision: PolicyDecision) -> str:
    """A short verdict for logs and the CSMS message log: ``unsigned``, ``valid``,
    ``valid,unknown_key``, ``invalid (reject: ...)``; the outcome is added unless clean."""
    if not decision.verdicts:
        text = "unsigned"
    else:
        text = ",".join(dict.fromkeys(v.status.value for v in decision.verdicts))
    if not decision.accepted:
        text = f"{text} ({decision.outcome.value}: {decision.reason})"
    elif decision.logged_failure:
        text = f"{text} (accepted and logged: {decision.reason})"
    return text[:500]
