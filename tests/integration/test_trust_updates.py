"""Issue 11 on loopback: a station that trusts only the owner CA, behind a networking node.

    GRID-1 (Participant, key certified by the owner CA) ──overlay──┐
                                                          CSMS-1 (carries the CPO's signed
                                                             │      management messages)
                                                          NODE-A  (optionally: its own guard)
                                                             │ standard OCPP 2.1
                                                          CS-1 (trust = the owner CA only)

The grid operator's command is accepted because its certificate travels in the signature;
a remote RevokeTrustedKey signed by the CPO (role with manage_keys) makes the station refuse
the grid operator's next command; a node guard that sees the revocation pass refuses it one
hop earlier; and an OCPP 2.1 ``Reset-Signed`` (JWS) crosses the node and is answered signed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import CallErrorReceived
from ocppnet.node.config import parse_config
from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.node.service import Node
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.security.certificates import encode_chain, issue_signer, new_ca
from ocppnet.security.context import SecurityContext
from ocppnet.security.jws import sign_jws
from ocppnet.security.keys import KeyPair
from ocppnet.security.node_guard import signature_guard
from ocppnet.security.policy import PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.signer import CommandSigner, external_limit_profile
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.transport import Backoff
from tests.integration import stop_node

CONFIG: dict[str, Any] = {
    "policies": [{"id": "station", "rules": [
        {"direction": "incoming", "action": "SetChargingProfile", "kind": "request",
         "require": "role", "roles": ["grid-operator"]},
        {"direction": "incoming", "action": "Reset", "kind": "request", "require": "role",
         "roles": ["cpo"]},
        {"direction": "incoming", "action": "RevokeTrustedKey", "kind": "request",
         "require": "role", "roles": ["cpo"], "authorize": False},
    ]}],
    "roles": [
        {"name": "grid-operator", "subjects": ["grid-operator"],
         "allow": [{"action": "SetChargingProfile"}]},
        {"name": "cpo", "subjects": ["cpo-admin"], "permissions": ["manage_keys"],
         "allow": [{"action": "Reset"}]},
    ],
}


class Pki:
    def __init__(self) -> None:
        now = datetime.now(UTC)
        self.ca_key = KeyPair.generate("secp256r1")
        self.ca = new_ca(self.ca_key.private_key, name="CPO Owner CA", now=now)
        self.grid = self.certify("grid-operator")
        self.admin = self.certify("cpo-admin")
        self.station = KeyPair.generate("secp256r1")

    def certify(self, cn: str) -> KeyPair:
        key = KeyPair.generate("secp256r1")
        cert = issue_signer(self.ca_key.private_key, self.ca, key.public_key, name=cn,
                            now=datetime.now(UTC))
        return KeyPair.of(key.private_key, tuple(encode_chain([cert])))

    def verifier(self) -> SecurityContext:
        """What the station (and a guarding node) holds: the CA, policies, roles by subject."""
        trust = TrustStore()
        trust.add_anchor(self.ca)
        return SecurityContext(trust=trust, signing_keys={"station": self.station},
                               policies=PolicySet.from_config(CONFIG),
                               roles=RoleSet.from_config(CONFIG))


class Net:
    def __init__(self, app: CsmsApp, node: Node, station: SimulatedStation,
                 grid: Participant, pki: Pki) -> None:
        self.app, self.node, self.station, self.grid, self.pki = app, node, station, grid, pki

    def limit(self, limit_w: float) -> Any:
        return self.grid.call("CS-1", "SetChargingProfile", external_limit_profile(limit_w))

    async def revoke_grid(self, form: str = "ours") -> dict[str, Any]:
        request = {"keyId": self.pki.grid.key_id, "reason": "key compromised"}
        if form == "jws":  # OCPP 2.1 RevokeTrustedKey-Signed; the station answers signed too
            jws = sign_jws(request, action="RevokeTrustedKey", message_type_id=2,
                           key=self.pki.admin, now=datetime.now(UTC))
            reply = await self.app.call("CS-1", "RevokeTrustedKey-Signed", jws)
            decoded: dict[str, Any] = json.loads(
                base64.urlsafe_b64decode(reply["payload"] + "=="))
            return decoded
        signed = CommandSigner(self.pki.admin, name="cpo-admin").sign(
            "RevokeTrustedKey", request, version="2.1", now=datetime.now(UTC))
        return await self.app.call("CS-1", "RevokeTrustedKey", signed)


async def until(check: Callable[[], Any]) -> Any:
    async with asyncio.timeout(10):  # guards against a hang only
        while not (result := check()):  # noqa: ASYNC110 (polls the simulator's state)
            await asyncio.sleep(0.02)
        return result


@pytest.fixture
async def net() -> AsyncIterator[Net]:
    pki = Pki()
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        csms = await serve_overlay_csms(app.handlers, node_id="CSMS-1",
                                        on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        node = Node(parse_config({"node": {"id": "NODE-A", "upstreams": [
            {"id": "CSMS-1", "url": f"ws://127.0.0.1:{csms.port}/ocpp", "mode": "overlay",
             "subprotocols": ["ocpp2.1"]}]}}))
        await node.start()
        stack.push_async_callback(stop_node, node)
        station = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{node.port}/ocpp", version="2.1",
            config=StationConfig(evse_max_power_w=22_000),
            scenario=Scenario(auto=False, meter_interval_s=600, heartbeat_s=600),
            clock=SimClock(speed=1.0), backoff=Backoff(base=0.05, cap=0.2, jitter=0.05),
            call_timeout=5.0, security=pki.verifier())
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        grid = Participant(
            ParticipantSection(id="GRID-1", version="2.1", call_timeout=5.0, upstreams=(
                UpstreamSection(id="UPSTREAM", url=f"ws://127.0.0.1:{csms.port}/ocpp"),)),
            signer=CommandSigner(pki.grid, name="grid-operator"))
        await stack.enter_async_context(grid)
        await until(lambda: station.accepted)
        yield Net(app, node, station, grid, pki)


async def refused(send: Any) -> CallErrorReceived:
    with pytest.raises(CallErrorReceived) as info:
        await send
    assert info.value.code == "SecurityError"
    return info.value


async def test_revoked_remotely_the_next_command_is_refused_at_the_station(net: Net) -> None:
    assert (await net.limit(6000))["status"] == "Accepted"  # certified by the CA it trusts
    assert await net.revoke_grid() == {"status": "Accepted"}
    error = await refused(net.limit(7000))
    assert "revoked" in error.description and "refused at node" not in error.description


@pytest.mark.parametrize("form", ["ours", "jws"])
async def test_a_guarding_node_learns_the_revocation_on_its_way(net: Net, form: str) -> None:
    guard = signature_guard(net.pki.verifier(), node_id="NODE-A")
    net.node.router.guards.append(guard)
    assert (await net.limit(6000))["status"] == "Accepted"
    assert (await net.revoke_grid(form))["status"] == "Accepted"
    error = await refused(net.limit(7000))
    assert error.description.startswith("refused at node NODE-A:")
    assert "revoked" in error.description


async def test_revocation_needs_manage_keys(net: Net) -> None:
    signed = CommandSigner(net.pki.grid).sign("RevokeTrustedKey",
                                              {"keyId": net.pki.admin.key_id},
                                              version="2.1", now=datetime.now(UTC))
    error = await refused(net.app.call("CS-1", "RevokeTrustedKey", signed))
    assert "requires a signature by role cpo" in error.description


async def test_a_jws_signed_request_crosses_the_node(net: Net) -> None:
    jws = sign_jws({"type": "OnIdle"}, action="Reset", message_type_id=2, key=net.pki.admin,
                   now=datetime.now(UTC))
    reply = await net.app.call("CS-1", "Reset-Signed", jws)
    header = json.loads(base64.urlsafe_b64decode(reply["protected"] + "=="))
    body = json.loads(base64.urlsafe_b64decode(reply["payload"] + "=="))
    assert header["OCPPAction"] == "Reset" and header["OCPPMessageTypedId"] == 3
    assert header["kid"] == net.pki.station.key_id and body["status"] == "Accepted"
    tampered = {**jws, "payload": base64.urlsafe_b64encode(b'{"type":"Immediate"}')
                .rstrip(b"=").decode()}
    error = await refused(net.app.call("CS-1", "Reset-Signed", tampered))
    assert "invalid signature" in error.description
