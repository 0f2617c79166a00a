"""A command signer for a third party (e.g. a grid operator): build and sign requests.

Pure: the key is passed in, ``now`` too. The signed payload can be sent by any route — by the
signer's own overlay participant (:class:`ocppnet.participant.Participant`) or handed to a CSMS
(``await app.call(station_id, "SetChargingProfile", signed)``): every hop may re-encode the
JSON, none may change a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ocppnet.security.keys import KeyPair
from ocppnet.security.signatures import format_timestamp, sign

__all__ = ["CommandSigner", "external_limit_profile"]


def external_limit_profile(
    limit_w: float,
    *,
    evse_id: int = 0,
    profile_id: int = 1,
    stack_level: int = 0,
    schedule_id: int = 1,
    start: datetime | None = None,
    duration_s: int | None = None,
) -> dict[str, Any]:
    """A 2.0.1/2.1 SetChargingProfile request: a ChargingStationExternalConstraints profile
    capping ``evse_id`` (0: the whole station) at ``limit_w`` watts from ``start`` (default:
    when the station installs it) for ``duration_s`` (default: until replaced)."""
    schedule: dict[str, Any] = {
        "id": schedule_id,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_w}],
    }
    if start is not None:
        schedule["startSchedule"] = format_timestamp(start)
    if duration_s is not None:
        schedule["duration"] = duration_s
    return {
        "evseId": evse_id,
        "chargingProfile": {
            "id": profile_id,
            "stackLevel": stack_level,
            "chargingProfilePurpose": "ChargingStationExternalConstraints",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [schedule],
        },
    }


class CommandSigner:
    """Signs requests with one key; ``name``/``description`` go into each signature."""

    __slots__ = ("description", "key", "name")

    def __init__(
        self, key: KeyPair, *, name: str | None = "grid-operator", description: str | None = None
    ) -> None:
        self.key = key
        self.name = name
        self.description = description

    @property
    def key_id(self) -> str:
        return self.key.key_id

    def sign(
        self, action: str, payload: Mapping[str, Any], *, version: str, now: datetime
    ) -> dict[str, Any]:
        """``payload`` with this signer's signature appended (a copy)."""
        return sign(payload, action=action, kind="request", version=version, key=self.key,
                    now=now, name=self.name, description=self.description)

    def external_limit(
        self, limit_w: float, *, version: str, now: datetime, **profile: Any
    ) -> dict[str, Any]:
        """A signed SetChargingProfile from :func:`external_limit_profile`."""
        return self.sign("SetChargingProfile", external_limit_profile(limit_w, **profile),
                         version=version, now=now)

    def __repr__(self) -> str:
        return f"CommandSigner(key_id={self.key.key_id!r}, name={self.name!r})"
