"""The web-payment service signs what it sends (its [security] table); a station that checks
signatures and roles takes from it only what the role web-payment allows: the announcement,
the channel and an ad hoc start, nothing else, and nothing unsigned."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.errors import CallErrorReceived
from ocppnet.webpay.channel import PhoneHandshake
from tests.webpay_service.net import webpay_net


async def test_signed_flow_and_what_the_role_refuses(tmp_path: Path) -> None:
    async with webpay_net(tmp_path, signed=True) as net:
        service = net.service
        session = service.scan(net.web.current_url().removeprefix(net.http))
        paid = await service.pay(session.id)
        phone = PhoneHandshake(paid["channelId"], "CS-1")
        answer = await service.relay(session.id, {"phase": "Open",
                                                  "clientKey": phone.client_key})
        end = phone.finish(answer, session.fingerprint)
        assert (await service.start(session.id))["status"] == "Accepted"
        record = end.seal({"type": "stop"})
        reply = await service.relay(session.id, {"phase": "Data", "counter": record.counter,
                                                 "ciphertext": record.ciphertext})
        assert end.open(reply["counter"], reply["ciphertext"])["state"] == "Ended"
        sent = [payload for _, action, payload in net.participant.sent
                if action == "RequestStartTransaction"]
        assert sent and sent[0]["signatures"][0]["keyId"]  # signed end to end

        with pytest.raises(CallErrorReceived) as info:  # not in the role
            await net.participant.call("CS-1", "Reset", {"type": "Immediate"})
        assert info.value.code == "SecurityError"
        assert "Reset is not allowed for role(s) web-payment" in info.value.description
        with pytest.raises(CallErrorReceived) as info:  # a start with a non-ad-hoc token
            await net.participant.call("CS-1", "RequestStartTransaction", {
                "evseId": 1, "remoteStartId": 99,
                "idToken": {"idToken": "RFID-1", "type": "ISO14443"}})
        assert "idToken.type: 'ISO14443' violates eq 'DirectPayment'" in info.value.description
        with pytest.raises(CallErrorReceived) as info:  # unsigned, from the CSMS itself
            await net.app.call("CS-1", "SecureDataTransfer", {
                "channelId": paid["channelId"], "phase": "Close"})
        assert info.value.code == "SecurityError"
