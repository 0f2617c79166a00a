"""The station's signing meter on a real link: begin/end readings signed in each OCPP form.

The loopback CSMS checks every request against the official schemas, so the 2.0.1/2.1
``signedMeterValue`` and the 1.6 ``SignedData`` shapes are what those versions allow.
"""

from __future__ import annotations

import base64
import json
import warnings
from dataclasses import replace as dataclasses_replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyocmf
import pytest

from ocppnet.metering import MeterKey, parse_public_key, parse_record, verify_record
from ocppnet.station.signed_meter import MeterSigning, SigningMeter, meter_key_from_store
from tests.station.conftest import MiniCsms, make_station

ENERGY = "Energy.Active.Import.Register"


def _signed_2(csms: MiniCsms) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for payload in csms.of("TransactionEvent"):
        for mv in payload.get("meterValue", []):
            for sv in mv["sampledValue"]:
                if "signedMeterValue" in sv:
                    out.append((payload["eventType"], sv, sv["signedMeterValue"]))
    return out


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_2x_begin_and_end_are_signed(version: str, csms: MiniCsms, running: Any) -> None:
    key = MeterKey.generate()
    station = make_station(csms, version)
    station.signing_meter = SigningMeter("CS-1", key, version, MeterSigning(public_key="once"))
    running(station)
    await csms.wait_for(lambda: station.accepted)
    await csms.call("CS-1", "RequestStartTransaction", {"idToken": {
        "idToken": "TAG1", "type": "Central"}, "remoteStartId": 7})
    started = await csms.wait_for(lambda: [p for p in csms.of("TransactionEvent")
                                           if p["eventType"] == "Started"])
    tx_id = started[0]["transactionInfo"]["transactionId"]
    await csms.call("CS-1", "RequestStopTransaction", {"transactionId": tx_id})
    await csms.wait_for(lambda: any(e == "Ended" for e, _, _ in _signed_2(csms)))
    signed = _signed_2(csms)
    assert [e for e, _, _ in signed] == ["Started", "Ended"]
    (_, begin_sv, begin), (_, end_sv, end) = signed
    assert begin["encodingMethod"] == "OCMF"
    assert begin["signingMethod"] == "ECDSA-secp256r1-SHA256"
    assert parse_public_key(begin["publicKey"]) == key.public  # once per transaction ...
    assert end.get("publicKey", "") == ""                     # ... not again
    for sv, value in ((begin_sv, begin), (end_sv, end)):
        text = base64.b64decode(value["signedMeterData"]).decode()
        record = parse_record(text)
        assert verify_record(record, key.public).valid
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert pyocmf.OCMF.from_string(text).verify_signature(key.public.hex())
        reading = record.payload.readings[0]
        assert reading.value is not None
        assert reading.value * 1000 == Decimal(str(sv["value"]))  # same as the unsigned value
    assert parse_record(base64.b64decode(begin["signedMeterData"]).decode()
                        ).payload.readings[0].reason == "B"
    assert parse_record(base64.b64decode(end["signedMeterData"]).decode()
                        ).payload.readings[0].reason == "R"


async def test_16_signed_data_in_meter_values_and_stop_transaction(
        csms: MiniCsms, running: Any) -> None:
    key = MeterKey.generate()
    station = make_station(csms, "1.6")
    station.signing_meter = SigningMeter("CS-1", key, "1.6",
                                         MeterSigning(public_key="every", signed_data="plain"))
    running(station)
    await csms.wait_for(lambda: station.accepted)
    await csms.call("CS-1", "RemoteStartTransaction", {"idTag": "TAG1"})
    start = (await csms.wait_for(lambda: csms.of("StartTransaction")))[0]
    begin = await csms.wait_for(lambda: [
        sv for p in csms.of("MeterValues") for mv in p["meterValue"] for sv in mv["sampledValue"]
        if sv.get("format") == "SignedData"])
    assert begin[0]["context"] == "Transaction.Begin"
    assert {p["transactionId"] for p in csms.of("MeterValues")} == {100}
    await csms.call("CS-1", "RemoteStopTransaction", {"transactionId": 100})
    stop = (await csms.wait_for(lambda: csms.of("StopTransaction")))[0]
    values = [sv for mv in stop["transactionData"] for sv in mv["sampledValue"]]
    assert [sv["context"] for sv in values] == ["Transaction.Begin", "Transaction.End"]
    assert values[0] == begin[0]
    records = []
    for sv in values:
        obj = json.loads(sv["value"])
        assert obj["encodingMethod"] == "OCMF"
        assert parse_public_key(obj["publicKey"]) == key.public
        record = parse_record(obj["signedMeterData"])
        assert verify_record(record, key.public).valid
        records.append(record)
    for record, wh in ((records[0], start["meterStart"]), (records[1], stop["meterStop"])):
        value = record.payload.readings[0].value
        assert value is not None and value == Decimal(wh) / 1000
        assert value.as_tuple().exponent == -3  # Wh resolution kept
    assert [r.payload.pagination for r in records] == ["T1", "T2"]


async def test_periodic_samples_are_signed_when_asked(csms: MiniCsms, running: Any) -> None:
    key = MeterKey.generate()
    station = make_station(csms, "2.0.1")
    station.signing_meter = SigningMeter("CS-1", key, "2.0.1",
                                         MeterSigning(public_key="never", periodic_s=20.0))
    running(station)
    await csms.wait_for(lambda: station.accepted)
    await csms.call("CS-1", "RequestStartTransaction", {"idToken": {
        "idToken": "TAG1", "type": "Central"}, "remoteStartId": 1})
    await csms.wait_for(lambda: sum(e == "Updated" for e, _, _ in _signed_2(csms)) >= 2)
    reasons = [parse_record(base64.b64decode(v["signedMeterData"]).decode())
               .payload.readings[0].reason for _, _, v in _signed_2(csms)]
    assert reasons[0] == "B" and set(reasons[1:]) == {"C"}
    assert all(v["publicKey"] == "" for _, _, v in _signed_2(csms))


def test_meter_key_persists_in_the_key_store(tmp_path: Path) -> None:
    first = meter_key_from_store(tmp_path, "CS 1/a")
    again = meter_key_from_store(tmp_path, "CS 1/a")
    assert first.public == again.public
    assert meter_key_from_store(tmp_path, "CS-2").public != first.public
    assert oct((tmp_path / "meter-CS_1_a.key.pem").stat().st_mode & 0o777) == "0o600"


async def test_fleet_from_cli_flags_signs_with_one_key_per_station(
        csms: MiniCsms, tmp_path: Path) -> None:
    import argparse
    import asyncio

    from ocppnet.station import cli
    from ocppnet.station.fleet import Fleet
    from tests.station.conftest import FAST_BACKOFF

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["station", "--url", csms.url, "--count", "2", "--speed", "600",
                              "--idle", "30", "--session", "60", "--meter-keys",
                              str(tmp_path / "keys"), "--public-key-with-signed-meter-value",
                              "every"])
    config = cli.build_config(args)
    assert config.meter_keys == tmp_path / "keys"
    fleet = Fleet(dataclasses_replace(config, backoff=FAST_BACKOFF, rate=500))
    runner = asyncio.create_task(fleet.run())
    await csms.wait_for(lambda: len({s for s, a, p in csms.received if a == "TransactionEvent"
                                     and p["eventType"] == "Ended"}) == 2)
    fleet.stop()
    await runner
    keys = {}
    for station, action, payload in csms.received:
        if action != "TransactionEvent":
            continue
        for _, _, value in _signed_2_of(payload):
            key = parse_public_key(value["publicKey"])
            record = parse_record(base64.b64decode(value["signedMeterData"]).decode())
            assert verify_record(record, key).valid
            keys.setdefault(station, set()).add(key.hex())
    assert len(keys) == 2 and all(len(k) == 1 for k in keys.values())
    assert keys["CS-00001"] != keys["CS-00002"]
    assert sorted(p.name for p in (tmp_path / "keys").glob("*.key.pem")) == [
        "meter-CS-00001.key.pem", "meter-CS-00002.key.pem"]


def _signed_2_of(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(payload["eventType"], sv, sv["signedMeterValue"])
            for mv in payload.get("meterValue", []) for sv in mv["sampledValue"]
            if "signedMeterValue" in sv]
