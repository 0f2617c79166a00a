"""Calls between front-ends, as bytes: the request a front-end sends to the one holding a
station, and the reply (the station's payload or the error it ended with). Pure.

Request ``{"op": "call", "station", "action", "payload", "timeout", "incarnation"}`` (or
``{"op": "ping"}``); reply ``{"ok": payload}`` or ``{"error": {"type", "code",
"description", "details"}}`` where ``type`` is one of CallErrorReceived, CallTimeout,
ConnectionClosed, UnknownClient, or ``WireError`` (any other error, by its OCPP code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ocppnet.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionClosed,
    OcppNetError,
    UnknownClient,
    error_class,
)

Payload = dict[str, Any]
PING = orjson.dumps({"op": "ping"})
PONG = orjson.dumps({"ok": {}})


class FrontendGone(UnknownClient):
    """The station's entry names a front-end that nobody answers for any more (NATS: no
    responders): it died, or left without removing the entry. Never sent on the bus."""


class BadMessage(ValueError):
    """A request or reply that is not ours."""


@dataclass(frozen=True, slots=True)
class CallRequest:
    station_id: str
    action: str
    payload: Payload
    timeout: float | None = None
    incarnation: str | None = None  # of the front-end the caller expects to hold it

    def encode(self) -> bytes:
        return orjson.dumps({"op": "call", "station": self.station_id, "action": self.action,
                             "payload": self.payload, "timeout": self.timeout,
                             "incarnation": self.incarnation})


def decode_request(raw: bytes) -> CallRequest | None:
    """The call in ``raw``; None for a ping; BadMessage names what is wrong."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"request is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadMessage("request: expected a JSON object")
    op = data.get("op")
    if op == "ping":
        return None
    if op != "call":
        raise BadMessage(f"op: expected 'call' or 'ping', got {op!r}")
    station, action, payload = data.get("station"), data.get("action"), data.get("payload")
    timeout, incarnation = data.get("timeout"), data.get("incarnation")
    if not isinstance(station, str) or not station:
        raise BadMessage(f"station: expected a station id, got {station!r}")
    if not isinstance(action, str) or not action:
        raise BadMessage(f"action: expected an OCPP action, got {action!r}")
    if not isinstance(payload, dict):
        raise BadMessage(f"payload: expected a JSON object, got {payload!r}")
    if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
        raise BadMessage(f"timeout: expected a positive number of seconds, got {timeout!r}")
    if incarnation is not None and not isinstance(incarnation, str):
        raise BadMessage(f"incarnation: expected a string, got {incarnation!r}")
    return CallRequest(station, action, payload, None if timeout is None else float(timeout),
                       incarnation)


def encode_result(payload: Payload) -> bytes:
    return orjson.dumps({"ok": payload})


def encode_error(exc: OcppNetError) -> bytes:
    if isinstance(exc, CallErrorReceived | CallTimeout | ConnectionClosed | UnknownClient):
        kind = type(exc).__name__
    else:
        kind = "WireError"
    return orjson.dumps({"error": {"type": kind, "code": exc.code,
                                   "description": exc.description,
                                   "details": exc.details or None}})


def decode_reply(raw: bytes) -> Payload:
    """The station's payload, or raise the error the holding front-end reported."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadMessage(f"reply is not JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("ok"), dict):
        ok: Payload = data["ok"]
        return ok
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        raise BadMessage("reply: expected {'ok': ...} or {'error': ...}")
    raise error_from(error)


def error_from(error: dict[str, Any]) -> OcppNetError:
    kind, code = error.get("type"), str(error.get("code") or "GenericError")
    description = str(error.get("description") or "")
    details = error.get("details") if isinstance(error.get("details"), dict) else None
    if kind == "CallErrorReceived":
        return CallErrorReceived(code, description, details)
    if kind == "CallTimeout":
        return CallTimeout(description, details)
    if kind == "ConnectionClosed":
        return ConnectionClosed(description, details)
    if kind == "UnknownClient":
        return UnknownClient(description, details)
    return error_class(code)(description, details)
