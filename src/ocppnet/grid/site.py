"""Where the power flows: a node or a station enforcing the grid operator's limits on its own.

:class:`GridSite` answers the operator's SetChargingProfile / ClearChargingProfile (the grid
profile only) and GridHeartbeat, drives an :class:`~ocppnet.grid.lpc.LpcMachine` with them,
and calls ``apply(status)`` whenever what is in force changes — also when nothing arrives:
its own timer moves the machine to failsafe when the heartbeat stops, so a box in the
middle that drops the operator's messages cannot keep the site unlimited. Every answer is
signed with ``signing_key`` and carries the receipt (state, limit, since, until).

Only a request signed by a key with the operator's role counts (whatever the policy file
says), and its sequence number must grow: a replayed old heartbeat is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ocppnet.errors import ConfigError, SecurityError
from ocppnet.grid.config import GridSiteSection
from ocppnet.grid.lpc import (
    Curtail,
    Event,
    Heartbeat,
    LpcError,
    LpcMachine,
    LpcState,
    LpcStatus,
    Release,
    Tick,
)
from ocppnet.grid.messages import (
    VENDOR_ID,
    Command,
    MessageError,
    parse_command,
    parse_heartbeat,
    receipt_fields,
)
from ocppnet.grid.state_file import (
    SiteState,
    load_site_state,
    restore_machine,
    save_site_state,
)
from ocppnet.rpc.frames import JsonObject
from ocppnet.rpc.timestamps import parse_timestamp
from ocppnet.security.context import SecurityContext
from ocppnet.security.signatures import SignatureVerdict
from ocppnet.transport.handlers import CallContext, Handler
from ocppnet.transport.secured import security_decision

__all__ = ["GridSite", "check_signing_key", "grid_command"]

log = logging.getLogger("ocppnet.grid.site")

#: ``apply(status)``: put what is in force into effect (sync or async)
Apply = Callable[[LpcStatus], Awaitable[None] | None]


def grid_command(action: str, payload: JsonObject) -> bool:
    """Whether a SetChargingProfile / ClearChargingProfile is the grid operator's (by vendor
    tag), i.e. one :class:`GridSite` must answer instead of the ordinary handler."""
    try:
        parse_command(action, payload)
    except (MessageError, KeyError, TypeError, ValueError):
        custom = payload.get("customData") or (payload.get("chargingProfile") or {}).get(
            "customData")
        return isinstance(custom, dict) and custom.get("vendorId") == VENDOR_ID
    return True


def check_signing_key(security: SecurityContext, name: str, key: str) -> None:
    """ConfigError naming ``key`` unless ``security`` can sign with the key called ``name``."""
    try:
        security.sign_with([name], "GridHeartbeat", "response", {}, version="2.0.1",
                           now=datetime.now(UTC))
    except SecurityError:
        raise ConfigError(f"{key}: {name!r} is not one of the [security] signing_keys") from None


class GridSite:
    """The LPC of one grid connection point (a node) or one station (``target``)."""

    def __init__(
        self,
        target: str,
        section: GridSiteSection,
        security: SecurityContext,
        apply: Apply,
        *,
        clock: Callable[[], float] = time.time,
        check_source: bool = True,
    ) -> None:
        self.target = target
        self.section = section
        self.security = security
        self.apply = apply
        self.clock = clock
        self.check_source = check_source
        """Refuse operator messages whose originator (PATH[0]) is not ``section.operator``
        (off for a station in standard mode: the last node strips the path)."""
        self.machine = LpcMachine(section.lpc_settings(), now=clock())
        self.last_sequence = -1
        saved = None if section.state_file is None else load_site_state(
            section.state_file, target)
        if saved is not None:  # a restart: go on enforcing what was in force
            self.machine = restore_machine(saved, section.lpc_settings(), clock(),
                                           source=str(section.state_file))
            self.last_sequence = saved.last_sequence
            status = self.machine.status()
            log.info("event=grid_state_restored target=%s state=%s last_sequence=%d file=%s",
                     target, status.state.value, self.last_sequence, section.state_file)
        self.applied: LpcStatus | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # --- life cycle ---------------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        return {"SetChargingProfile": self.on_command, "ClearChargingProfile": self.on_command,
                "GridHeartbeat": self.on_heartbeat}

    async def start(self) -> None:
        await self._apply(self.machine.status())
        if self._task is None:
            self._task = asyncio.create_task(self._timer(), name=f"grid-site:{self.target}")
        log.info("event=grid_site_started target=%s operator=%s timeout_s=%g failsafe_w=%g "
                 "minimum_w=%g", self.target, self.section.operator,
                 self.section.heartbeat_timeout_s, self.section.failsafe_limit_w,
                 self.section.minimum_w)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def status(self) -> LpcStatus:
        return self.machine.status()

    def now(self) -> float:
        """The clock, never before the machine's last event: a wall clock stepped back (NTP)
        counts as no time passing, not as an event the machine must refuse."""
        return max(self.clock(), self.machine.now)

    # --- handlers -----------------------------------------------------------------------

    async def on_command(self, ctx: CallContext, payload: JsonObject) -> JsonObject:
        self._check_signer(ctx, payload)
        try:
            command = parse_command(ctx.action, payload)
        except MessageError as exc:
            return self._answer(ctx, self.last_sequence, "Rejected", "InvalidProfile", str(exc))
        now = self.now()
        event: Event = Release(now) if command.limit_w is None else Curtail(
            command.limit_w, command.duration_s or 0.0, now)
        return await self._handle(ctx, command, event)

    async def on_heartbeat(self, ctx: CallContext, payload: JsonObject) -> JsonObject:
        self._check_signer(ctx, payload)
        sequence, wanted = parse_heartbeat(payload)
        now = self.now()
        command = Command(sequence)
        events: list[Event] = [Heartbeat(now)]
        status = self.machine.status()
        if wanted is not None:
            limit, remaining = wanted
            until = now + remaining
            if status.state is not LpcState.LIMITED or status.limit_w != limit or \
                    status.until is None or abs(status.until - until) > 2.0:
                # a curtailment that did not arrive (or arrived changed): the heartbeat repairs
                events.append(Curtail(limit, remaining, now))
        elif status.state is LpcState.LIMITED:
            events.append(Release(now))
        answer: JsonObject = {}
        for event in events:
            answer = await self._handle(ctx, command, event, action="GridHeartbeat")
            if answer.get("status") != "Accepted":
                break
        return answer

    # --- internals ----------------------------------------------------------------------

    def _check_signer(self, ctx: CallContext, payload: JsonObject) -> None:
        """SecurityError unless the operator signed this (role) and sent it (PATH[0])."""
        if self.check_source and ctx.path and ctx.path[0] != self.section.operator:
            raise SecurityError(f"{ctx.action}: grid commands come from "
                                f"{self.section.operator}, not {ctx.path[0]}")
        decision = security_decision()  # already checked by the endpoint's SecuredHandlers
        if decision is None:
            decision = self.security.check_incoming(
                ctx.action, "request", payload, version=ctx.version, now=datetime.now(UTC))
        if not decision.accepted:
            raise decision.error()
        role = self.section.operator_role
        if role not in decision.signer_roles:
            detail = "; ".join(v.reason for v in decision.verdicts) or "unsigned"
            log.warning("event=grid_command_refused target=%s action=%s reason=%r",
                        self.target, ctx.action, detail)
            raise SecurityError(f"{ctx.action}: needs a signature by a key with role "
                                f"{role} ({detail})")
        # a box on the way that holds the operator's messages back and delivers them later
        # must not stretch the heartbeat: what was signed a timeout ago is no sign of life
        age = self._signature_age(payload, decision.verdicts)
        if age is not None and age > self.section.heartbeat_timeout_s:
            raise SecurityError(f"{ctx.action}: signed {age:.0f} s ago, more than the "
                                f"heartbeat timeout ({self.section.heartbeat_timeout_s:g} s)")

    def _signature_age(self, payload: JsonObject,
                       verdicts: tuple[SignatureVerdict, ...]) -> float | None:
        """Seconds since the operator's (role-bearing, valid) signature was made."""
        signatures = payload.get("signatures")
        role = self.section.operator_role
        ages = []
        for verdict in verdicts:
            if not verdict.valid or verdict.key_id is None or not isinstance(signatures, list):
                continue
            if role not in self.security.roles.roles_of([verdict.key_id]):
                continue
            signed_at = parse_timestamp(signatures[verdict.index].get("timestamp"))
            if signed_at is not None:
                ages.append(self.clock() - signed_at.timestamp())
        return min(ages) if ages else None

    async def _handle(self, ctx: CallContext, command: Command, event: Event,
                      *, action: str | None = None) -> JsonObject:
        async with self._lock:
            if command.sequence <= self.last_sequence and not (
                    action == "GridHeartbeat" and command.sequence == self.last_sequence):
                return self._answer(ctx, command.sequence, "Rejected", "StaleSequence",
                                    f"sequence {command.sequence} <= {self.last_sequence} "
                                    "already seen", action=action)
            try:
                status = self.machine.handle(event)
            except LpcError as exc:
                log.info("event=grid_refused target=%s action=%s reason=%s detail=%r",
                         self.target, action or ctx.action, exc.reason_code, exc.description)
                return self._answer(ctx, command.sequence, "Rejected", exc.reason_code,
                                    exc.description, action=action)
            self.last_sequence = command.sequence
            await self._save()  # before the answer: what it receipts survives a restart
            await self._apply(status)
            self._wake.set()
        return self._answer(ctx, command.sequence, "Accepted", action=action)

    def _answer(self, ctx: CallContext, sequence: int, status: str, code: str = "",
                detail: str = "", *, action: str | None = None) -> JsonObject:
        action = action or ctx.action
        receipt = receipt_fields(self.target, max(sequence, 0), self.machine.status())
        answer: JsonObject = {"status": status}
        if action == "ClearChargingProfile" and status != "Accepted":
            answer["status"] = "Unknown"
        if code:
            answer["statusInfo"] = {"reasonCode": code[:20], "additionalInfo": detail[:512]}
        if action == "GridHeartbeat":
            answer["receipt"] = receipt
        else:
            answer["customData"] = {"vendorId": VENDOR_ID, **receipt}
        return self.security.sign_with(
            [self.section.signing_key], action, "response", answer, version=ctx.version,
            now=datetime.now(UTC))

    async def _apply(self, status: LpcStatus) -> None:
        previous = self.applied
        if previous is not None and (previous.state, previous.limit_w) == (
                status.state, status.limit_w):
            self.applied = status
            return
        self.applied = status
        log.info("event=grid_state target=%s state=%s limit_w=%s since=%.3f until=%s",
                 self.target, status.state.value,
                 "-" if status.limit_w is None else f"{status.limit_w:.0f}", status.since,
                 "-" if status.until is None else f"{status.until:.3f}")
        try:
            result = self.apply(status)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("event=grid_apply_failed target=%s", self.target)

    async def _timer(self) -> None:
        """Tick the machine when its next deadline is due (failsafe needs no message)."""
        while True:
            due = self.machine.next_deadline()
            delay = None if due is None else max(0.0, due - self.clock())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            self._wake.clear()
            async with self._lock:
                try:
                    status = self.machine.handle(Tick(self.now()))
                except LpcError as exc:  # the clock went back: wait for the next event
                    log.warning("event=grid_tick_refused target=%s reason=%r", self.target,
                                exc.description)
                    await asyncio.sleep(0.5)
                    continue
                if status != self.applied:
                    await self._save()
                await self._apply(status)

    async def _save(self) -> None:
        path = self.section.state_file
        if path is None:
            return
        state = SiteState(self.target, self.last_sequence, self.machine.snapshot())
        try:
            await asyncio.to_thread(save_site_state, path, state)
        except OSError as exc:  # enforcing goes on; only a restart would forget
            log.error("event=grid_state_not_saved target=%s file=%s error=%r",
                      self.target, path, exc.strerror)

    def describe(self) -> dict[str, Any]:
        """JSON-ready state (for a node's or station's introspection)."""
        status = self.machine.status()
        return {"target": self.target, "operator": self.section.operator,
                **receipt_fields(self.target, max(self.last_sequence, 0), status)}
