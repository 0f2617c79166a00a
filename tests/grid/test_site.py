"""GridSite's handlers without sockets: who may command, stale sequences, signed answers,
and the timer that moves a silent site to failsafe (a clock passed in)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from ocppnet.errors import SecurityError
from ocppnet.grid.config import GridSiteSection
from ocppnet.grid.lpc import LpcState, LpcStatus
from ocppnet.grid.messages import curtail_request, heartbeat_request, release_request
from ocppnet.grid.receipts import check_receipt
from ocppnet.grid.site import GridSite, grid_command
from ocppnet.security.keys import KeyPair
from ocppnet.security.signatures import sign
from ocppnet.security.trust import TrustStore
from ocppnet.transport.connection import Connection
from ocppnet.transport.handlers import CallContext
from tests.grid.net import site_security

OPERATOR = KeyPair.generate("ed25519")
STRANGER = KeyPair.generate("ed25519")
SITE = KeyPair.generate("ed25519")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def site(clock: Clock, applied: list[LpcStatus]) -> GridSite:
    section = GridSiteSection(operator="GRID-OP", signing_key="site", heartbeat_timeout_s=0.2,
                              measurement_interval_s=0)
    return GridSite("NODE-B", section, site_security(OPERATOR, SITE, "site"), applied.append,
                    clock=clock)


def ctx(action: str, source: str = "GRID-OP") -> CallContext:
    return CallContext(cast(Connection, None), source, "m1", action, "2.0.1",
                       (source, "CSMS-1"))


def signed(action: str, payload: dict[str, Any], key: KeyPair = OPERATOR) -> dict[str, Any]:
    return sign(payload, action=action, kind="request", version="2.0.1", key=key,
                now=datetime.now(UTC))


def proven(action: str, answer: dict[str, Any], sequence: int) -> bool:
    trust = TrustStore()
    trust.add(SITE.public_key)
    return check_receipt(action, answer, target="NODE-B", sequence=sequence,
                         target_keys=trust, version="2.0.1", now=datetime.now(UTC)).ok


async def test_curtail_release_and_signed_receipts() -> None:
    clock, applied = Clock(), []
    s = site(clock, applied)
    answer = await s.on_command(ctx("SetChargingProfile"), signed(
        "SetChargingProfile", curtail_request(6_000, 60, sequence=5)))
    assert answer["status"] == "Accepted" and proven("SetChargingProfile", answer, 5)
    assert applied[-1].state is LpcState.LIMITED and applied[-1].limit_w == 6_000
    answer = await s.on_command(ctx("ClearChargingProfile"), signed(
        "ClearChargingProfile", release_request(sequence=6)))
    assert answer["status"] == "Accepted" and applied[-1].state is LpcState.UNLIMITED
    again = await s.on_command(ctx("ClearChargingProfile"), signed(
        "ClearChargingProfile", release_request(sequence=7)))
    assert again["status"] == "Unknown" and again["statusInfo"]["reasonCode"] == "NoLimit"
    assert proven("ClearChargingProfile", again, 7)  # a refusal is signed too


async def test_only_the_operator_may_command() -> None:
    s = site(Clock(), [])
    payload = curtail_request(6_000, 60, sequence=5)
    with pytest.raises(SecurityError, match="grid commands come from GRID-OP, not NODE-A"):
        await s.on_command(ctx("SetChargingProfile", "NODE-A"),
                           signed("SetChargingProfile", payload))
    with pytest.raises(SecurityError, match="requires a signature by role grid-operator"):
        await s.on_command(ctx("SetChargingProfile"),
                           signed("SetChargingProfile", payload, STRANGER))
    with pytest.raises(SecurityError, match="unsigned"):
        await s.on_heartbeat(ctx("GridHeartbeat"), heartbeat_request(sequence=1, period_s=1))
    assert s.status().state is LpcState.UNLIMITED and s.last_sequence == -1


async def test_an_old_sequence_is_refused() -> None:
    s = site(Clock(), [])
    await s.on_heartbeat(ctx("GridHeartbeat"), signed(
        "GridHeartbeat", heartbeat_request(sequence=10, period_s=1)))
    stale = await s.on_command(ctx("SetChargingProfile"), signed(
        "SetChargingProfile", curtail_request(6_000, 60, sequence=9)))
    assert stale["status"] == "Rejected"
    assert stale["statusInfo"]["reasonCode"] == "StaleSequence"
    assert s.status().state is LpcState.UNLIMITED


async def test_heartbeat_with_a_wanted_limit_installs_it() -> None:
    clock, applied = Clock(), []
    s = site(clock, applied)
    answer = await s.on_heartbeat(ctx("GridHeartbeat"), signed("GridHeartbeat", heartbeat_request(
        sequence=3, period_s=1, limit_w=8_000, remaining_s=30)))
    assert answer["receipt"]["state"] == "limited" and answer["receipt"]["limitW"] == 8_000
    answer = await s.on_heartbeat(ctx("GridHeartbeat"), signed(
        "GridHeartbeat", heartbeat_request(sequence=4, period_s=1)))
    assert answer["receipt"]["state"] == "unlimited"  # the operator no longer wants it


async def test_the_timer_goes_failsafe_without_any_message() -> None:
    applied: list[LpcStatus] = []
    s = GridSite("NODE-B", GridSiteSection(operator="GRID-OP", signing_key="site",
                                           heartbeat_timeout_s=0.1),
                 site_security(OPERATOR, SITE, "site"), applied.append)
    await s.start()
    try:
        async with asyncio.timeout(10):  # guards against a hang only
            while s.status().state is not LpcState.FAILSAFE:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    finally:
        await s.stop()
    assert applied[-1].state is LpcState.FAILSAFE and applied[-1].limit_w == 4_200


def test_grid_commands_are_told_apart_by_their_vendor_tag() -> None:
    assert grid_command("SetChargingProfile", curtail_request(6_000, 60, sequence=1))
    foreign = {"evseId": 1, "chargingProfile": {"id": 1, "chargingProfilePurpose": "TxProfile"}}
    assert not grid_command("SetChargingProfile", foreign)
    broken = curtail_request(6_000, 60, sequence=1)
    del broken["chargingProfile"]["chargingSchedule"]
    assert grid_command("SetChargingProfile", broken)  # ours, malformed: the site answers


async def test_a_held_back_heartbeat_is_no_sign_of_life() -> None:
    """A node that keeps the operator's heartbeats and hands them on later (each once, in
    order, within the signature window) cannot stretch the site's control past the timeout."""
    clock = Clock()
    clock.now = datetime.now(UTC).timestamp()
    s = site(clock, [])  # heartbeat timeout 0.2 s
    old = sign(heartbeat_request(sequence=1, period_s=1), action="GridHeartbeat",
               kind="request", version="2.0.1", key=OPERATOR,
               now=datetime.fromtimestamp(clock.now - 10, UTC))
    with pytest.raises(SecurityError, match=r"signed 10 s ago, more than the heartbeat "
                                            r"timeout \(0\.2 s\)"):
        await s.on_heartbeat(ctx("GridHeartbeat"), old)
    assert s.machine.last_heartbeat is None
