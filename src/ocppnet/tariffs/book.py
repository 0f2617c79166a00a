"""The tariffs a station holds: defaults per EVSE and the tariff(s) of each transaction (pure).

A signed tariff is immutable. The same tariffId with the same signed content again is a no-op;
with other content it is refused (``DuplicateTariffId``): a new version is a new tariff (its own
tariffId) with a later ``validFrom``, and replaces the old one from that instant on. An
EVSE's own default beats the station-wide one (evseId 0); among those in force, the latest
``validFrom`` wins. A transaction starts with the default in force at its start; a
ChangeTransactionTariff adds a segment from that instant on, in the same currency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocppnet.tariffs.cost import TariffSegment
from ocppnet.tariffs.model import Tariff
from ocppnet.tariffs.signing import VerifiedTariff

__all__ = ["HeldTariff", "TariffBook"]

@dataclass(frozen=True, slots=True)
class HeldTariff:
    model: Tariff
    verified: VerifiedTariff

    @property
    def tariff_id(self) -> str:
        return self.model.tariff_id

    def in_force(self, now: datetime) -> bool:
        return self.model.valid_from is None or self.model.valid_from <= now


@dataclass(slots=True)
class TariffBook:
    defaults: dict[int, list[HeldTariff]] = field(default_factory=dict)
    transactions: dict[str, list[tuple[datetime, HeldTariff]]] = field(default_factory=dict)

    def _known(self, tariff_id: str) -> HeldTariff | None:
        for held in self.defaults.values():
            for h in held:
                if h.tariff_id == tariff_id:
                    return h
        for segments in self.transactions.values():
            for _, h in segments:
                if h.tariff_id == tariff_id:
                    return h
        return None

    def set_default(self, evse_id: int, held: HeldTariff) -> str:
        """A SetDefaultTariff status: Accepted or DuplicateTariffId."""
        known = self._known(held.tariff_id)
        if known is not None and known.verified.hash != held.verified.hash:
            return "DuplicateTariffId"
        slot = self.defaults.setdefault(evse_id, [])
        if all(h.verified.hash != held.verified.hash for h in slot):
            slot.append(held)
        return "Accepted"

    def default_for(self, evse_id: int, now: datetime) -> HeldTariff | None:
        for key in (evse_id, 0):
            live = [h for h in self.defaults.get(key, ()) if h.in_force(now)]
            if live:
                return max(live, key=lambda h: -math.inf if h.model.valid_from is None
                           else h.model.valid_from.timestamp())
        return None

    def start(self, transaction_id: str, evse_id: int, at: datetime) -> HeldTariff | None:
        """Bind the default in force now to a new transaction (None: no tariff, no cost)."""
        held = self.default_for(evse_id, at)
        if held is not None:
            self.transactions[transaction_id] = [(at, held)]
        return held

    def change(self, transaction_id: str, held: HeldTariff, at: datetime) -> str:
        """A ChangeTransactionTariff status: Accepted, NoCurrencyChange or DuplicateTariffId."""
        segments = self.transactions.setdefault(transaction_id, [])
        if segments and segments[-1][1].model.currency != held.model.currency:
            return "NoCurrencyChange"
        known = self._known(held.tariff_id)
        if known is not None and known.verified.hash != held.verified.hash:
            return "DuplicateTariffId"
        segments.append((at, held))
        return "Accepted"

    def segments(self, transaction_id: str) -> list[TariffSegment]:
        return [TariffSegment(at, h.model) for at, h in self.transactions.get(transaction_id, ())]

    def current(self, transaction_id: str) -> HeldTariff | None:
        segments = self.transactions.get(transaction_id)
        return segments[-1][1] if segments else None

    def end(self, transaction_id: str) -> None:
        self.transactions.pop(transaction_id, None)

    def clear(self, tariff_ids: list[str] | None, evse_id: int | None) -> list[dict[str, Any]]:
        """ClearTariffs results: default tariffs removed (transactions keep theirs)."""
        results: list[dict[str, Any]] = []
        for key in list(self.defaults):
            if evse_id is not None and key != evse_id:
                continue
            keep = []
            for h in self.defaults[key]:
                if tariff_ids is None or h.tariff_id in tariff_ids:
                    results.append({"tariffId": h.tariff_id, "status": "Accepted"})
                else:
                    keep.append(h)
            self.defaults[key] = keep
        return results or [{"status": "NoTariff"}]

    def assignments(self, evse_id: int) -> list[dict[str, Any]]:
        """GetTariffs ``tariffAssignments`` for one EVSE (0: all)."""
        out: dict[str, dict[str, Any]] = {}
        for key, held in sorted(self.defaults.items()):
            if evse_id not in (0, key) and key != 0:
                continue
            for h in held:
                entry = out.setdefault(h.tariff_id, {"tariffId": h.tariff_id,
                                                     "tariffKind": "DefaultTariff"})
                if h.model.valid_from is not None:
                    entry["validFrom"] = h.model.valid_from.isoformat().replace("+00:00", "Z")
                if key:
                    entry.setdefault("evseIds", []).append(key)
        return list(out.values())
