"""Counters a station (or a whole fleet sharing one instance) updates as it runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(slots=True)
class StationStats:
    connected: int = 0  # stations whose link is up right now
    booted: int = 0  # stations whose BootNotification is Accepted right now
    boots_accepted: int = 0
    messages_sent: int = 0  # CALLs answered with a CALLRESULT
    errors: int = 0  # CALLERRORs, timeouts, invalid responses
    transactions_started: int = 0
    transactions_ended: int = 0
    queued_offline: int = 0  # transaction messages created while disconnected
    dropped: int = 0

    def snapshot(self) -> dict[str, int]:
        return asdict(self)
