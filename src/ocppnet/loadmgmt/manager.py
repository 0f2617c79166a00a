"""The load manager on a networking node: watches the frames it forwards, sends the limits.

It is an observer of the :class:`~ocppnet.node.router.Router` (sessions and power come from
the stations' own requests on their way to the CSMS) and a local application
(:class:`~ocppnet.node.endpoint.LocalEndpoint`) whose Connections carry SetChargingProfile to
the stations, validated against the official schemas. Rebalances when a session starts or
ends, when the grid limit changes, and every ``interval_s``. See docs/load-management.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from ocppnet.errors import OcppNetError
from ocppnet.loadmgmt.allocator import EvseDemand, EvseKey, allocate, with_hysteresis
from ocppnet.loadmgmt.config import LoadConfig
from ocppnet.loadmgmt.profiles import profile_id_for, set_limit_request
from ocppnet.loadmgmt.sessions import SessionTracker
from ocppnet.node.endpoint import LocalEndpoint
from ocppnet.node.link_state import FrameEvent
from ocppnet.node.router import Router
from ocppnet.rpc.frames import Call, CallResult

log = logging.getLogger("ocppnet.loadmgmt")


class LoadManager:
    """Shares ``config.site_limit_w()`` among the EVSEs charging behind ``router``."""

    def __init__(
        self,
        router: Router,
        endpoint: LocalEndpoint,
        config: LoadConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.router = router
        self.endpoint = endpoint
        self.config = config
        self.clock = clock
        self.tracker = SessionTracker()
        self.sent: dict[EvseKey, float] = {}
        """The limit each EVSE accepted last (in force at the station, also when idle)."""
        self.sent_at: dict[EvseKey, float] = {}
        """When (``clock``) each of those limits was accepted."""
        self.grid_limit_w: float | None = None
        self.sign: Callable[[str, dict[str, Any], str], dict[str, Any]] | None = None
        """``sign(action, payload, version)``: sign each SetChargingProfile (stations that
        require signed profiles); None sends them unsigned."""
        self.rebalances = 0
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self.router.observers.append(self.observe)
            self._task = asyncio.create_task(self._run(), name="loadmgmt")

    async def stop(self) -> None:
        if self.observe in self.router.observers:
            self.router.observers.remove(self.observe)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> LoadManager:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def set_grid_limit(self, limit_w: float | None) -> None:
        """A limit from the grid operator (None: lifted); applied at once."""
        self.grid_limit_w = limit_w
        self._dirty.set()

    # --- observing ----------------------------------------------------------------------

    def observe(self, event: FrameEvent) -> None:
        """Router observer: stations' requests (in) and the CSMS's answers to them (out)."""
        attached = self.router.links.get(event.link_id)
        if attached is None or attached.info.role != "downstream":
            return
        frame = event.frame
        standard = attached.info.mode == "standard"
        changed = False
        if event.direction == "in" and isinstance(frame, Call):
            station = attached.info.remote_id if standard else (
                frame.path[0] if frame.path else None)
            if station is None:
                return
            version = attached.version if standard else self.router.peer_versions.get(
                station, attached.version)
            changed = self.tracker.observe_request(
                station, version, frame.message_id, frame.action, frame.payload, self.clock())
        elif event.direction == "out" and isinstance(frame, CallResult):
            station = attached.info.remote_id if standard else frame.dest
            if station is None:
                return
            changed = self.tracker.observe_answer(station, frame.message_id, frame.payload)
        if changed:
            self._dirty.set()

    # --- allocating ---------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.interval_s):
                    await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.rebalance()
            except Exception:
                log.exception("event=loadmgmt_failed node=%s", self.router.node_id)

    def wanted(self) -> dict[EvseKey, float]:
        """The limits the allocation rule wants now (hysteresis applied), without sending."""
        cfg = self.config
        site = cfg.site_limit_w(self.grid_limit_w)
        # a measurement taken before the limit in force says nothing about the demand
        evses = [
            EvseDemand(s.key, cfg.evse_min_w, cfg.evse_max_w, s.started_at,
                       s.measured_w if s.measured_at > self.sent_at.get(s.key, 0.0) else None)
            for s in self.tracker.sessions.values()
        ]
        fair = allocate(site, evses, self.sent, margin_w=cfg.margin_w)
        return with_hysteresis(site, fair, self.sent, cfg.hysteresis)

    def idle_targets(self) -> dict[EvseKey, float]:
        """Idle limits: station-wide (EVSE 0) after a boot, per EVSE after its session ended."""
        idle = self.config.idle_limit_w
        if idle is None:
            self.tracker.booted.clear()
            return {}
        targets = {(station, 0): idle for station in self.tracker.booted}
        for station in self.tracker.booted:
            self.sent.pop((station, 0), None)  # a rebooted station may have lost it: resend
        self.tracker.booted.clear()
        for key, limit in self.sent.items():
            if key[1] != 0 and key not in self.tracker.sessions and limit > idle:
                targets[key] = idle
        return targets

    async def rebalance(self) -> dict[EvseKey, float]:
        """Allocate and send what changed: lowered limits first, then raised ones."""
        target = self.wanted()
        idle = self.idle_targets()
        self.rebalances += 1
        log.info(
            "event=loadmgmt_allocation node=%s site_limit_w=%.0f sessions=%d limits=%s",
            self.router.node_id, self.config.site_limit_w(self.grid_limit_w), len(target),
            ",".join(f"{s}/{e}={w:.0f}" for (s, e), w in sorted(target.items())) or "-",
        )
        changes = {k: v for k, v in {**idle, **target}.items() if self.sent.get(k) != v}
        lower = [k for k, v in changes.items() if k not in self.sent or v < self.sent[k]]
        higher = [k for k in changes if k not in lower]
        done = await asyncio.gather(*(self._send(key, changes[key]) for key in lower))
        if not all(done):
            # a limit that did not come down leaves no room to raise others: retry later
            log.warning("event=loadmgmt_raise_deferred node=%s evses=%d",
                        self.router.node_id, len(higher))
            return target
        await asyncio.gather(*(self._send(key, changes[key]) for key in higher))
        return target

    async def _send(self, key: EvseKey, limit_w: float) -> bool:
        station, evse_id = key
        version = self.tracker.versions.get(station, "2.0.1")
        payload = set_limit_request(
            version, evse_id, limit_w, profile_id=profile_id_for(self.config.profile_id_base,
                                                                 evse_id),
            stack_level=self.config.stack_level)
        conn = self.endpoint.connection(station, version)
        if self.sign is not None:
            payload = self.sign("SetChargingProfile", payload, conn.version)
        try:
            answer = await conn.call("SetChargingProfile", payload,
                                     timeout=self.config.call_timeout_s)
        except OcppNetError as exc:
            self.sent.pop(key, None)  # unknown now: sent again at the next rebalance
            log.warning("event=loadmgmt_send_failed station=%s evse=%d limit_w=%.0f error=%r",
                        station, evse_id, limit_w, str(exc))
            return False
        status = answer.get("status")
        if status != "Accepted":
            self.sent.pop(key, None)
            log.warning("event=loadmgmt_refused station=%s evse=%d limit_w=%.0f status=%s",
                        station, evse_id, limit_w, status)
            return False
        self.sent[key] = limit_w
        self.sent_at[key] = self.clock()
        log.info("event=loadmgmt_limit station=%s evse=%d limit_w=%.0f", station, evse_id,
                 limit_w)
        return True
