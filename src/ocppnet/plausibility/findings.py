"""What the checker says about one message: findings (rule, field, reason) and a verdict.

:class:`FindingLog` is where adapters put them: one structured log line per finding
(``event=plausibility_finding rule=... station=... detail=...``) and a bounded list of recent
findings for an API or dashboard.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocppnet.plausibility.config import Severity

log = logging.getLogger("ocppnet.plausibility")


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule violated by one field of one message."""

    rule: str
    severity: Severity
    station: str
    action: str
    field: str
    """JSON path of the offending field, e.g. ``meterValue[0].sampledValue[1].value``."""
    detail: str
    at: datetime
    message_id: str = ""

    def describe(self) -> str:
        """The precise text for a CALLERROR: rule, field, reason."""
        return f"implausible {self.field}: {self.detail} (rule {self.rule})"

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "severity": self.severity, "station": self.station,
            "action": self.action, "field": self.field, "detail": self.detail,
            "at": self.at.isoformat(), "messageId": self.message_id,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """All findings on one message; refused when any has severity ``reject``."""

    findings: tuple[Finding, ...] = ()

    @property
    def rejected(self) -> bool:
        return any(f.severity == "reject" for f in self.findings)

    @property
    def rejections(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "reject")

    def reason(self) -> str:
        """The description of a refusal (all rejecting findings), '' when accepted."""
        return "; ".join(f.describe() for f in self.rejections)


class FindingLog:
    """Recent findings (bounded, oldest dropped) + one structured log line each."""

    __slots__ = ("_recent", "counts")

    def __init__(self, limit: int = 1000) -> None:
        self._recent: deque[Finding] = deque(maxlen=limit)
        self.counts: dict[str, int] = {}
        """Rule id -> findings recorded since start (not bounded by ``limit``)."""

    def record(self, finding: Finding, *, where: str = "") -> None:
        self._recent.append(finding)
        self.counts[finding.rule] = self.counts.get(finding.rule, 0) + 1
        log.warning(
            "event=plausibility_finding rule=%s severity=%s station=%s action=%s field=%s "
            "message_id=%s where=%s detail=%r",
            finding.rule, finding.severity, finding.station, finding.action, finding.field,
            finding.message_id, where or "-", finding.detail,
        )

    def recent(self, *, station: str | None = None, rule: str | None = None,
               limit: int | None = None) -> list[Finding]:
        """Newest last; filtered by station and/or rule."""
        found = [
            f for f in self._recent
            if (station is None or f.station == station) and (rule is None or f.rule == rule)
        ]
        return found if limit is None else found[-limit:]
