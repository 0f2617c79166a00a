"""The other direction: a station signs its TransactionEvents, a networking node carries them,
the CSMS verifies them and records the verdict in its message log; a forged one is refused.

    CS-1 (SimulatedStation, signs TransactionEvent) ── NODE-A ── CSMS-1 (CsmsApp, secured)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.node.config import parse_config
from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.node.service import Node
from ocppnet.rpc.frames import Call
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicySet
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.store import MessageLogEntry
from ocppnet.transport import Backoff
from ocppnet.transport.secured import record_verdicts, secure_handlers
from tests.integration import stop_node


def contexts(station_key: KeyPair) -> tuple[SecurityContext, SecurityContext]:
    """(station, CSMS): the station signs TransactionEvent, the CSMS requires that key."""
    signs = {"policies": [{"id": "station", "rules": [
        {"direction": "outgoing", "action": "TransactionEvent", "kind": "request",
         "sign_with": ["station"]}]}]}
    requires = {"policies": [{"id": "csms", "rules": [
        {"direction": "incoming", "action": "TransactionEvent", "kind": "request",
         "require": "all_listed", "keys": [station_key.key_id]}]}]}
    trust = TrustStore()
    trust.add(station_key.public_key, name="CS-1")
    return (
        SecurityContext(trust=TrustStore(), signing_keys={"station": station_key},
                        policies=PolicySet.from_config(signs)),
        SecurityContext(trust=trust, policies=PolicySet.from_config(requires)),
    )


async def until(check: Callable[[], Any]) -> Any:
    async with asyncio.timeout(10):  # guards against a hang only
        while not (result := await check()):  # noqa: ASYNC110 (a store has no change event)
            await asyncio.sleep(0.02)
        return result


class Net:
    def __init__(self, app: CsmsApp, node: Node, station: SimulatedStation) -> None:
        self.app, self.node, self.station = app, node, station
        self.forge = False
        node.router.guards.append(self._forger)

    def _forger(self, call: Call, version: str) -> None:
        """NODE-A gone bad: renumbers every TransactionEvent it forwards."""
        if self.forge and call.action == "TransactionEvent":
            call.payload["seqNo"] = call.payload["seqNo"] + 1000

    async def log(self, action: str) -> list[MessageLogEntry]:
        await self.app.store.flush()
        entries = await self.app.store.list_messages("CS-1", limit=500)
        return [e for e in reversed(entries) if e.action == action]


@pytest.fixture
async def net() -> AsyncIterator[Net]:
    station_ctx, csms_ctx = contexts(KeyPair.generate("secp256r1"))
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        secured = secure_handlers(
            app.handlers, csms_ctx, on_verdict=record_verdicts(app, refused_only=True)
        )
        csms = await serve_overlay_csms(secured, node_id="CSMS-1", on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        node = Node(parse_config({"node": {"id": "NODE-A", "upstreams": [
            {"id": "CSMS-1", "mode": "overlay", "url": f"ws://127.0.0.1:{csms.port}/ocpp"}]}}))
        await node.start()
        stack.push_async_callback(stop_node, node)
        station = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{node.port}/ocpp", version="2.0.1",
            scenario=Scenario(auto=False, meter_interval_s=600, heartbeat_s=600),
            clock=SimClock(speed=1.0), backoff=Backoff(base=0.05, cap=0.2, jitter=0.05),
            call_timeout=5.0, security=station_ctx)
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        await until(lambda: asyncio.sleep(0, station.accepted))
        yield Net(app, node, station)


async def test_signed_transaction_events_are_verified_and_logged_at_the_csms(net: Net) -> None:
    answer = await net.app.remote_start("CS-1", "TOKEN-1", evse_id=1)
    assert answer["status"] == "Accepted"
    transactions = await until(lambda: net.app.store.list_transactions("CS-1"))
    assert transactions[0].station_id == "CS-1"
    verdicts = await until(lambda: _verdicts(net))
    assert verdicts[0] == "valid"
    requests = [e for e in await net.log("TransactionEvent")
                if e.direction == "in" and e.message_type == 2]
    assert all(e.signature is not None for e in requests)  # one row per request, with verdict
    boots = await net.log("BootNotification")
    assert boots[0].signature == "unsigned"  # not signed by policy, logged as such
    assert net.station.stats.errors == 0


async def test_a_forged_transaction_event_is_refused_and_logged(net: Net) -> None:
    net.forge = True
    assert (await net.app.remote_start("CS-1", "TOKEN-2", evse_id=1))["status"] == "Accepted"
    verdicts = await until(lambda: _verdicts(net))
    assert verdicts[0].startswith("invalid (reject: TransactionEventRequest: signature 0: "
                                  "invalid signature")
    assert await net.app.store.list_transactions("CS-1") == []
    # the station got SecurityError back (the log row can be committed before it arrives)
    assert await until(lambda: _station_errors(net)) >= 1


async def _station_errors(net: Net) -> int:
    return net.station.stats.errors


async def _verdicts(net: Net) -> list[str]:
    return [e.signature for e in await net.log("TransactionEvent")
            if e.direction == "in" and e.message_type == 2 and e.signature is not None]
