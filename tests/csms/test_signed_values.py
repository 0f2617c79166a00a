"""Signed values out of OCPP requests (pure): every form stations use, nothing dropped."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from ocppnet.csms.signed_values import decode_signed_data, signed_values

TEXT = 'OCMF|{"PG":"T1","RD":[{"RV":1.5}]}|{"SD":"3045"}'


@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="|"),
               max_size=40))
def test_every_encoding_gives_back_the_exact_text(inner: str) -> None:
    text = f'OCMF|{{"X":{json.dumps(inner)}}}|{{"SD":"00"}}'
    raw = text.encode()
    assert decode_signed_data(text) == (text, "plain")
    assert decode_signed_data(base64.b64encode(raw).decode()) == (text, "base64")
    assert decode_signed_data(raw.hex().upper()) == (text, "hex")


def test_v2_signed_meter_value_with_unit_multiplier() -> None:
    payload = {"eventType": "Ended", "evse": {"id": 2}, "meterValue": [{"sampledValue": [
        {"value": 1.5, "unitOfMeasure": {"unit": "kWh", "multiplier": 0},
         "context": "Transaction.End",
         "signedMeterValue": {"signedMeterData": base64.b64encode(TEXT.encode()).decode(),
                              "signingMethod": "ECDSA-secp256r1-SHA256",
                              "encodingMethod": "OCMF", "publicKey": ""}},
        {"value": 7.0, "measurand": "Power.Active.Import"}]}]}
    [value] = signed_values("2.1", "TransactionEvent", payload)
    assert (value.text, value.encoding, value.unsigned_wh, value.evse_id, value.public_key) == \
        (TEXT, "base64", 1500.0, 2, None)


def test_v16_forms_json_object_other_key_plain_and_hex() -> None:
    def sampled(value: str, context: str = "Sample.Periodic") -> dict[str, object]:
        return {"value": value, "format": "SignedData", "context": context}

    forms = [json.dumps({"signedMeterData": TEXT, "encodingMethod": "OCMF", "publicKey": "AB"}),
             json.dumps({"signedMeterValue": base64.b64encode(TEXT.encode()).decode(),
                         "encodingMethod": "OCMF", "publicKey": ""}),
             TEXT, TEXT.encode().hex()]
    payload = {"connectorId": 1, "meterValue": [{"sampledValue": [
        *(sampled(f) for f in forms), {"value": "1500", "unit": "Wh"}]}]}
    values = signed_values("1.6", "MeterValues", payload)
    assert [v.text for v in values] == [TEXT] * 4
    assert [v.encoding for v in values] == ["plain", "base64", "plain", "hex"]
    assert [v.public_key for v in values] == ["AB", None, None, None]
    assert {v.unsigned_wh for v in values} == {1500.0}  # the plain sibling sample
    stop = {"meterStop": 2500, "transactionData": [{"sampledValue": [
        sampled(TEXT, "Transaction.End")]}]}
    [end] = signed_values("1.6", "StopTransaction", stop)
    assert end.unsigned_wh == 2500.0


def test_what_cannot_be_read_is_returned_with_a_problem() -> None:
    payload = {"connectorId": 1, "meterValue": [{"sampledValue": [
        {"value": "EDL40 blob", "format": "SignedData"},
        {"value": json.dumps({"signedMeterData": "x", "encodingMethod": "EDL"}),
         "format": "SignedData"}]}]}
    first, second = signed_values("1.6", "MeterValues", payload)
    assert first.problem == "signed data is not OCMF (neither plain, base64 nor hex)"
    assert first.text == "EDL40 blob"
    assert second.problem == "encodingMethod 'EDL' is not OCMF"
    assert signed_values("1.6", "Heartbeat", {}) == []
