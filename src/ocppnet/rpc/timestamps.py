"""OCPP date-time values (RFC 3339) in and out, for every part of ocppnet (pure).

Stations, CSMSs and signatures all write ``2025-03-01T12:00:00.000Z``; what we read is an
RFC 3339 date-time (a ``T`` after the date, ``Z`` or an offset). A value without a zone is read
as UTC where OCPP peers are known to send it (``naive="utc"``, the default) and refused where
a zone is part of the contract (``naive="reject"``: signatures, topology announcements).
Unreadable input is ``None``, never an exception, so callers turn it into their own answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "format_seconds",
    "format_timestamp",
    "parse_seconds",
    "parse_timestamp",
]


def parse_timestamp(
    text: object, *, naive: Literal["utc", "reject"] = "utc"
) -> datetime | None:
    """``text`` as an aware datetime, or None when it is not an RFC 3339 date-time."""
    if not isinstance(text, str) or len(text) < 19 or text[10] not in "Tt ":
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC) if naive == "utc" else None
    return value


def format_timestamp(at: datetime, timespec: str = "milliseconds") -> str:
    """RFC 3339 in UTC with a ``Z`` (naive values count as UTC); ``timespec`` as for
    :meth:`datetime.isoformat` (milliseconds: the form stations parse most reliably)."""
    utc = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return utc.isoformat(timespec=timespec).replace("+00:00", "Z")


def parse_seconds(text: str) -> float:
    """An OCPP date-time as POSIX seconds (the station model's clock); ValueError when bad."""
    value = parse_timestamp(text)
    if value is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    return value.timestamp()


def format_seconds(ts: float) -> str:
    """POSIX seconds as ``2023-11-14T22:13:20.000Z``."""
    return format_timestamp(datetime.fromtimestamp(ts, UTC))
