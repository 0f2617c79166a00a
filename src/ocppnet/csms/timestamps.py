"""OCPP timestamps in and out (pure): stations send RFC 3339 text, the CSMS answers in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(text: object, fallback: datetime) -> datetime:
    """A station's timestamp as an aware datetime; ``fallback`` (now) when absent or bad."""
    if not isinstance(text, str):
        return fallback
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return fallback
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def format_time(at: datetime) -> str:
    """RFC 3339 UTC with milliseconds and a ``Z``, the form stations parse most reliably."""
    utc = at.astimezone(UTC) if at.tzinfo is not None else at
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
