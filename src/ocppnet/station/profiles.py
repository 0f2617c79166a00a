"""Charging profiles as values: parsed from SetChargingProfile (2.0.1/2.1 and 1.6 shapes).

Both wire shapes become one :class:`ChargingProfile`; what the station cannot honour (an
unknown purpose, a 2.1 period without ``limit``, bad dates) becomes a
:class:`ProfileRejection` that the handler answers with ``Rejected`` and a reason code.
Times are POSIX seconds; see :mod:`ocppnet.rpc.timestamps` (parse_seconds, format_seconds).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ocppnet.rpc.timestamps import parse_seconds

DAY_S = 86_400.0
WEEK_S = 7 * DAY_S


class Purpose(StrEnum):
    STATION_MAX = "ChargingStationMaxProfile"
    EXTERNAL = "ChargingStationExternalConstraints"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


# OCPP 1.6 names the station-wide cap differently.
_PURPOSE_16 = {"ChargePointMaxProfile": Purpose.STATION_MAX}


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    start_s: int
    limit: float
    phases: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    unit: str  # "W" or "A"
    periods: tuple[SchedulePeriod, ...]
    start: float | None = None
    duration_s: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """One installed profile. ``evse_id`` 0 means the whole station."""

    id: int
    evse_id: int
    stack_level: int
    purpose: Purpose
    kind: str  # Absolute | Recurring | Relative
    schedule: Schedule
    recurrency: str | None = None  # Daily | Weekly
    valid_from: float | None = None
    valid_to: float | None = None
    transaction_id: str | None = None
    installed_at: float = 0.0


@dataclass(frozen=True, slots=True)
class ProfileRejection:
    """Why a SetChargingProfile cannot be honoured; ``reason_code`` fits statusInfo (20 chars)."""

    reason_code: str
    detail: str


def profile_from_201(
    request: dict[str, Any], now: float
) -> ChargingProfile | ProfileRejection:
    """A SetChargingProfileRequest (2.0.1 or 2.1) as a profile, or why not."""
    raw = request.get("chargingProfile")
    if not isinstance(raw, dict):
        return ProfileRejection("InvalidProfile", "chargingProfile missing")
    schedules = raw.get("chargingSchedule")
    if not isinstance(schedules, list) or not schedules:
        return ProfileRejection("InvalidSchedule", "chargingSchedule missing")
    return _build(
        raw,
        evse_id=request.get("evseId", 0),
        profile_id=raw.get("id"),
        purpose=raw.get("chargingProfilePurpose"),
        schedule=schedules[0],  # more than one is for ISO 15118 selection; the first governs
        transaction_id=raw.get("transactionId"),
        now=now,
    )


def profile_from_16(
    request: dict[str, Any], now: float
) -> ChargingProfile | ProfileRejection:
    """A 1.6 SetChargingProfile.req (``connectorId`` is the EVSE) as a profile, or why not."""
    raw = request.get("csChargingProfiles")
    if not isinstance(raw, dict):
        return ProfileRejection("InvalidProfile", "csChargingProfiles missing")
    return profile_16(raw, request.get("connectorId", 0), now)


def profile_16(
    raw: dict[str, Any], connector_id: Any, now: float
) -> ChargingProfile | ProfileRejection:
    """A 1.6 ChargingProfile object (also used inside RemoteStartTransaction)."""
    tx = raw.get("transactionId")
    purpose = raw.get("chargingProfilePurpose")
    return _build(
        raw,
        evse_id=connector_id,
        profile_id=raw.get("chargingProfileId"),
        purpose=_PURPOSE_16.get(str(purpose), purpose),
        schedule=raw.get("chargingSchedule"),
        transaction_id=None if tx is None else str(tx),
        now=now,
    )


def _build(
    raw: dict[str, Any],
    *,
    evse_id: Any,
    profile_id: Any,
    purpose: Any,
    schedule: Any,
    transaction_id: Any,
    now: float,
) -> ChargingProfile | ProfileRejection:
    if not isinstance(profile_id, int) or not isinstance(evse_id, int) or evse_id < 0:
        return ProfileRejection("InvalidProfile", "profile id and evse id must be integers >= 0")
    try:
        purpose_value = Purpose(purpose)
    except ValueError:
        return ProfileRejection("UnsupportedPurpose", f"purpose {purpose!r} is not supported")
    kind = raw.get("chargingProfileKind")
    if kind not in ("Absolute", "Recurring", "Relative"):
        return ProfileRejection("UnsupportedKind", f"profile kind {kind!r} is not supported")
    recurrency = raw.get("recurrencyKind")
    if kind == "Recurring" and recurrency not in ("Daily", "Weekly"):
        return ProfileRejection("InvalidProfile", "a Recurring profile needs recurrencyKind")
    if purpose_value is Purpose.STATION_MAX and evse_id != 0:
        return ProfileRejection("InvalidEvse", "ChargingStationMaxProfile must have evseId 0")
    if purpose_value is Purpose.TX and evse_id == 0:
        return ProfileRejection("InvalidEvse", "a TxProfile needs an EVSE, not evseId 0")
    if purpose_value is not Purpose.TX and transaction_id is not None:
        return ProfileRejection("InvalidProfile", "only a TxProfile may name a transaction")
    try:
        parsed = _schedule(schedule)
        valid_from = _opt_time(raw.get("validFrom"))
        valid_to = _opt_time(raw.get("validTo"))
    except ValueError as exc:
        return ProfileRejection("InvalidSchedule", str(exc))
    if parsed.start is None and kind == "Recurring":
        return ProfileRejection("InvalidSchedule", "a Recurring profile needs startSchedule")
    return ChargingProfile(
        id=profile_id,
        evse_id=evse_id,
        stack_level=int(raw.get("stackLevel", 0)),
        purpose=purpose_value,
        kind=kind,
        schedule=parsed,
        recurrency=recurrency if kind == "Recurring" else None,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=None if transaction_id is None else str(transaction_id),
        installed_at=now,
    )


def _schedule(raw: Any) -> Schedule:
    if not isinstance(raw, dict):
        raise ValueError("chargingSchedule must be an object")
    unit = raw.get("chargingRateUnit")
    if unit not in ("W", "A"):
        raise ValueError(f"chargingRateUnit {unit!r} is not W or A")
    periods: list[SchedulePeriod] = []
    for item in raw.get("chargingSchedulePeriod") or ():
        limit = item.get("limit")
        start = item.get("startPeriod")
        if not isinstance(limit, int | float) or limit < 0:
            raise ValueError("every chargingSchedulePeriod needs a limit >= 0")
        if not isinstance(start, int) or start < 0:
            raise ValueError("startPeriod must be an integer >= 0")
        phases = item.get("numberPhases")
        periods.append(SchedulePeriod(start, float(limit), phases if phases else None))
    if not periods:
        raise ValueError("chargingSchedulePeriod is empty")
    periods.sort(key=lambda p: p.start_s)
    if periods[0].start_s != 0:
        raise ValueError("the first chargingSchedulePeriod must start at 0")
    duration = raw.get("duration")
    return Schedule(unit, tuple(periods), _opt_time(raw.get("startSchedule")),
                    duration if isinstance(duration, int) else None)


def _opt_time(value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"date-time expected, got {value!r}")
    try:
        return parse_seconds(value)
    except ValueError:
        raise ValueError(f"bad date-time {value!r}") from None
