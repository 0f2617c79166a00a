"""The grid operator in ``ocppnet demo``: NODE-B becomes a site the DSO curtails.

:func:`add_grid_operator` makes a started node (with load management) a grid site, puts a
:class:`GridOperator` on the demo's grid participant (heartbeats, audit log in the demo's
directory) and curtails the site in turns, so the dashboard's grid panel shows limits,
receipts and the measured power against the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ocppnet.errors import OcppNetError
from ocppnet.grid.audit import AuditLog
from ocppnet.grid.config import GridSection, GridSiteSection, TargetSection
from ocppnet.grid.minimum import guaranteed_minimum_w
from ocppnet.grid.node_site import NodeGridSite
from ocppnet.grid.operator import GridOperator
from ocppnet.grid.policy import site_security
from ocppnet.node.service import Node
from ocppnet.participant import Participant
from ocppnet.security.keys import KeyPair, public_pem

__all__ = ["add_grid_operator"]

log = logging.getLogger("ocppnet.grid.demo")


async def add_grid_operator(
    stack: contextlib.AsyncExitStack,
    *,
    node: Node,
    participant: Participant,
    operator_key: KeyPair,
    site_key: KeyPair,
    directory: Path,
    devices: int = 4,
    heartbeat_s: float = 5.0,
    timeout_s: float = 15.0,
    limits_w: Sequence[float] = (22_000.0, 14_000.0),
    every_s: float = 40.0,
) -> GridOperator:
    """Wire it all; everything started is stopped by ``stack``. Returns the operator.
    ``site_key`` signs the site's receipts and measurements, and its load manager's
    TxDefaultProfiles (the demo's stations accept limits only signed)."""
    key_file = directory / f"{node.config.id.lower()}.pub.pem"
    key_file.write_bytes(public_pem(site_key.public_key))
    minimum = guaranteed_minimum_w(devices)
    section = GridSiteSection(
        operator=participant.id, signing_key="site", heartbeat_timeout_s=timeout_s,
        failsafe_limit_w=minimum, controllable_devices=devices, measurement_interval_s=2.0)
    security = site_security(operator_key, site_key, "site")
    manager = node.load_manager
    assert manager is not None, "the demo's site needs [node.load_management]"
    manager.sign = lambda action, payload, version: security.sign_with(
        ["site"], action, "request", payload, version=version, now=datetime.now(UTC))
    site = NodeGridSite(node, section, security)
    await site.start()
    stack.push_async_callback(site.stop)
    audit = AuditLog(directory / "grid-audit.sqlite3")
    await audit.open()
    stack.push_async_callback(audit.close)
    operator = GridOperator(participant, GridSection(
        heartbeat_period_s=heartbeat_s,
        targets=(TargetSection(id=node.config.id, key=key_file, devices=devices),)), audit)
    operator.start()
    stack.push_async_callback(operator.stop)
    task = asyncio.create_task(_curtail_in_turns(operator, node.config.id, limits_w, every_s),
                               name="grid-demo")

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(cancel)
    return operator


async def _curtail_in_turns(operator: GridOperator, target: str, limits_w: Sequence[float],
                            every_s: float) -> None:
    """A limit for two thirds of every period, released in the last third."""
    for limit in itertools.cycle(limits_w):
        await asyncio.sleep(every_s / 3)
        try:
            await operator.curtail(target, limit, every_s * 2 / 3)
            await asyncio.sleep(every_s * 2 / 3)
            await operator.release(target)
        except OcppNetError as exc:
            log.warning("event=grid_demo_failed target=%s error=%r", target, exc.description)
