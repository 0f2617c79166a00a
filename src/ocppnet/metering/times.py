"""OCMF reading times: ``2018-07-24T13:22:04,000+0200 S`` (ISO 8601, comma, status letter).

The time and its synchronisation status travel together in ``TM``. Parsing keeps the text
(it is part of what was signed) and gives the instant and the status letter; formatting
writes the one form the specification defines (milliseconds, ``+hhmm`` offset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from ocppnet.metering.errors import OcmfError
from ocppnet.metering.vocabulary import TIME_STATUS

__all__ = ["OcmfTime", "format_time", "parse_time"]

_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})[,.](\d{3})([+-])(\d{2}):?(\d{2})"
    r"(?: ([A-Z]))?"
)


@dataclass(frozen=True, slots=True)
class OcmfTime:
    """One ``TM`` value: the text as written, the instant, the status letter (or None)."""

    text: str
    moment: datetime
    status: str | None

    @property
    def synchronized(self) -> bool:
        """True for ``S`` (and ``R``: a legally accurate duration on an info clock)."""
        return self.status in ("S", "R")


def parse_time(text: str, where: str) -> tuple[OcmfTime, list[str]]:
    """Parse a ``TM`` value; returns the time and the spec deviations found (issues)."""
    match = _TIME.fullmatch(text)
    if match is None:
        raise OcmfError(f"{where}: {text!r} is not an OCMF time "
                        "(YYYY-MM-DDThh:mm:ss,fff+hhmm and a status letter)")
    year, month, day, hour, minute, second, millis, sign, oh, om, status = match.groups()
    offset = timedelta(hours=int(oh), minutes=int(om)) * (-1 if sign == "-" else 1)
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                          int(millis) * 1000, tzinfo=timezone(offset))
    except ValueError as exc:
        raise OcmfError(f"{where}: {text!r}: {exc}") from None
    issues: list[str] = []
    if "." in text[19:20] or ":" in text[23:]:
        issues.append(f"{where}: {text!r} deviates from the form YYYY-MM-DDThh:mm:ss,fff+hhmm")
    if status is None:
        issues.append(f"{where}: {text!r} has no time status letter")
    elif status not in TIME_STATUS:
        issues.append(f"{where}: unknown time status {status!r} (known: U, I, S, R)")
    return OcmfTime(text, moment, status), issues


def format_time(moment: datetime, status: str) -> str:
    """The ``TM`` text for an aware datetime and a status letter from table 19."""
    if status not in TIME_STATUS:
        raise OcmfError(f"TM: unknown time status {status!r} (known: U, I, S, R)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return (f"{moment:%Y-%m-%dT%H:%M:%S},{moment.microsecond // 1000:03d}"
            f"{sign}{minutes // 60:02d}{minutes % 60:02d} {status}")
