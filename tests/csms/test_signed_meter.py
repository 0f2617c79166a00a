"""The CSMS's calibration-law part: signed readings verified, pinned, stored, flagged, served."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocppnet.api import api_app
from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.csms.metering_api import metering_router
from ocppnet.csms.signed_meter import MeteringSection, SignedMeterService
from ocppnet.metering import (
    MeterKey,
    Payload,
    Reading,
    format_time,
    parse_time,
    sign_payload,
    verify_document,
)

from .conftest import Clock, send

KEY = MeterKey.generate()
TIME = "2025-03-01T12:00:00.000Z"
END = "2025-03-01T12:30:00.000Z"


def ocmf(page: int, reason: str, wh: str, key: MeterKey = KEY, serial: str = "M-1") -> str:
    moment = datetime.fromisoformat(TIME if reason == "B" else END)
    payload = Payload(pagination=f"T{page}", meter_serial=serial, identification_status=True,
                      identification_type="ISO14443", identification_data="GOOD",
                      readings=(Reading(parse_time(format_time(moment, "S"), "TM")[0], reason,
                                        Decimal(wh).scaleb(-3), "01-00:01.08.00*FF", "kWh", "AC",
                                        None, "", "G"),))
    return sign_payload(payload, key).text


def event(kind: str, seq: int, wh: float, text: str, key: str = KEY.public.base64(),
          data: str | None = None) -> dict[str, Any]:
    signed = {"signedMeterData": data if data is not None else
              base64.b64encode(text.encode()).decode(), "signingMethod": "ECDSA-secp256r1-SHA256",
              "encodingMethod": "OCMF", "publicKey": key}
    return {"eventType": kind, "timestamp": TIME if kind == "Started" else END, "seqNo": seq,
            "triggerReason": "Authorized" if kind == "Started" else "StopAuthorized",
            "transactionInfo": {"transactionId": "T-1"}, "evse": {"id": 1, "connectorId": 1},
            "idToken": {"idToken": "GOOD", "type": "ISO14443"},
            "meterValue": [{"timestamp": TIME if kind == "Started" else END, "sampledValue": [
                {"value": wh, "context": "Transaction.Begin" if kind == "Started"
                 else "Transaction.End", "measurand": "Energy.Active.Import.Register",
                 "unitOfMeasure": {"unit": "Wh"}, "signedMeterValue": signed}]}]}


@pytest.fixture
async def metered(tmp_path: Path, config: CsmsConfig, clock: Clock) -> AsyncIterator[CsmsApp]:
    app = CsmsApp(config.model_copy(update={"store": str(tmp_path / "csms.sqlite3")}), clock=clock,
                  metering=MeteringSection())
    await app.start()
    yield app
    await app.stop()


def service(app: CsmsApp) -> SignedMeterService:
    assert app.signed_meter is not None
    return app.signed_meter


async def report(app: CsmsApp, tx_id: str = "T-1", station: str = "CS-1") -> Any:
    tx = await app.store.get_transaction(station, tx_id)
    assert tx is not None
    return await service(app).report(tx)


async def test_2x_valid_transaction_pins_the_key_and_verifies(metered: CsmsApp) -> None:
    begin = ocmf(1, "B", "1000")
    await send(metered, "2.0.1", "CS-1", "TransactionEvent", event("Started", 0, 1000.0, begin))
    await send(metered, "2.0.1", "CS-1", "TransactionEvent",
               event("Ended", 1, 8500.5, ocmf(2, "L", "8500.5"), key=""))
    result = await report(metered)
    assert result.verified, result.flags
    assert [r.valid for r in result.readings] == [True, True]
    assert "now pinned for meter M-1" in result.readings[0].reason
    assert "with the key pinned for meter M-1" in result.readings[1].reason
    assert result.readings[0].signed_data == begin  # decoded from base64, byte for byte
    assert result.readings[1].matches is True and result.readings[1].encoding == "base64"
    assert result.check.energy == Decimal("7.5005")
    pinned = await service(metered).readings.get_meter_key("CS-1", "M-1")
    assert pinned is not None and pinned.public_key == KEY.public.hex()


async def test_mismatch_tamper_and_foreign_key_are_flagged(
        metered: CsmsApp, caplog: pytest.LogCaptureFixture) -> None:
    await send(metered, "2.1", "CS-1", "TransactionEvent",
               event("Started", 0, 1000.0, ocmf(1, "B", "1000")))
    altered = ocmf(2, "E", "9000").replace('"RV":9', '"RV":8')
    await send(metered, "2.1", "CS-1", "TransactionEvent",
               event("Ended", 1, 9000.0, altered, data=altered))  # plain, as many stations do
    other = MeterKey.generate()
    result = await report(metered)
    assert not result.verified
    assert result.readings[1].encoding == "plain"
    assert "record 2 (Transaction.End): signature does not match the payload" in \
        " ".join(result.flags)
    assert any("does not match the unsigned value" in f for f in result.flags)
    assert result.check.energy is None  # an invalid end reading is never billed
    assert any("event=transaction_flagged station=CS-1 transaction=T-1" in r.getMessage()
               for r in caplog.records)
    # a later transaction signed by another key than the pinned one
    ev = event("Started", 0, 1.0, ocmf(3, "B", "1", key=other), key=other.public.base64())
    ev["transactionInfo"]["transactionId"] = "T-2"
    await send(metered, "2.1", "CS-1", "TransactionEvent", ev)
    second = await report(metered, "T-2")
    assert not second.readings[0].valid
    assert "carries another key than the one pinned" in second.readings[0].reason


async def test_trusted_mode_needs_a_listed_key(tmp_path: Path, config: CsmsConfig,
                                               clock: Clock) -> None:
    section = MeteringSection(trust="trusted", trusted_keys={"M-1": KEY.public.hex()})
    store = {"store": str(tmp_path / "c.sqlite3")}
    async with CsmsApp(config.model_copy(update=store), clock=clock, metering=section) as app:
        await send(app, "2.0.1", "CS-1", "TransactionEvent",
                   event("Started", 0, 1000.0, ocmf(1, "B", "1000"), key=""))
        ev = event("Ended", 1, 5.0, ocmf(2, "E", "5", serial="M-9"))
        await send(app, "2.0.1", "CS-1", "TransactionEvent", ev)
        result = await report(app)
        assert result.readings[0].valid
        assert "with the trusted key of meter M-1" in result.readings[0].reason
        assert not result.readings[1].valid
        assert result.readings[1].reason.startswith("no trusted key for meter M-9")


async def test_undecodable_signed_data_is_kept_and_flagged(metered: CsmsApp) -> None:
    await send(metered, "2.0.1", "CS-1", "TransactionEvent",
               event("Started", 0, 1.0, "", data="not ocmf at all"))
    result = await report(metered)
    assert result.readings[0].signed_data == "not ocmf at all"
    assert result.readings[0].reason == "signed data is not OCMF (neither plain, base64 nor hex)"
    assert not result.verified


def sampled_16(text: str, context: str) -> dict[str, Any]:
    return {"value": json.dumps({"signedMeterData": text, "signingMethod": "", "encodingMethod":
                                 "OCMF", "publicKey": KEY.public.base64()}),
            "format": "SignedData", "context": context,
            "measurand": "Energy.Active.Import.Register", "unit": "Wh"}


async def test_16_begin_in_meter_values_and_both_in_stop_transaction(metered: CsmsApp) -> None:
    start = await send(metered, "1.6", "CS-16", "StartTransaction", {
        "connectorId": 1, "idTag": "GOOD", "meterStart": 1000, "timestamp": TIME})
    tx_id = start["transactionId"]
    begin = sampled_16(ocmf(1, "B", "1000"), "Transaction.Begin")
    await send(metered, "1.6", "CS-16", "MeterValues", {
        "connectorId": 1, "transactionId": tx_id,
        "meterValue": [{"timestamp": TIME, "sampledValue": [begin]}]})
    end = sampled_16(ocmf(2, "E", "4000"), "Transaction.End")
    await send(metered, "1.6", "CS-16", "StopTransaction", {
        "transactionId": tx_id, "meterStop": 4000, "timestamp": END, "reason": "Local",
        "transactionData": [{"timestamp": TIME, "sampledValue": [begin]},
                            {"timestamp": END, "sampledValue": [end]}]})
    result = await report(metered, str(tx_id), "CS-16")
    assert [r.context for r in result.readings] == ["Transaction.Begin", "Transaction.End"]
    assert [r.unsigned_wh for r in result.readings] == [1000.0, 4000.0]
    assert result.verified, result.flags
    assert result.check.energy == Decimal("3")


@pytest.fixture
async def api(metered: CsmsApp) -> AsyncIterator[httpx.AsyncClient]:
    async def tariff(tx: Any) -> dict[str, Any] | None:
        return {"tariff": {"id": "T-A", "sha256": "ab" * 32}, "cost": "3.20 EUR"} \
            if tx.transaction_id == "T-1" else None

    web = api_app("test", [metering_router(service(metered), extras=[tariff])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                 base_url="http://test") as client:
        yield client


async def test_routes_serve_transparency_file_and_receipt(metered: CsmsApp,
                                                          api: httpx.AsyncClient) -> None:
    begin, end = ocmf(1, "B", "1000"), ocmf(2, "L", "8500.5")
    await send(metered, "2.0.1", "CS-1", "TransactionEvent", event("Started", 0, 1000.0, begin))
    await send(metered, "2.0.1", "CS-1", "TransactionEvent", event("Ended", 1, 8500.5, end))
    xml = await api.get("/api/v1/transactions/T-1/transparency")
    assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
    assert 'filename="transparency-CS-1-T-1.xml"' in xml.headers["content-disposition"]
    assert f">{begin}</signedData>".encode() in xml.content
    verified = verify_document(xml.content)
    tx = await metered.store.get_transaction("CS-1", "T-1")
    assert tx is not None
    assert verified.all_valid and verified.transactions[str(tx.key)].ok
    assert f'<value transactionId="{tx.key}" context="Transaction.Begin">'.encode() in xml.content
    receipt = (await api.get("/api/v1/transactions/T-1/receipt")).json()
    assert receipt["energyWh"] == "7500.5" and receipt["verified"] is True
    assert receipt["meterSerial"] == "M-1" and receipt["flags"] == []
    assert receipt["transactionId"] == "T-1" and receipt["transactionNumber"] == tx.key
    assert receipt["cost"] == "3.20 EUR" and receipt["tariff"]["id"] == "T-A"
    assert [r["signedData"] for r in receipt["records"]] == [begin, end]
    page = await api.get("/api/v1/transactions/T-1/receipt", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "7.5005 kWh" in page.text and "&quot;PG&quot;:&quot;T1&quot;" in page.text
    assert "<th>cost</th><td>3.20 EUR</td>" in page.text
    missing = await api.get("/api/v1/transactions/nope/receipt")
    assert missing.status_code == 404
    assert missing.json() == {"error": "unknown_transaction", "detail": "no transaction nope"}
    assert (await api.get("/api/v1/transactions/T-1/receipt?format=pdf")).status_code == 400
    ev = event("Started", 0, 1.0, ocmf(3, "B", "1"))
    await send(metered, "2.0.1", "CS-2", "TransactionEvent", ev)
    clash = await api.get("/api/v1/transactions/T-1/receipt")
    assert clash.status_code == 409 and "CS-1, CS-2" in clash.json()["detail"]
    assert clash.json()["error"] == "ambiguous_transaction"
    assert (await api.get("/api/v1/transactions/T-1/receipt?station=CS-2")).status_code == 200


def test_metering_section_refuses_unknown_keys_and_bad_keys() -> None:
    from ocppnet.config import parse_section
    from ocppnet.errors import ConfigError
    from ocppnet.metering import OcmfError

    with pytest.raises(ConfigError, match=r"^csms.toml: metering.trus: "):
        parse_section(MeteringSection, {"trus": "x"}, source="csms.toml", where="metering")
    section = parse_section(MeteringSection, {"trust": "trusted", "trusted_keys": {"M": "zz"}},
                            source="csms.toml", where="metering")
    with pytest.raises(OcmfError, match=r"^metering.trusted_keys.M: not a DER public key"):
        SignedMeterService(_FakeStore(), section,  # type: ignore[arg-type]
                           clock=lambda: datetime.now(UTC))


class _FakeStore:
    """Only to reach the trusted-key parsing; a real store is used everywhere else."""

    async def add_signed_reading(self, reading: Any) -> bool: ...
    async def list_signed_readings(self, key: int) -> list[Any]: ...
    async def get_meter_key(self, station: str, serial: str) -> Any: ...
    async def pin_meter_key(self, key: Any) -> Any: ...
