"""The natural key of each station message the CSMS stores exactly once. Pure.

A message delivered twice (a node's store-and-forward replays after a crash, a station
repeats a request whose answer it lost) has the same key, so the store writes it once
(:meth:`ocppnet.store.Store.apply_once`). Keys are what the message itself says:

- TransactionEvent: transactionId + seqNo (the spec's own sequence number);
- StartTransaction (1.6): connector, idTag, timestamp, meterStart (no id exists yet);
- StopTransaction (1.6): transactionId (a transaction stops once);
- MeterValues: EVSE/connector, transaction id, and a digest of the sampled values (the
  same readings at the same times are the same report);
- reports kept as station events (NotifyEvent, NotifyReport, SecurityEventNotification):
  a digest of the whole payload, which carries the station's own time and sequence number.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from ocppnet.store import MessageKey


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def transaction_event_key(station_id: str, payload: dict[str, Any]) -> MessageKey:
    tx_id = payload["transactionInfo"]["transactionId"]
    return MessageKey(station_id, "TransactionEvent", f"{tx_id}/{payload['seqNo']}")


def start_transaction_key(station_id: str, payload: dict[str, Any]) -> MessageKey:
    key = (f"{payload['connectorId']}/{payload['idTag']}/{payload['timestamp']}/"
           f"{payload['meterStart']}")
    return MessageKey(station_id, "StartTransaction", key)


def stop_transaction_key(station_id: str, payload: dict[str, Any]) -> MessageKey:
    return MessageKey(station_id, "StopTransaction", str(payload["transactionId"]))


def station_event_key(station_id: str, kind: str, payload: dict[str, Any]) -> MessageKey:
    return MessageKey(station_id, kind, _digest(payload))


def meter_values_key(station_id: str, payload: dict[str, Any]) -> MessageKey:
    where = payload.get("evseId", payload.get("connectorId"))
    tx_id = payload.get("transactionId", "")
    return MessageKey(station_id, "MeterValues",
                      f"{where}/{tx_id}/{_digest(payload.get('meterValue'))}")
