"""Typed OCPP-J frames, in standard mode and in overlay mode (docs/wire-format.md "Text frames").

A frame is in overlay mode when ``dest`` is not None; ``path`` is the record route,
originator first. Frames are immutable values; a forwarding node makes a new frame
with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeAlias

JsonObject: TypeAlias = dict[str, Any]


class MessageType(IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4
    CALLRESULTERROR = 5
    SEND = 6


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: JsonObject
    dest: str | None = None
    path: tuple[str, ...] = ()

    message_type = MessageType.CALL


@dataclass(frozen=True, slots=True)
class Send:
    """OCPP 2.1 SEND: a request that expects no response."""

    message_id: str
    action: str
    payload: JsonObject
    dest: str | None = None
    path: tuple[str, ...] = ()

    message_type = MessageType.SEND


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: JsonObject
    dest: str | None = None
    path: tuple[str, ...] = ()

    message_type = MessageType.CALLRESULT


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    error_code: str
    error_description: str
    error_details: JsonObject
    dest: str | None = None
    path: tuple[str, ...] = ()

    message_type = MessageType.CALLERROR


@dataclass(frozen=True, slots=True)
class CallResultError:
    """OCPP 2.1 CALLRESULTERROR: the receiver of a CALLRESULT could not process it."""

    message_id: str
    error_code: str
    error_description: str
    error_details: JsonObject
    dest: str | None = None
    path: tuple[str, ...] = ()

    message_type = MessageType.CALLRESULTERROR


Frame: TypeAlias = Call | Send | CallResult | CallError | CallResultError
Request: TypeAlias = Call | Send
Response: TypeAlias = CallResult | CallError | CallResultError
