"""The whole C25 flow on loopback with a Python phone (the browser does the same in
tests/web/test_webpay_browser.py): QR link -> simulated payment -> NotifyWebPaymentStarted ->
channel -> ad hoc RequestStartTransaction -> live values -> stop over the channel -> receipt
-> NotifySettlement at the CSMS. And: the node never sees a plaintext value of the channel."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ocppnet.webpay.channel import ChannelEnd, PhoneHandshake
from ocppnet.webpay.sessions import LinkError
from ocppnet.webpay.totp import totp_for_slot
from tests.webpay_service.net import PRICE, Net, until, webpay_net


def link(net: Net, now: float | None = None) -> str:
    return net.web.current_url(now).removeprefix(net.http)


async def phone_session(net: Net) -> tuple[str, ChannelEnd]:
    session = net.service.scan(link(net))
    paid = await net.service.pay(session.id)
    assert paid["pspRef"].startswith("SIM-")
    phone = PhoneHandshake(paid["channelId"], "CS-1")
    answer = await net.service.relay(session.id, {"phase": "Open",
                                                  "clientKey": phone.client_key})
    end = phone.finish(answer, session.fingerprint)
    assert (await net.service.start(session.id))["status"] == "Accepted"
    return session.id, end


async def ask(net: Net, session_id: str, end: ChannelEnd, message: dict[str, Any]
              ) -> dict[str, Any]:
    record = end.seal(message)
    answer = await net.service.relay(session_id, {"phase": "Data", "counter": record.counter,
                                                  "ciphertext": record.ciphertext})
    assert answer["status"] == "Accepted", answer
    return end.open(answer["counter"], answer["ciphertext"])


async def test_pay_charge_stop_settle_across_csms_and_node(tmp_path: Path) -> None:
    async with webpay_net(tmp_path) as net:
        session_id, end = await phone_session(net)
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1]["energyWh"] <= seen[0]["energyWh"] or len(seen) < 3:
            seen.append(await ask(net, session_id, end, {"type": "status"}))
        assert all(s["state"] == "Charging" and s["powerW"] > 0 for s in seen)
        final = await ask(net, session_id, end, {"type": "stop"})
        assert final["state"] == "Ended" and "receipt" in final
        settled = await net.service.settle(session_id, final["receipt"])
        assert settled["amount"] == round(final["energyWh"] / 1000 * PRICE, 2)

        # the CSMS got the ad hoc token on TransactionEvent and the settlement from WEBPAY-1
        events = await until(lambda: net.service.settlements) and \
            await net.app.store.list_transactions("CS-1")
        assert events[0].id_token and events[0].id_token.startswith("ADHOC-")
        assert net.service.settlements[0]["pspRef"] == settled["pspRef"]
        assert net.service.settlements[0]["transactionId"] == final["transactionId"]
        [kept] = await net.app.store.list_station_events("WEBPAY-1", "NotifySettlement")
        assert kept.data["settlementAmount"] == settled["amount"]
        assert kept.data["status"] == "Settled" and kept.data["pspRef"] == settled["pspRef"]

        # what NODE-A forwarded for the channel: the schema's fields, ciphertext only
        channel = net.channel_frames()
        assert len(channel) >= 2 * (len(seen) + 2), "the channel went through NODE-A"
        allowed = {"channelId", "phase", "clientKey", "counter", "ciphertext", "status",
                   "serverKey", "stationKey", "signature", "statusInfo"}
        for frame, _ in channel:
            assert set(frame.payload) <= allowed, frame  # type: ignore[union-attr]
        text = b"\n".join(raw for _, raw in channel)
        for status in [*seen, final]:
            for name in ("powerW", "energyWh", "cost", "receipt", "state"):
                assert f'"{name}"'.encode() not in text
            for value in (status["energyWh"], status["cost"]):
                if value:
                    assert not re.search(rb"[^0-9A-Za-z_\-]" + str(value).encode()
                                         + rb"[^0-9A-Za-z_\-]", text), value


async def test_expired_wrong_and_reused_links_are_refused(tmp_path: Path) -> None:
    async with webpay_net(tmp_path) as net:
        now = net.service.clock()
        settings = net.web.ctrlr.settings()
        old = link(net, now - 5 * settings.validity_s)
        with pytest.raises(LinkError, match="this QR code has expired"):
            net.service.scan(old)
        current = link(net, now)
        code = totp_for_slot(settings, int(now // settings.validity_s))
        wrong = current.replace(code, "A" * len(code))
        with pytest.raises(LinkError, match="not valid for this station") as info:
            net.service.scan(wrong)
        assert info.value.reason == "WrongTotp"
        net.service.scan(current)
        with pytest.raises(LinkError, match="was used already") as info:
            net.service.scan(current)
        assert info.value.reason == "Reused"


async def test_an_unreachable_station_cancels_the_payment(tmp_path: Path) -> None:
    async with webpay_net(tmp_path) as net:
        session = net.service.scan(link(net))
        await net.station.close()
        await until(lambda: not any(k.startswith("CS-1") for k in net.node.router.links))
        with pytest.raises(LinkError, match="NotifyWebPaymentStarted to CS-1 failed") as info:
            await net.service.pay(session.id)
        assert info.value.reason == "Unreachable"
        assert session.state == "Failed" and net.service.psp.authorizations == {}


async def test_the_relay_passes_only_well_formed_records(tmp_path: Path) -> None:
    async with webpay_net(tmp_path) as net:
        session_id, _ = await phone_session(net)
        with pytest.raises(LinkError, match="phase 'Hello' is not relayed"):
            await net.service.relay(session_id, {"phase": "Hello"})
        with pytest.raises(LinkError, match="Data: missing ciphertext"):
            await net.service.relay(session_id, {"phase": "Data", "counter": 1})
        with pytest.raises(LinkError, match="ciphertext") as info:
            await net.service.relay(session_id, {"phase": "Data", "counter": 1,
                                                 "ciphertext": '{"powerW": 11000}'})
        assert info.value.reason == "BadMessage"


async def test_a_changed_receipt_is_not_settled(tmp_path: Path) -> None:
    async with webpay_net(tmp_path) as net:
        session_id, end = await phone_session(net)
        final = await ask(net, session_id, end, {"type": "stop"})
        forged = {**final["receipt"], "energyWh": 1.0}
        with pytest.raises(LinkError, match="signature does not verify"):
            await net.service.settle(session_id, forged)
        assert net.service.settlements == []
        assert (await net.service.settle(session_id, final["receipt"]))["status"] == "Settled"
