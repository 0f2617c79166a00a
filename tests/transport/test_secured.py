"""transport.secured: security policies enforced on a Connection (Handlers wrapper, signed calls).

Frames are encoded and decoded on the way (as on a WebSocket), so what the handlers see is
what a peer would send; no sockets, the clock is fixed.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from ocppnet.errors import CallErrorReceived, CallTimeout, SecurityError
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Frame, JsonObject
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicyDecision, PolicySet
from ocppnet.security.roles import RoleSet
from ocppnet.security.signatures import sign, verify
from ocppnet.security.signer import CommandSigner, external_limit_profile
from ocppnet.security.trust import TrustStore
from ocppnet.security.verdicts import verdict_summary
from ocppnet.transport.connection import Connection
from ocppnet.transport.handlers import CallContext, Handlers
from ocppnet.transport.secured import (
    record_verdicts,
    secure_handlers,
    security_decision,
    signed_call,
)
from tests.security.conftest import NOW

V = "2.0.1"


class Wire:
    """FrameSender that encodes, decodes and hands the frame to the peer Connection."""

    def __init__(self) -> None:
        self.peer: Connection | None = None

    async def send_frame(self, frame: Frame) -> None:
        assert self.peer is not None
        decoded = decode(encode(frame), version=V)
        assert not isinstance(decoded, DecodeFailure)
        await self.peer.handle_frame(decoded)


def pair(
    asker: Handlers, answerer: Handlers, *, check_outgoing: bool = True
) -> tuple[Connection, Connection]:
    to_answerer, to_asker = Wire(), Wire()
    a = Connection(asker, version=V, remote_id="CS-1", sender=to_answerer, call_timeout=2,
                   validate_messages=check_outgoing)
    b = Connection(answerer, version=V, remote_id="CSMS", sender=to_asker, call_timeout=2)
    to_answerer.peer, to_asker.peer = b, a
    return a, b


class Keys:
    def __init__(self) -> None:
        self.grid = KeyPair.generate("secp256r1")
        self.admin = KeyPair.generate("ed25519")
        self.installer = KeyPair.generate("secp256r1")
        self.station = KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def k() -> Keys:
    return Keys()


def station_security(k: Keys, *, reset_failure: str = "reject") -> SecurityContext:
    trust = TrustStore()
    for pair_ in (k.grid, k.admin, k.installer):
        trust.add(pair_.public_key)
    config: dict[str, Any] = {
        "policies": [{"id": "station", "rules": [
            {"direction": "incoming", "action": "SetChargingProfile", "kind": "request",
             "require": "role", "roles": ["grid-operator"]},
            {"direction": "incoming", "action": "Reset", "kind": "request",
             "require": "any_trusted", "authorize": True, "on_failure": reset_failure},
            {"direction": "outgoing", "kind": "response", "sign_with": ["station"]},
        ]}],
        "roles": [
            {"name": "grid-operator", "keys": [k.grid.key_id], "allow": [{
                "action": "SetChargingProfile", "constraints": [
                    {"field": "chargingProfile.chargingProfilePurpose", "op": "eq",
                     "value": "ChargingStationExternalConstraints"},
                    {"field": "chargingProfile.chargingSchedule[*].chargingSchedulePeriod[*]"
                              ".limit", "op": "ge", "value": 4200}]}]},
            {"name": "admin", "keys": [k.admin.key_id],
             "permissions": ["manage_policies", "manage_roles"]},
        ],
    }
    return SecurityContext(
        trust=trust, signing_keys={"station": k.station},
        policies=PolicySet.from_config(config), roles=RoleSet.from_config(config),
    )


class Station:
    """The answering side: handlers that record what reached them and the decision."""

    def __init__(self) -> None:
        self.handlers = Handlers()
        self.seen: list[tuple[str, PolicyDecision | None]] = []
        for action in ("SetChargingProfile", "Reset"):
            self.handlers.add(action, self._handler(action))

    def _handler(self, action: str) -> Any:
        async def handle(ctx: CallContext, payload: JsonObject) -> JsonObject:
            self.seen.append((action, security_decision()))
            return {"status": "Accepted"}
        return handle


def clock() -> Any:
    return NOW


def signed(k: KeyPair, action: str, payload: JsonObject) -> JsonObject:
    return sign(payload, action=action, kind="request", version=V, key=k, now=NOW)


async def call_error(conn: Connection, action: str, payload: JsonObject) -> CallErrorReceived:
    with pytest.raises(CallErrorReceived) as info:
        await conn.call(action, payload)
    return info.value


async def test_accepted_command_runs_with_its_decision_and_a_signed_response(k: Keys) -> None:
    station = Station()
    csms, _ = pair(Handlers(), secure_handlers(station.handlers, station_security(k),
                                               clock=clock))
    response = await csms.call("SetChargingProfile",
                               CommandSigner(k.grid).external_limit(5000, version=V, now=NOW))
    assert response["status"] == "Accepted"
    [(action, decision)] = station.seen
    assert action == "SetChargingProfile" and decision is not None and decision.accepted
    assert decision.signer_roles == {"grid-operator"}
    trust = TrustStore()
    trust.add(k.station.public_key)
    [verdict] = verify(response, action="SetChargingProfile", kind="response", version=V,
                       trusted=trust, now=NOW)
    assert verdict.valid
    assert security_decision() is None  # not leaked outside the handler


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda p: p.pop("signatures"), "requires a signature by role grid-operator"),
        (lambda p: p["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]
         .update(limit=22000), "invalid signature"),
        (lambda p: p["signatures"][0].update(timestamp="2025-03-01T11:59:59.000Z"),
         "invalid signature"),
    ],
    ids=["unsigned", "tampered-limit", "tampered-timestamp"],
)
async def test_refused_commands_never_reach_the_handler(k: Keys, mutate: Any, reason: str) -> None:
    station = Station()
    csms, _ = pair(Handlers(), secure_handlers(station.handlers, station_security(k),
                                               clock=clock))
    payload = CommandSigner(k.grid).external_limit(5000, version=V, now=NOW)
    mutate(payload)
    error = await call_error(csms, "SetChargingProfile", payload)
    assert error.code == "SecurityError" and reason in error.description
    assert station.seen == []


async def test_role_constraints_replay_and_foreign_actions(k: Keys) -> None:
    station = Station()
    csms, _ = pair(Handlers(), secure_handlers(station.handlers, station_security(k),
                                               clock=clock))
    grid = CommandSigner(k.grid)
    low = await call_error(csms, "SetChargingProfile", grid.external_limit(1000, version=V,
                                                                            now=NOW))
    assert low.code == "SecurityError" and "violates ge 4200" in low.description
    ok = grid.external_limit(4200, version=V, now=NOW)
    assert (await csms.call("SetChargingProfile", ok))["status"] == "Accepted"
    again = await call_error(csms, "SetChargingProfile", ok)
    assert again.code == "SecurityError" and "replayed" in again.description
    reset = await call_error(csms, "Reset", grid.sign("Reset", {"type": "Immediate"},
                                                       version=V, now=NOW))
    assert "Reset is not allowed for role(s) grid-operator" in reset.description
    assert [a for a, _ in station.seen] == ["SetChargingProfile"]


async def test_drop_answers_nothing_and_is_logged(
    k: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    station = Station()
    csms, _ = pair(Handlers(), secure_handlers(
        station.handlers, station_security(k, reset_failure="drop"), clock=clock))
    with caplog.at_level(logging.WARNING), pytest.raises(CallTimeout):
        await csms.call("Reset", {"type": "Immediate"}, timeout=0.2)
    messages = [r.getMessage() for r in caplog.records]
    assert any("event=security_drop" in m for m in messages)
    assert any("event=request_dropped" in m and "action=Reset" in m for m in messages)
    assert station.seen == []


async def test_remote_management_needs_the_permission(k: Keys) -> None:
    station = Station()
    security = station_security(k)
    csms, _ = pair(Handlers(), secure_handlers(station.handlers, security, clock=clock))
    installer = {"name": "installer", "keys": [k.installer.key_id],
                 "allow": [{"action": "Reset"}]}
    by_grid = await csms.call("AddUserRole", signed(k.grid, "AddUserRole", {"role": installer}))
    assert by_grid["status"] == "Rejected"
    assert by_grid["statusInfo"]["reasonCode"] == "Unauthorized"
    assert (await csms.call("DeleteUserRole", {"name": "grid-operator"}))["status"] == "Rejected"
    assert "installer" not in security.roles.roles

    by_admin = await csms.call("AddUserRole", signed(k.admin, "AddUserRole", {"role": installer}))
    assert by_admin == {"status": "Accepted", "signatures": by_admin["signatures"]}
    reset = signed(k.installer, "Reset", {"type": "Immediate"})
    assert (await csms.call("Reset", reset))["status"] == "Accepted"

    loosen = {"id": "station", "rules": [{"direction": "incoming", "action": "*"}]}
    assert (await csms.call("AddSignaturePolicy", signed(
        k.admin, "AddSignaturePolicy", {"policy": loosen})))["status"] == "Accepted"
    assert (await csms.call("SetChargingProfile", external_limit_profile(100)))["status"] == \
        "Accepted"
    missing = await csms.call("DeleteSignaturePolicy",
                              signed(k.admin, "DeleteSignaturePolicy", {"id": "nope"}))
    assert missing["statusInfo"]["reasonCode"] == "UnknownPolicy"


async def test_management_payloads_are_schema_checked_before_anything(k: Keys) -> None:
    csms, _ = pair(Handlers(), secure_handlers(Handlers(), station_security(k), clock=clock),
                   check_outgoing=False)
    error = await call_error(csms, "AddUserRole", signed(k.admin, "AddUserRole",
                                                         {"role": {"name": "x", "kyes": []}}))
    assert error.code == "PropertyConstraintViolation" and "role.kyes" in error.description
    error = await call_error(csms, "DeleteUserRole", {"userRoleId": "x"})  # the old shape
    assert "data.name: required property missing" in error.description


async def test_signed_call_signs_per_policy_and_checks_the_response(k: Keys) -> None:
    trust = TrustStore()
    trust.add(k.station.public_key)
    rules = {"policies": [{"id": "grid", "rules": [
        {"direction": "outgoing", "action": "SetChargingProfile", "sign_with": ["grid"]},
        {"direction": "incoming", "action": "SetChargingProfile", "kind": "response",
         "require": "all_listed", "keys": [k.station.key_id]},
    ]}]}
    grid = SecurityContext(trust=trust, signing_keys={"grid": k.grid},
                           policies=PolicySet.from_config(rules))
    station = Station()
    csms, _ = pair(Handlers(), secure_handlers(station.handlers, station_security(k),
                                               clock=clock))
    answer = await signed_call(csms, grid, "SetChargingProfile", external_limit_profile(6000),
                               clock=clock)
    assert answer["status"] == "Accepted"

    plain_station = Station()  # answers without signing
    csms2, _ = pair(Handlers(), plain_station.handlers)
    with pytest.raises(SecurityError, match=r"response refused: .*requires signatures by"):
        await signed_call(csms2, grid, "SetChargingProfile", external_limit_profile(6000),
                          clock=clock)


async def test_verdicts_are_recorded_and_handlers_added_later_are_secured(k: Keys) -> None:
    class Recorder:
        def __init__(self) -> None:
            self.rows: list[tuple[str, str | None, str | None]] = []

        def record_message(self, station_id: str, direction: Any, message_type: int,
                           message_id: str, action: str | None, payload: Any,
                           path: Any = (), *, signature: str | None = None) -> None:
            self.rows.append((station_id, action, signature))

    recorder = Recorder()
    inner = Handlers()
    secured = secure_handlers(inner, station_security(k), clock=clock,
                              on_verdict=record_verdicts(recorder))
    reached: list[str] = []

    @secured.on("SetChargingProfile")
    async def scp(ctx: CallContext, payload: JsonObject) -> JsonObject:
        reached.append(ctx.action)
        return {"status": "Accepted"}

    assert "SetChargingProfile" in inner and "AddUserRole" in secured
    assert "AddUserRole" not in inner
    csms, _ = pair(Handlers(), secured)
    good = CommandSigner(k.grid).external_limit(5000, version=V, now=NOW)
    await csms.call("SetChargingProfile", good)
    bad = copy.deepcopy(good)
    bad["evseId"] = 1
    await call_error(csms, "SetChargingProfile", bad)
    await call_error(csms, "SetChargingProfile", external_limit_profile(5000))
    assert reached == ["SetChargingProfile"]
    assert [r[2] for r in recorder.rows] == [
        "valid",
        "invalid (reject: SetChargingProfileRequest: signature 0: invalid signature: payload,"
        " action or signature metadata changed)",
    ]  # the unsigned one is left to the CSMS's own log ("unsigned")


def test_verdict_summary_forms() -> None:
    from ocppnet.security.policy import Outcome

    assert verdict_summary(PolicyDecision(Outcome.ACCEPT, "no signature required")) == "unsigned"
    logged = PolicyDecision(Outcome.ACCEPT, "needs x", logged_failure=True)
    assert verdict_summary(logged) == "unsigned (accepted and logged: needs x)"
