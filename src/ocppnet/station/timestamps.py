"""OCPP date-time strings <-> POSIX seconds; the model keeps time as float seconds (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_iso(ts: float) -> str:
    """``1700000000.0`` -> ``"2023-11-14T22:13:20.000Z"`` (millisecond precision, UTC)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def from_iso(text: str) -> float:
    """Parse an RFC 3339 date-time (``Z`` or an offset; no offset means UTC).

    Raises ValueError on malformed input, so callers turn it into a rejection.
    """
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
