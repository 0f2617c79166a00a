"""OCPP 2.1 ``<Action>-Signed`` requests through the endpoint wrapper on two real Connections.

The wire encodes and decodes every frame (as a WebSocket would). The asking side builds its
JWS by hand (helpers of test_jws.py, ``cryptography`` only) or with ``signed_call``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from ocppnet.errors import CallErrorReceived
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Frame, JsonObject
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicySet
from ocppnet.security.trust import TrustStore
from ocppnet.transport.connection import Connection
from ocppnet.transport.handlers import CallContext, Handlers
from ocppnet.transport.secured import (
    record_verdicts,
    secure_handlers,
    security_decision,
    signed_call,
)

from .test_jws import _tampered, hand_jws, hand_verify_es256, header, unb64u

V = "2.1"


class Wire:
    def __init__(self) -> None:
        self.peer: Connection | None = None
        self.seen: list[Frame] = []

    async def send_frame(self, frame: Frame) -> None:
        assert self.peer is not None
        decoded = decode(encode(frame), version=V)
        assert not isinstance(decoded, DecodeFailure)
        self.seen.append(decoded)
        await self.peer.handle_frame(decoded)


POLICY = PolicySet.from_config({"policies": [{"id": "p", "rules": [
    {"direction": "incoming", "action": "Reset", "kind": "request", "require": "any_trusted"},
]}]})


def station(csms_key: ec.EllipticCurvePrivateKey, station_key: KeyPair,
            jws: str = "accept") -> tuple[Handlers, list[tuple[str, dict[str, Any]]]]:
    trust = TrustStore()
    trust.add(csms_key.public_key())
    ctx = SecurityContext(trust=trust, signing_keys={"station": station_key}, policies=POLICY,
                          jws=jws)
    seen: list[tuple[str, dict[str, Any]]] = []
    handlers = Handlers()

    @handlers.on("Reset")
    async def reset(call: CallContext, payload: JsonObject) -> JsonObject:
        decision = security_decision()
        assert decision is not None and decision.accepted
        seen.append((call.action, payload))
        return {"status": "Accepted"}

    return secure_handlers(handlers, ctx), seen


def pair(answerer: Handlers) -> tuple[Connection, Wire]:
    to_station, to_csms = Wire(), Wire()
    csms = Connection(Handlers(), version=V, remote_id="CS-1", sender=to_station, call_timeout=2)
    cs = Connection(answerer, version=V, remote_id="CSMS", sender=to_csms, call_timeout=2)
    to_station.peer, to_csms.peer = cs, csms
    return csms, to_csms


@pytest.fixture(scope="module")
def csms_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


async def test_signed_request_is_handled_and_answered_signed(
    csms_key: ec.EllipticCurvePrivateKey,
) -> None:
    station_key = KeyPair.generate("secp256r1")
    handlers, seen = station(csms_key, station_key)
    csms, _ = pair(handlers)
    kid = TrustStore().add(csms_key.public_key()).key_id
    reply = await csms.call("Reset-Signed", hand_jws({"type": "Immediate"},
                                                     header("ES256", kid=kid), csms_key))
    assert seen == [("Reset", {"type": "Immediate"})]
    assert isinstance(station_key.private_key, ec.EllipticCurvePrivateKey)
    opened = hand_verify_es256(reply, station_key.private_key.public_key())
    assert opened["payload"] == {"status": "Accepted"}
    assert opened["header"]["OCPPAction"] == "Reset"
    assert opened["header"]["OCPPMessageTypedId"] == 3


async def test_tampered_signed_request_gets_security_error(
    csms_key: ec.EllipticCurvePrivateKey,
) -> None:
    handlers, seen = station(csms_key, KeyPair.generate("secp256r1"))
    csms, _ = pair(handlers)
    kid = TrustStore().add(csms_key.public_key()).key_id
    bad = _tampered(hand_jws({"type": "OnIdle"}, header("ES256", kid=kid), csms_key),
                    type="Immediate")
    with pytest.raises(CallErrorReceived) as caught:
        await csms.call("Reset-Signed", bad)
    assert caught.value.code == "SecurityError" and "invalid signature" in caught.value.description
    assert seen == []


async def test_encapsulated_payload_is_schema_checked(
    csms_key: ec.EllipticCurvePrivateKey,
) -> None:
    handlers, seen = station(csms_key, KeyPair.generate("secp256r1"))
    csms, _ = pair(handlers)
    kid = TrustStore().add(csms_key.public_key()).key_id
    with pytest.raises(CallErrorReceived) as caught:
        await csms.call("Reset-Signed", hand_jws({"type": "Sometime"},
                                                 header("ES256", kid=kid), csms_key))
    assert "ResetRequest (signed)" in caught.value.description and seen == []


async def test_jws_off_refuses_signed_actions(csms_key: ec.EllipticCurvePrivateKey) -> None:
    handlers, _ = station(csms_key, KeyPair.generate("secp256r1"), jws="off")
    csms, _ = pair(handlers)
    with pytest.raises(CallErrorReceived) as caught:
        await csms.call("Reset-Signed", {"protected": "e30", "payload": "e30",
                                         "signature": "AA"})
    assert caught.value.code == "NotSupported"


async def test_signed_call_in_send_mode_goes_out_as_jws(
    csms_key: ec.EllipticCurvePrivateKey,
) -> None:
    station_key = KeyPair.generate("secp256r1")
    handlers, seen = station(csms_key, station_key)
    csms, back = pair(handlers)
    trust = TrustStore()
    trust.add(station_key.public_key)
    sender_ctx = SecurityContext(trust=trust, signing_keys=[KeyPair.of(csms_key)], jws="send")
    answer = await signed_call(csms, sender_ctx, "Reset", {"type": "Immediate"})
    assert answer == {"status": "Accepted"} and seen == [("Reset", {"type": "Immediate"})]
    wire_reply = back.seen[-1]
    assert json.loads(unb64u(wire_reply.payload["protected"]))["OCPPAction"] == "Reset"


async def test_refused_jws_requests_reach_the_message_log(
    csms_key: ec.EllipticCurvePrivateKey,
) -> None:
    """record_verdicts logs a signed request the policy refused, in the JWS form too."""
    rows: list[tuple[str, str | None, str | None]] = []

    class Log:
        def record_message(self, station_id: str, direction: Any, message_type: int,
                           message_id: str, action: str | None, payload: Any, path: Any = (),
                           *, signature: str | None = None) -> None:
            rows.append((station_id, action, signature))

    trust = TrustStore()
    kid = trust.add(csms_key.public_key()).key_id
    ctx = SecurityContext(trust=trust, policies=POLICY)
    handlers = Handlers()

    @handlers.on("Reset")
    async def reset(call: CallContext, payload: JsonObject) -> JsonObject:
        return {"status": "Accepted"}

    csms, _ = pair(secure_handlers(handlers, ctx, on_verdict=record_verdicts(
        Log(), refused_only=True)))
    bad = _tampered(hand_jws({"type": "OnIdle"}, header("ES256", kid=kid), csms_key),
                    type="Immediate")
    with pytest.raises(CallErrorReceived):
        await csms.call("Reset-Signed", bad)
    [(station_id, action, verdict)] = rows
    assert (station_id, action) == ("CSMS", "Reset-Signed")
    assert verdict is not None and verdict.startswith("invalid (reject:")
