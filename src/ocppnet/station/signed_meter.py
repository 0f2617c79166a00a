"""The simulated station's signing meter: OCMF records on the begin and end readings.

Each station gets one signing component (a meter key pair, from a key store so it survives
restarts) and a meter serial per EVSE. :meth:`SigningMeter.sign` takes a transaction message
the dialect produced and returns it with the energy reading signed, in the form of the
station's OCPP version:

- 2.0.1/2.1: the ``Energy.Active.Import.Register`` sampled value of ``TransactionEvent``
  gets ``signedMeterValue`` (``signedMeterData`` base64 of the OCMF text, ``signingMethod``,
  ``encodingMethod`` "OCMF", ``publicKey`` per ``PublicKeyWithSignedMeterValue``).
- 1.6 (OCA's Eichrecht guidance): a ``MeterValues`` after ``StartTransaction`` with a sampled
  value of format ``SignedData`` (context ``Transaction.Begin``), and ``StopTransaction``'s
  ``transactionData`` with the begin and end signed values; ``value`` holds the 2.x object
  as JSON.

The signed value is the unsigned value of the same message, so the two can be compared.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec

from ocppnet.metering import (
    DEFAULT_ALGORITHM,
    MeterKey,
    OcmfRecord,
    Payload,
    Reading,
    format_time,
    parse_time,
    sign_payload,
)
from ocppnet.rpc.timestamps import parse_seconds
from ocppnet.security.keystore import KeyStore
from ocppnet.station.meter import ENERGY
from ocppnet.station.offline_queue import QueuedMessage

__all__ = ["MeterSigning", "SigningMeter", "meter_key_from_store", "meter_key_name"]

OBIS_IMPORT = "01-00:01.08.00*FF"
_END_REASON = {"Local": "L", "StopAuthorized": "L", "Remote": "R", "RemoteStop": "R",
               "PowerLoss": "P", "EmergencyStop": "A", "AbnormalCondition": "A"}


@dataclass(frozen=True, slots=True)
class MeterSigning:
    """How a station's meter signs: what to sign, whether the key travels, encodings."""

    public_key: Literal["never", "once", "every"] = "once"
    """OCPP 2.x ``PublicKeyWithSignedMeterValue``: Never, OncePerTransaction, EveryMeterValue."""
    periodic_s: float | None = None
    """Also sign periodic samples, at most this often (simulated seconds); None: never."""
    algorithm: str = DEFAULT_ALGORITHM
    signed_data: Literal["base64", "plain"] = "base64"
    """``signedMeterData`` as OCPP 2.x says (base64) or the OCMF text as many stations send it."""


def meter_key_name(station_id: str) -> str:
    """The key store name of a station's meter key."""
    return "meter-" + re.sub(r"[^A-Za-z0-9._-]", "_", station_id)[:57]


def meter_key_from_store(directory: str | Path, station_id: str) -> MeterKey:
    """The station's meter key from a key store (created there, mode 0600, on first use)."""
    store = KeyStore(directory)
    name = meter_key_name(station_id)
    if not any(info.name == name for info in store.list_keys()):
        store.new(name, "secp256r1")
    private = store.key_pair(name).private_key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return MeterKey(private)


@dataclass(slots=True)
class _Tx:
    evse: int
    id_token: str | None
    remote: bool
    begin: dict[str, Any] | None = None  # the signed begin sampled value (1.6 StopTransaction)
    begin_at: str = ""
    key_sent: bool = False
    last_signed: float = 0.0


@dataclass(slots=True)
class SigningMeter:
    """One station's signing component; keeps the pagination counter and open transactions."""

    station_id: str
    key: MeterKey
    version: str
    signing: MeterSigning = field(default_factory=MeterSigning)
    pagination: int = 0
    records: list[OcmfRecord] = field(default_factory=list)
    _txs: dict[str, _Tx] = field(default_factory=dict)

    # --- building one signed record ----------------------------------------------------

    def record(self, evse: int, reason: str, energy_wh: Decimal, at: float,
               id_token: str | None, remote: bool) -> OcmfRecord:
        """Sign one energy reading (Wh) as the meter of ``evse`` would, in kWh with the
        Wh digits kept (9000 Wh is ``9.000``, not ``9``: the resolution is part of it)."""
        self.pagination += 1
        moment = datetime.fromtimestamp(at, UTC)
        time = parse_time(format_time(moment, "I"), "TM")[0]
        payload = Payload(
            pagination=f"T{self.pagination}", format_version="1.4",
            gateway_id="ocppnet SimStation", gateway_serial=self.station_id[:25],
            gateway_version="0.1.0", meter_vendor="ocppnet", meter_model="SimMeter",
            meter_serial=f"{self.station_id}-{evse}", meter_firmware="1.0",
            identification_status=id_token is not None,
            identification_level="TRUSTED" if id_token is not None else "NONE",
            identification_flags=("RFID_NONE", "OCPP_RS") if remote
            else ("RFID_PLAIN", "OCPP_AUTH"),
            identification_type="CENTRAL" if remote else "ISO14443",
            identification_data=id_token or "", charge_point_id_type="CBIDC",
            charge_point_id=f"{self.station_id} {evse}",
            readings=(Reading(time=time, reason=reason, value=energy_wh.scaleb(-3),
                              obis=OBIS_IMPORT, unit="kWh", current_type="AC",
                              error_flags="", status="G"),))
        record = sign_payload(payload, self.key)
        self.records.append(record)
        return record

    def _signed_value(self, record: OcmfRecord, tx: _Tx | None) -> dict[str, Any]:
        data = record.text if self.signing.signed_data == "plain" else \
            base64.b64encode(record.text.encode("utf-8")).decode("ascii")
        value: dict[str, Any] = {"signedMeterData": data,
                                 "signingMethod": record.signature.algorithm or "",
                                 "encodingMethod": "OCMF"}
        send_key = self.signing.public_key == "every" or (
            self.signing.public_key == "once" and tx is not None and not tx.key_sent)
        if send_key:
            value["publicKey"] = self.key.public.base64()
            if tx is not None:
                tx.key_sent = True
        elif self.version == "2.0.1":
            value["publicKey"] = ""  # mandatory in 2.0.1, empty when not sent
        return value

    # --- attaching records to the dialect's messages -----------------------------------

    def sign(self, message: QueuedMessage, now: float) -> list[QueuedMessage]:
        """The message with its energy reading signed (1.6: plus a MeterValues)."""
        if message.action == "TransactionEvent":
            self._sign_event(message.payload, now)
        elif message.action == "StartTransaction":
            return [message, *self._start_16(message, now)]
        elif message.action == "StopTransaction":
            self._stop_16(message, now)
        elif message.action == "MeterValues" and message.tx_ref is not None:
            self._periodic_16(message, now)
        return [message]

    def _periodic_due(self, tx: _Tx | None, now: float) -> bool:
        period = self.signing.periodic_s
        return tx is not None and period is not None and now - tx.last_signed >= period

    def _sign_event(self, payload: dict[str, Any], now: float) -> None:
        tx_id = payload["transactionInfo"]["transactionId"]
        event = payload["eventType"]
        if event == "Started":
            self._txs[tx_id] = _Tx(payload["evse"]["id"], payload["idToken"]["idToken"],
                                   payload["triggerReason"] == "RemoteStart")
        tx = self._txs.get(tx_id)
        if tx is None:
            return
        if event == "Started":
            reason = "B"
        elif event == "Ended":
            reason = _END_REASON.get(payload["triggerReason"], "E")
        elif self._periodic_due(tx, now):
            reason = "C"
        else:
            return
        for meter_value in payload.get("meterValue", []):
            at = parse_seconds(meter_value["timestamp"])
            for sampled in meter_value["sampledValue"]:
                if sampled.get("measurand") == ENERGY:
                    record = self.record(tx.evse, reason, Decimal(str(sampled["value"])), at,
                                         tx.id_token, tx.remote)
                    sampled["signedMeterValue"] = self._signed_value(record, tx)
                    tx.last_signed = now
        if event == "Ended":
            del self._txs[tx_id]

    def _value_16(self, record: OcmfRecord, tx: _Tx, context: str) -> dict[str, Any]:
        return {"value": json.dumps(self._signed_value(record, tx), separators=(",", ":")),
                "format": "SignedData", "context": context, "measurand": ENERGY,
                "unit": "Wh", "location": "Outlet"}

    def _start_16(self, message: QueuedMessage, now: float) -> list[QueuedMessage]:
        payload, tx_id = message.payload, str(message.tx_ref)
        tx = _Tx(payload["connectorId"], payload.get("idTag"), False)
        self._txs[tx_id] = tx
        at = parse_seconds(payload["timestamp"])
        record = self.record(tx.evse, "B", Decimal(payload["meterStart"]), at, tx.id_token,
                             False)
        tx.begin = self._value_16(record, tx, "Transaction.Begin")
        tx.begin_at = payload["timestamp"]
        tx.last_signed = now
        return [QueuedMessage("MeterValues", {
            "connectorId": tx.evse, "transactionId": 0,
            "meterValue": [{"timestamp": payload["timestamp"], "sampledValue": [tx.begin]}]},
            message.tx_ref)]

    def _stop_16(self, message: QueuedMessage, now: float) -> None:
        payload = message.payload
        tx = self._txs.pop(str(message.tx_ref), None)
        if tx is None:
            return
        at = parse_seconds(payload["timestamp"])
        record = self.record(tx.evse, _END_REASON.get(payload.get("reason", ""), "E"),
                             Decimal(payload["meterStop"]), at, tx.id_token, False)
        end = self._value_16(record, tx, "Transaction.End")
        data = payload.setdefault("transactionData", [])
        if tx.begin is not None:
            data.append({"timestamp": tx.begin_at, "sampledValue": [tx.begin]})
        data.append({"timestamp": payload["timestamp"], "sampledValue": [end]})

    def _periodic_16(self, message: QueuedMessage, now: float) -> None:
        tx = self._txs.get(str(message.tx_ref))
        if tx is None or not self._periodic_due(tx, now):
            return
        for meter_value in message.payload.get("meterValue", []):
            for sampled in list(meter_value["sampledValue"]):
                if sampled.get("measurand") == ENERGY and sampled.get("format") != "SignedData":
                    at = parse_seconds(meter_value["timestamp"])
                    record = self.record(tx.evse, "C", Decimal(sampled["value"]), at,
                                         tx.id_token, False)
                    meter_value["sampledValue"].append(
                        self._value_16(record, tx, "Sample.Periodic"))
                    tx.last_signed = now
