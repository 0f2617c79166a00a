"""Installed charging profiles and the limit they impose at a given moment.

Composite rule (OCPP 2.0.1 K01/K08, 1.6 3.13): per purpose the profile with the highest
stack level that has a period at ``now`` wins (a lower level fills the gaps); a TxProfile
overrides the TxDefaultProfile; the result is the minimum of that and the
ChargingStationExternalConstraints / ChargingStationMaxProfile limits. Limits in A are
converted to W with the configured voltage and number of phases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from ocppnet.station.profiles import DAY_S, WEEK_S, ChargingProfile, Purpose


@dataclass(frozen=True, slots=True)
class Electrical:
    """How amperes become watts: ``W = A * voltage * phases`` (phases from the period if set)."""

    voltage_v: float = 230.0
    phases: int = 3

    def watts(self, unit: str, limit: float, phases: int | None = None) -> float:
        if unit == "W":
            return limit
        return limit * self.voltage_v * (phases or self.phases)


class ProfileStore:
    """The station's profile table; all methods are pure given ``now``."""

    __slots__ = ("_electrical", "_profiles")

    def __init__(self, electrical: Electrical | None = None) -> None:
        self._electrical = electrical or Electrical()
        self._profiles: dict[int, ChargingProfile] = {}

    def __len__(self) -> int:
        return len(self._profiles)

    def profiles(self) -> list[ChargingProfile]:
        return sorted(self._profiles.values(), key=lambda p: p.id)

    def install(self, profile: ChargingProfile) -> None:
        """Add ``profile``; it replaces one with the same id, or the same purpose, stack
        level and EVSE (and, for a TxProfile, transaction)."""
        for old in list(self._profiles.values()):
            if old.id == profile.id or (
                old.purpose is profile.purpose
                and old.stack_level == profile.stack_level
                and old.evse_id == profile.evse_id
                and old.transaction_id == profile.transaction_id
            ):
                del self._profiles[old.id]
        self._profiles[profile.id] = profile

    def clear(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove the profiles matching every given criterion; returns how many went."""
        doomed = [
            p.id
            for p in self._profiles.values()
            if (profile_id is None or p.id == profile_id)
            and (evse_id is None or p.evse_id == evse_id)
            and (purpose is None or p.purpose is purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        for pid in doomed:
            del self._profiles[pid]
        return len(doomed)

    def end_transaction(self, transaction_id: str) -> int:
        """TxProfiles live only as long as their transaction."""
        doomed = [p.id for p in self._profiles.values()
                  if p.purpose is Purpose.TX and p.transaction_id == transaction_id]
        for pid in doomed:
            del self._profiles[pid]
        return len(doomed)

    def evse_limit_w(
        self,
        evse_id: int,
        now: float,
        *,
        transaction_id: str | None = None,
        tx_start: float | None = None,
    ) -> float | None:
        """The EVSE's own cap at ``now`` in W (None: unlimited), excluding station-wide caps."""
        limits: list[float] = []
        tx_limit = None
        if transaction_id is not None:
            tx_limit = self._top(
                (p for p in self._profiles.values()
                 if p.purpose is Purpose.TX and p.evse_id == evse_id
                 and p.transaction_id in (None, transaction_id)),
                now, tx_start,
            )
        if tx_limit is None:
            tx_limit = self._top(self._of(Purpose.TX_DEFAULT, evse_id), now, tx_start)
            if tx_limit is None:
                tx_limit = self._top(self._of(Purpose.TX_DEFAULT, 0), now, tx_start)
        if tx_limit is not None:
            limits.append(tx_limit)
        if evse_id != 0:
            external = self._top(self._of(Purpose.EXTERNAL, evse_id), now, tx_start)
            if external is not None:
                limits.append(external)
        return min(limits) if limits else None

    def station_limit_w(self, now: float) -> float | None:
        """The cap on the sum over all EVSEs at ``now`` in W (None: unlimited)."""
        limits = [
            lim
            for purpose in (Purpose.STATION_MAX, Purpose.EXTERNAL)
            if (lim := self._top(self._of(purpose, 0), now, None)) is not None
        ]
        return min(limits) if limits else None

    def _of(self, purpose: Purpose, evse_id: int) -> Iterable[ChargingProfile]:
        return (p for p in self._profiles.values()
                if p.purpose is purpose and p.evse_id == evse_id)

    def _top(
        self, candidates: Iterable[ChargingProfile], now: float, tx_start: float | None
    ) -> float | None:
        """Limit of the highest-stack profile that has a period at ``now``."""
        for profile in sorted(candidates, key=lambda p: p.stack_level, reverse=True):
            limit = self.limit_at(profile, now, tx_start)
            if limit is not None:
                return limit
        return None

    def limit_at(
        self, profile: ChargingProfile, now: float, tx_start: float | None = None
    ) -> float | None:
        """The profile's limit in W at ``now``, or None when it has no period then."""
        if profile.valid_from is not None and now < profile.valid_from:
            return None
        if profile.valid_to is not None and now >= profile.valid_to:
            return None
        schedule = profile.schedule
        if profile.kind == "Relative":
            if tx_start is None:
                return None
            start = tx_start
        elif profile.kind == "Recurring":
            assert schedule.start is not None  # profiles.py refuses Recurring without a start
            cycle = DAY_S if profile.recurrency == "Daily" else WEEK_S
            if now < schedule.start:
                return None
            start = schedule.start + math.floor((now - schedule.start) / cycle) * cycle
        else:
            start = schedule.start if schedule.start is not None else (
                profile.valid_from if profile.valid_from is not None else profile.installed_at)
        elapsed = now - start
        if elapsed < 0 or (schedule.duration_s is not None and elapsed >= schedule.duration_s):
            return None
        current = schedule.periods[0]
        for period in schedule.periods:
            if period.start_s > elapsed:
                break
            current = period
        return self._electrical.watts(schedule.unit, current.limit, current.phases)
