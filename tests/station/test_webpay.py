"""A 2.1 station's web payments (C25) against a loopback CSMS: WebPaymentsCtrlr variables,
the QR code (decoded with zbarimg), NotifyWebPaymentStarted, the encrypted channel with live
values, stop from the phone and the signed receipt, and what the station refuses."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from ocppnet.errors import CallErrorReceived
from ocppnet.security.keys import KeyPair
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.webpay import StationWebPayments, WebPaymentsCtrlr, attach_web_payments
from ocppnet.webpay.channel import VENDOR_ID, ChannelEnd, PhoneHandshake, b64e
from ocppnet.webpay.receipt import verify_receipt
from ocppnet.webpay.totp import verify
from ocppnet.webpay.url_template import UrlTemplate
from tests.station.conftest import MiniCsms, make_station

TEMPLATE = "http://127.0.0.1:1/pay/{chargingStationId}/{evse}/{totp}?v={version}&k={channelKeyId}"
SECRET = "a-shared-secret-of-the-station"
IDENTITY = KeyPair.generate("secp256r1")


def web_station(csms: MiniCsms) -> tuple[SimulatedStation, StationWebPayments]:
    station = make_station(csms, "2.1", speed=60.0)
    web = attach_web_payments(station, WebPaymentsCtrlr(TEMPLATE, SECRET), IDENTITY)
    return station, web


async def announce(csms: MiniCsms, channel: str = "chan-1") -> dict[str, Any]:
    return await csms.call("CS-1", "NotifyWebPaymentStarted", {
        "evseId": 1, "timeout": 120,
        "customData": {"vendorId": VENDOR_ID, "channelId": channel, "idToken": "ADHOC-1",
                       "pricePerKWh": 0.5, "currency": "EUR"}})


async def open_channel(csms: MiniCsms, channel: str = "chan-1") -> ChannelEnd:
    phone = PhoneHandshake(channel, "CS-1")
    answer = await csms.call("CS-1", "SecureDataTransfer", {
        "channelId": channel, "phase": "Open", "clientKey": phone.client_key})
    assert answer["status"] == "Accepted", answer
    return phone.finish(answer, IDENTITY.key_id)


async def ask(csms: MiniCsms, end: ChannelEnd, message: dict[str, Any]) -> dict[str, Any]:
    record = end.seal(message)
    answer = await csms.call("CS-1", "SecureDataTransfer", {
        "channelId": end.channel_id, "phase": "Data", "counter": record.counter,
        "ciphertext": record.ciphertext})
    assert answer["status"] == "Accepted", answer
    return end.open(answer["counter"], answer["ciphertext"])


def test_only_a_21_station_gets_web_payments(csms: MiniCsms) -> None:
    with pytest.raises(ValueError, match=r"need an OCPP 2\.1 station, not 2\.0\.1"):
        attach_web_payments(make_station(csms, "2.0.1"), WebPaymentsCtrlr(TEMPLATE, SECRET),
                            IDENTITY)


def test_the_qr_code_names_the_url_of_the_current_slot(csms: MiniCsms, tmp_path: Path) -> None:
    _, web = web_station(csms)
    now = 1_800_000_000.0
    url = web.current_url(now)
    fields = UrlTemplate.parse(TEMPLATE).match(url.removeprefix("http://127.0.0.1:1"))
    assert fields is not None and fields["chargingStationId"] == "CS-1"
    assert fields["channelKeyId"] == IDENTITY.key_id
    assert verify(web.ctrlr.settings(), fields["totp"], now) == 0
    png = web.qr_png(now)
    assert png.startswith(b"\x89PNG")
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg missing (apt-get install zbar-tools)")
    (tmp_path / "qr.png").write_bytes(png)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "qr.png")],
                             capture_output=True, text=True, check=True, timeout=30)
    assert decoded.stdout.strip() == url


async def test_web_payments_ctrlr_variables(csms: MiniCsms, running: Any) -> None:
    station, web = web_station(csms)
    running(station)
    await csms.wait_for(lambda: station.accepted)
    component = {"name": "WebPaymentsCtrlr"}
    got = await csms.call("CS-1", "GetVariables", {"getVariableData": [
        {"component": component, "variable": {"name": n}}
        for n in ("URLTemplate", "ValidityTime", "Length", "TOTPVersion", "SharedSecret")]})
    results = {r["variable"]["name"]: (r["attributeStatus"], r.get("attributeValue"))
               for r in got["getVariableResult"]}
    assert results == {"URLTemplate": ("Accepted", TEMPLATE), "ValidityTime": ("Accepted", "30"),
                       "Length": ("Accepted", "12"), "TOTPVersion": ("Accepted", "1"),
                       "SharedSecret": ("Rejected", None)}
    changes = [("ValidityTime", "60"), ("Length", "3"), ("SharedSecret", "short"),
               ("URLTemplate", "https://x.example/{evse}"), ("Length", "16")]
    answer = await csms.call("CS-1", "SetVariables", {"setVariableData": [
        {"component": component, "variable": {"name": n}, "attributeValue": v}
        for n, v in changes]})
    assert [r["attributeStatus"] for r in answer["setVariableResult"]] == [
        "Accepted", "Rejected", "Rejected", "Rejected", "Accepted"]
    assert (web.ctrlr.validity_s, web.ctrlr.length, web.ctrlr.shared_secret) == (60, 16, SECRET)


async def test_channel_live_values_stop_and_signed_receipt(csms: MiniCsms, running: Any) -> None:
    station, _ = web_station(csms)
    running(station)
    await csms.wait_for(lambda: station.accepted)
    assert await announce(csms) == {}
    phone = await open_channel(csms)
    waiting = await ask(csms, phone, {"type": "status"})
    assert waiting["state"] == "Waiting" and waiting["transactionId"] is None
    token = {"idToken": "ADHOC-1", "type": "DirectPayment",
             "additionalInfo": [{"additionalIdToken": "PSP-42", "type": "PspRef"}]}
    started = await csms.call("CS-1", "RequestStartTransaction",
                              {"evseId": 1, "remoteStartId": 7, "idToken": token})
    assert started["status"] == "Accepted"
    first = await ask(csms, phone, {"type": "status"})
    assert first["state"] == "Charging" and first["powerW"] > 0
    await csms.wait_for(lambda: csms.of("TransactionEvent"))
    assert csms.of("TransactionEvent")[0]["idToken"] == token  # the ad hoc token as given
    async with asyncio.timeout(10):  # simulated time runs 60x: energy grows between polls
        while (second := await ask(csms, phone, {"type": "status"}))[  # noqa: ASYNC110
                "energyWh"] <= first["energyWh"]:
            await asyncio.sleep(0.05)
    assert second["cost"] >= first["cost"] and second["state"] == "Charging"
    ended = await ask(csms, phone, {"type": "stop"})
    assert ended["state"] == "Ended" and ended["powerW"] == 0
    await csms.wait_for(lambda: any(e["eventType"] == "Ended"
                                    for e in csms.of("TransactionEvent")))
    receipt = verify_receipt(ended["receipt"], _spki(), IDENTITY.key_id)
    assert receipt["transactionId"] == first["transactionId"]
    assert receipt["idToken"] == "ADHOC-1" and receipt["energyWh"] == ended["energyWh"]
    assert receipt["cost"] == round(receipt["energyWh"] / 1000 * 0.5, 2)


def _spki() -> str:
    return b64e(IDENTITY.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


async def test_the_station_refuses_unknown_reused_replayed_and_tampered(
        csms: MiniCsms, running: Any) -> None:
    station, _ = web_station(csms)
    running(station)
    await csms.wait_for(lambda: station.accepted)
    unknown = await csms.call("CS-1", "SecureDataTransfer", {
        "channelId": "nope", "phase": "Open", "clientKey": PhoneHandshake("n", "CS-1").client_key})
    assert unknown["status"] == "Rejected"
    assert unknown["statusInfo"]["reasonCode"] == "UnknownChannel"
    await announce(csms)
    phone = await open_channel(csms)
    again = await csms.call("CS-1", "SecureDataTransfer", {
        "channelId": "chan-1", "phase": "Open",
        "clientKey": PhoneHandshake("chan-1", "CS-1").client_key})
    assert again["statusInfo"]["reasonCode"] == "ChannelInUse"
    record = phone.seal({"type": "status"})
    data = {"channelId": "chan-1", "phase": "Data", "counter": record.counter,
            "ciphertext": record.ciphertext}
    assert (await csms.call("CS-1", "SecureDataTransfer", data))["status"] == "Accepted"
    replayed = await csms.call("CS-1", "SecureDataTransfer", data)
    assert replayed["statusInfo"]["reasonCode"] == "Replayed"
    record = phone.seal({"type": "stop"})
    flipped = record.ciphertext[:-2] + ("A" if record.ciphertext[-2] != "A" else "B") + \
        record.ciphertext[-1]
    tampered = await csms.call("CS-1", "SecureDataTransfer", {
        **data, "counter": record.counter, "ciphertext": flipped})
    assert tampered["statusInfo"]["reasonCode"] == "Tampered"
    with pytest.raises(CallErrorReceived) as info:
        await csms.call("CS-1", "NotifyWebPaymentStarted", {"evseId": 9, "timeout": 60})
    assert info.value.code == "PropertyConstraintViolation"


async def test_the_channel_cannot_stop_another_drivers_session(
        csms: MiniCsms, running: Any) -> None:
    station, _ = web_station(csms)
    running(station)
    await csms.wait_for(lambda: station.accepted)
    await announce(csms)  # announces the ad hoc token ADHOC-1
    phone = await open_channel(csms)
    other = {"idToken": "SOMEONE-ELSE", "type": "ISO14443"}
    started = await csms.call("CS-1", "RequestStartTransaction",
                              {"evseId": 1, "remoteStartId": 8, "idToken": other})
    assert started["status"] == "Accepted"
    answer = await ask(csms, phone, {"type": "stop"})
    assert answer["state"] == "Waiting" and answer["transactionId"] is None
    session = station.model.evses[1].session
    assert session is not None and not session.ended  # still charging


async def test_finished_payments_are_forgotten(csms: MiniCsms, running: Any) -> None:
    station, web = web_station(csms)
    running(station)
    await csms.wait_for(lambda: station.accepted)
    await announce(csms, "old")
    phone = await open_channel(csms, "old")
    closed = await csms.call("CS-1", "SecureDataTransfer", {"channelId": "old",
                                                            "phase": "Close"})
    assert closed["status"] == "Accepted"
    record = phone.seal({"type": "status"})
    after = await csms.call("CS-1", "SecureDataTransfer", {
        "channelId": "old", "phase": "Data", "counter": record.counter,
        "ciphertext": record.ciphertext})
    assert after["statusInfo"]["reasonCode"] == "NotOpen"
    await announce(csms, "new")
    assert set(web.payments) == {"new"}


async def test_the_display_file_is_rewritten_for_each_slot(csms: MiniCsms, tmp_path: Path) -> None:
    station = make_station(csms, "2.1")
    start = (1_800_000_000 // 6 + 1) * 6 - 0.1  # 0.1 s before a slot ends
    began = time.monotonic()
    web = attach_web_payments(station, WebPaymentsCtrlr(TEMPLATE, SECRET, validity_s=6),
                              IDENTITY, wall=lambda: start + time.monotonic() - began)
    path = tmp_path / "display.png"
    task = asyncio.create_task(web.run_display(path))
    try:
        async with asyncio.timeout(10):
            while not path.exists():  # noqa: ASYNC110 (waits for the display task)
                await asyncio.sleep(0.01)
            first = path.read_bytes()
            while path.read_bytes() == first:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert first == web.qr_png(start) and path.read_bytes() == web.qr_png(start + 1)


async def test_a_web_payment_blocks_local_authorization_until_revoked(
        csms: MiniCsms, running: Any) -> None:
    station, web = web_station(csms)
    running(station)
    await csms.wait_for(lambda: station.accepted)
    await announce(csms)
    assert web.blocks_local(1, station.clock.now())
    assert not await station.present_token(1, "RFID-1")  # the RFID card is not taken
    assert not csms.of("Authorize")
    assert await csms.call("CS-1", "NotifyWebPaymentStarted", {"evseId": 1, "timeout": 0}) == {}
    assert not web.blocks_local(1, station.clock.now()) and web.payments == {}
    assert await station.present_token(1, "RFID-1")
