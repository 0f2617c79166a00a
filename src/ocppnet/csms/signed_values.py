"""Signed meter values out of OCPP requests (pure): the exact OCMF text and its context.

Where they travel:

- 2.0.1/2.1 ``TransactionEvent`` and ``MeterValues``: a sampled value's ``signedMeterValue``
  (``signedMeterData`` base64 as the spec says, or the OCMF text as many stations send it);
  the same sampled value's ``value`` is the unsigned reading to compare with.
- 1.6 ``MeterValues`` and ``StopTransaction.transactionData``: a sampled value with format
  ``SignedData`` whose ``value`` is the 2.x object as JSON (OCA's Eichrecht guidance; the
  ``signedMeterValue`` key some backends document is read too), or the OCMF text, plain or
  hex. The unsigned reading is a plain sibling sample, or ``meterStop`` for the end.

A value that cannot be decoded is still returned (``problem`` says why), so it is stored
and flagged instead of silently dropped.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["SignedValue", "decode_signed_data", "signed_values"]

ENERGY = "Energy.Active.Import.Register"
_TO_WH = {"Wh": 1.0, "kWh": 1000.0}


@dataclass(frozen=True, slots=True)
class SignedValue:
    """One signed reading as it arrived."""

    text: str                    # the OCMF text (exact), or the raw data when undecodable
    encoding: str                # base64, plain, hex, or "unknown"
    context: str | None = None
    public_key: str | None = None
    signing_method: str | None = None
    unsigned_wh: float | None = None
    evse_id: int | None = None
    problem: str | None = None


def decode_signed_data(data: str) -> tuple[str, str]:
    """``(ocmf text, encoding)`` of signed data; ValueError when it is no OCMF in any form."""
    stripped = data.strip()
    if stripped.startswith("OCMF|"):
        return stripped, "plain"
    try:
        text = base64.b64decode("".join(stripped.split()), validate=True).decode("utf-8")
        if text.strip().startswith("OCMF|"):
            return text.strip(), "base64"
    except (binascii.Error, ValueError):
        pass
    try:
        text = bytes.fromhex("".join(stripped.split())).decode("utf-8")
        if text.strip().startswith("OCMF|"):
            return text.strip(), "hex"
    except ValueError:
        pass
    raise ValueError("signed data is not OCMF (neither plain, base64 nor hex)")


def _wh(value: Any, unit: str | None, multiplier: int = 0) -> float | None:
    try:
        number = float(value) * 10 ** multiplier
    except (TypeError, ValueError):
        return None
    factor = _TO_WH.get(unit or "Wh")
    return number * factor if factor is not None and math.isfinite(number) else None


def _value(data: str, encoding_method: str | None, *, context: str | None,
           public_key: str | None, signing_method: str | None, unsigned_wh: float | None,
           evse_id: int | None) -> SignedValue:
    if encoding_method not in (None, "OCMF"):
        return SignedValue(data, "unknown", context, public_key, signing_method, unsigned_wh,
                           evse_id, f"encodingMethod {encoding_method!r} is not OCMF")
    try:
        text, encoding = decode_signed_data(data)
    except ValueError as exc:
        return SignedValue(data, "unknown", context, public_key, signing_method, unsigned_wh,
                           evse_id, str(exc))
    return SignedValue(text, encoding, context, public_key or None, signing_method,
                       unsigned_wh, evse_id)


def _from_v2(meter_values: Any, evse_id: int | None) -> list[SignedValue]:
    out: list[SignedValue] = []
    for mv in meter_values or ():
        for sv in mv.get("sampledValue", ()):
            signed = sv.get("signedMeterValue")
            if not isinstance(signed, dict):
                continue
            uom = sv.get("unitOfMeasure") or {}
            unsigned = _wh(sv.get("value"), uom.get("unit"), int(uom.get("multiplier", 0))) \
                if sv.get("measurand", ENERGY) == ENERGY and sv.get("phase") is None else None
            out.append(_value(str(signed.get("signedMeterData", "")),
                              signed.get("encodingMethod"), context=sv.get("context"),
                              public_key=signed.get("publicKey"),
                              signing_method=signed.get("signingMethod"),
                              unsigned_wh=unsigned, evse_id=evse_id))
    return out


def _from_v16(meter_values: Any, evse_id: int | None, meter_stop: Any) -> list[SignedValue]:
    out: list[SignedValue] = []
    for mv in meter_values or ():
        samples = mv.get("sampledValue", ())
        plain = [_wh(sv.get("value"), sv.get("unit")) for sv in samples
                 if sv.get("format") != "SignedData" and sv.get("measurand", ENERGY) == ENERGY
                 and sv.get("phase") is None]
        sibling = next((v for v in plain if v is not None), None)
        for sv in samples:
            if sv.get("format") != "SignedData":
                continue
            raw = str(sv.get("value", ""))
            unsigned = sibling
            if unsigned is None and sv.get("context") == "Transaction.End":
                unsigned = _wh(meter_stop, "Wh")
            data, key, method, encoding = raw, None, None, None
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                data = str(obj.get("signedMeterData", obj.get("signedMeterValue", "")))
                key, method = obj.get("publicKey"), obj.get("signingMethod")
                encoding = obj.get("encodingMethod")
            out.append(_value(data, encoding, context=sv.get("context"), public_key=key,
                              signing_method=method, unsigned_wh=unsigned, evse_id=evse_id))
    return out


def signed_values(version: str, action: str, payload: dict[str, Any]) -> list[SignedValue]:
    """The signed readings in one request (empty for actions that carry none)."""
    if version == "1.6":
        if action == "MeterValues":
            return _from_v16(payload.get("meterValue"), payload.get("connectorId"), None)
        if action == "StopTransaction":
            return _from_v16(payload.get("transactionData"), None, payload.get("meterStop"))
        return []
    if action in ("TransactionEvent", "MeterValues"):
        evse = payload.get("evse") or {}
        return _from_v2(payload.get("meterValue"), evse.get("id", payload.get("evseId")))
    return []
