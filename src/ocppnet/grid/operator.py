"""The grid operator's service (DSO): curtail and release targets, heartbeats, proof, audit.

A :class:`GridOperator` lives on a :class:`~ocppnet.participant.Participant` (its overlay id,
keys and upstreams). It keeps, per target (a site's node or a station), what it *wants* in
force (limit and end), sends it as SetChargingProfile / ClearChargingProfile, repeats it in
every GridHeartbeat, checks each answer's receipt against the key registered for the target
(:mod:`ocppnet.grid.receipts`) and writes every command and every change of what a target
reports into the audit log. GridMeasurement frames are verified the same way and kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocppnet.errors import GridRefused, OcppNetError
from ocppnet.grid.audit import AuditEntry, AuditLog
from ocppnet.grid.config import GridSection, TargetSection
from ocppnet.grid.messages import (
    Receipt,
    curtail_request,
    heartbeat_request,
    iso,
    release_request,
)
from ocppnet.grid.receipts import ReceiptVerdict, check_receipt
from ocppnet.participant import Participant
from ocppnet.rpc.frames import JsonObject
from ocppnet.security.keys import KeyMaterialError, load_public_pem
from ocppnet.security.signatures import verify
from ocppnet.security.trust import TrustStore
from ocppnet.transport.handlers import CallContext

__all__ = ["CommandRefused", "GridOperator", "TargetState"]

log = logging.getLogger("ocppnet.grid.operator")


CommandRefused = GridRefused
"""A command the operator itself must not send (unknown target, below minimum...)."""


@dataclass(slots=True)
class TargetState:
    """What the operator wants at a target and what the target last proved."""

    config: TargetSection
    keys: TrustStore
    limit_w: float | None = None
    until: float | None = None
    receipt: Receipt | None = None
    proven: bool = False
    problem: str = ""
    answered_at: float | None = None
    measurements: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=500))

    def wanted(self, now: float) -> tuple[float | None, float | None]:
        if self.limit_w is None or self.until is None or self.until <= now:
            return None, None
        return self.limit_w, self.until - now

    def as_json(self, now: float) -> dict[str, Any]:
        limit, remaining = self.wanted(now)
        receipt = self.receipt
        return {
            "id": self.config.id, "devices": self.config.devices,
            "minimumW": self.config.minimum_w,
            "wanted": None if limit is None else {"limitW": limit, "until": iso(now + (
                remaining or 0))},
            "inForce": None if receipt is None else {
                "state": receipt.state.value, "limitW": receipt.limit_w,
                "since": iso(receipt.since),
                "until": None if receipt.until is None else iso(receipt.until)},
            "proven": self.proven, "problem": self.problem,
            "answeredAt": None if self.answered_at is None else iso(self.answered_at),
            "measurements": list(self.measurements)[-50:],
        }


def _load_keys(target: TargetSection) -> TrustStore:
    trust = TrustStore()
    try:
        trust.add(load_public_pem(Path(target.key).read_bytes()), name=target.id)
    except (OSError, KeyMaterialError) as exc:
        raise CommandRefused("BadKey", f"grid.targets: {target.id}: key {target.key}: "
                                       f"{exc}") from None
    return trust


class GridOperator:
    """The DSO on ``participant``; ``start()`` runs heartbeats, ``stop()`` ends them."""

    def __init__(
        self,
        participant: Participant,
        section: GridSection,
        audit: AuditLog,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.participant = participant
        self.section = section
        self.audit = audit
        self.clock = clock
        self.targets = {t.id: TargetState(t, _load_keys(t), measurements=deque(
            maxlen=section.measurements_kept)) for t in section.targets}
        self._sequence = 0
        self._task: asyncio.Task[None] | None = None
        participant.handlers.add("GridMeasurement", self.on_measurement)

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._heartbeats(), name="grid-heartbeats")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def restore(self) -> None:
        """What each target should have in force, from the audit log: a restarted operator
        keeps its curtailments (the heartbeats carry them again)."""
        now = self.clock()
        for state in self.targets.values():
            for entry in await self.audit.recent(target=state.config.id, limit=500):
                if entry.action == "ClearChargingProfile" and entry.outcome != "Rejected":
                    break
                if entry.action == "SetChargingProfile" and entry.outcome != "Rejected" \
                        and entry.limit_w is not None and entry.duration_s is not None:
                    if entry.at + entry.duration_s > now:
                        state.limit_w, state.until = entry.limit_w, entry.at + entry.duration_s
                        log.info("event=grid_restored target=%s limit_w=%.0f until=%s",
                                 state.config.id, entry.limit_w, iso(state.until))
                    break

    def next_sequence(self) -> int:
        """Grows with every message, across restarts too (milliseconds of the wall clock)."""
        self._sequence = max(self._sequence + 1, int(self.clock() * 1000))
        return self._sequence

    def target(self, target_id: str) -> TargetState:
        state = self.targets.get(target_id)
        if state is None:
            known = ", ".join(self.targets) or "none"
            raise CommandRefused("UnknownTarget",
                                 f"unknown target {target_id!r} (configured: {known})")
        return state

    # --- commands -----------------------------------------------------------------------

    async def curtail(self, target_id: str, limit_w: float, duration_s: float) -> AuditEntry:
        """Limit ``target_id`` to ``limit_w`` for ``duration_s``; the audit entry says what
        came back. CommandRefused before anything is sent for a limit the law forbids."""
        state = self.target(target_id)
        minimum = state.config.minimum_w
        if not limit_w >= minimum:
            raise CommandRefused(
                "BelowMinimum", f"limit {limit_w:.0f} W for {target_id} is below the "
                f"guaranteed minimum {minimum:.0f} W for {state.config.devices} device(s) "
                "(§14a EnWG, BK6-22-300)")
        if not 0 < duration_s <= self.section.max_duration_s:
            raise CommandRefused("InvalidDuration", f"duration {duration_s:g} s must be in (0, "
                                 f"{self.section.max_duration_s:g}]")
        now = self.clock()
        state.limit_w, state.until = float(limit_w), now + duration_s
        sequence = self.next_sequence()
        payload = curtail_request(limit_w, duration_s, sequence=sequence)
        return await self._command(state, "SetChargingProfile", payload, sequence,
                                   float(limit_w), float(duration_s))

    async def release(self, target_id: str) -> AuditEntry:
        state = self.target(target_id)
        state.limit_w, state.until = None, None
        sequence = self.next_sequence()
        return await self._command(state, "ClearChargingProfile",
                                   release_request(sequence=sequence), sequence)

    async def heartbeat(self, state: TargetState) -> AuditEntry | None:
        """One heartbeat (with the wanted limit); an audit entry when something changed."""
        limit, remaining = state.wanted(self.clock())
        sequence = self.next_sequence()
        payload = heartbeat_request(sequence=sequence, period_s=self.section.heartbeat_period_s,
                                    limit_w=limit, remaining_s=remaining)
        before = (state.proven, state.receipt.state if state.receipt else None,
                  state.receipt.limit_w if state.receipt else None, state.problem)
        entry = await self._exchange(state, "GridHeartbeat", payload, sequence)
        after = (state.proven, state.receipt.state if state.receipt else None,
                 state.receipt.limit_w if state.receipt else None, state.problem)
        if before != after:
            await self.audit.record(entry)
            return entry
        return None

    async def _command(self, state: TargetState, action: str, payload: JsonObject,
                       sequence: int, limit_w: float | None = None,
                       duration_s: float | None = None) -> AuditEntry:
        entry = await self._exchange(state, action, payload, sequence, limit_w, duration_s)
        await self.audit.record(entry)
        log.info("event=grid_command target=%s action=%s outcome=%s proven=%s state=%s "
                 "in_force_w=%s detail=%r", state.config.id, action, entry.outcome,
                 entry.proven, entry.state, entry.in_force_w, entry.detail)
        return entry

    async def _exchange(self, state: TargetState, action: str, payload: JsonObject,
                        sequence: int, limit_w: float | None = None,
                        duration_s: float | None = None) -> AuditEntry:
        target = state.config.id
        now = self.clock()
        try:
            response = await self.participant.call(target, action, payload)
        except OcppNetError as exc:
            state.proven, state.problem = False, f"{exc.code}: {exc.description}"
            return AuditEntry(now, target, action, sequence, exc.code, False, limit_w,
                              duration_s, detail=exc.description[:500])
        verdict: ReceiptVerdict = check_receipt(
            action, response, target=target, sequence=sequence, target_keys=state.keys,
            version=self.participant.version, now=datetime.now(UTC))
        state.answered_at = now
        outcome = str(response.get("status"))
        info = response.get("statusInfo") or {}
        detail = verdict.reason if not verdict.ok else str(info.get("additionalInfo", ""))
        if verdict.ok:
            state.receipt, state.proven, state.problem = verdict.receipt, True, ""
        else:
            state.proven, state.problem = False, verdict.reason
            log.warning("event=grid_receipt_refused target=%s action=%s reason=%r", target,
                        action, verdict.reason)
        receipt = verdict.receipt if verdict.ok else None
        return AuditEntry(
            now, target, action, sequence, outcome, verdict.ok, limit_w, duration_s,
            detail=detail[:500],
            state=None if receipt is None else receipt.state.value,
            in_force_w=None if receipt is None else receipt.limit_w,
            since=None if receipt is None else receipt.since,
            until=None if receipt is None else receipt.until)

    async def _heartbeats(self) -> None:
        """One loop per target: a target that does not answer delays no other's heartbeat."""
        await asyncio.gather(*(self._beat(s) for s in self.targets.values()))

    async def _beat(self, state: TargetState) -> None:
        period = self.section.heartbeat_period_s
        while True:
            started = self.clock()
            try:
                await self.heartbeat(state)
            except Exception:
                log.exception("event=grid_heartbeat_failed target=%s", state.config.id)
            await asyncio.sleep(max(0.0, period - (self.clock() - started)))

    # --- measurements -------------------------------------------------------------------

    async def on_measurement(self, ctx: CallContext, payload: JsonObject) -> JsonObject:
        """A site's GridMeasurement: kept if signed by the key registered for that target."""
        target = str(payload.get("target"))
        state = self.targets.get(target)
        if state is None:
            log.warning("event=grid_measurement_unknown target=%s from=%s", target,
                        "/".join(ctx.path))
            return {"status": "Rejected"}
        verdicts = verify(payload, action="GridMeasurement", kind="request",
                          version=ctx.version, trusted=state.keys, now=datetime.now(UTC))
        proven = any(v.valid for v in verdicts)
        if not proven:
            log.warning("event=grid_measurement_refused target=%s reason=%r", target,
                        "; ".join(v.reason for v in verdicts) or "unsigned")
            return {"status": "Rejected"}
        state.measurements.append({
            "at": payload["timestamp"], "powerW": payload["powerW"], "state": payload["state"],
            "limitW": payload.get("limitW"), "sequence": payload["sequence"]})
        return {"status": "Accepted"}

    def status(self) -> dict[str, Any]:
        now = self.clock()
        return {"operator": self.participant.id,
                "heartbeatPeriodS": self.section.heartbeat_period_s,
                "targets": [s.as_json(now) for s in self.targets.values()]}
