"""Binary frames (docs/wire-format.md "Binary frames"): a JSON header, then raw bytes (pure).

Layout of one WebSocket binary message::

    uint32 big-endian header length | UTF-8 JSON header | raw payload bytes

The header is the frame's JSON array in the link's mode, with the payload slot holding the
message's JSON fields (``meta``, often empty) plus ``"length"`` and ``"sha256"`` (lowercase
hex) of the raw bytes, e.g. ``[2,"42","SendFile",{"fileName":"a.log","length":5,"sha256":"…"}]``.
Only CALL, CALLRESULT and SEND travel as binary frames; errors are always text frames.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, field
from typing import Final

from ocppnet.rpc.codec import (
    DEFAULT_LIMITS,
    DecodeFailure,
    Limits,
    decode,
    encode,
    error_reply,
    failure_from_raw,
)
from ocppnet.rpc.frames import Call, CallResult, JsonObject, MessageType, Send
from ocppnet.rpc.versions import wire_error_code

_HEADER_LENGTH: Final = struct.Struct(">I")
_SHA256_HEX: Final = re.compile(r"[0-9a-f]{64}")
RESERVED_META_KEYS: Final = frozenset({"length", "sha256"})
_BINARY_TYPES: Final = (MessageType.CALL, MessageType.CALLRESULT, MessageType.SEND)


@dataclass(frozen=True, slots=True)
class BinaryFrame:
    """A CALL, CALLRESULT or SEND whose body is raw bytes plus optional JSON fields.

    ``action`` is set for CALL and SEND and None for CALLRESULT; overlay mode iff ``dest``
    is set, exactly as for text frames. ``meta`` must not use the keys length/sha256.
    """

    message_type: MessageType
    message_id: str
    data: bytes
    action: str | None = None
    meta: JsonObject = field(default_factory=dict)
    dest: str | None = None
    path: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.message_type not in _BINARY_TYPES:
            raise ValueError(f"message type {self.message_type!r} cannot be a binary frame")
        if (self.action is None) != (self.message_type == MessageType.CALLRESULT):
            raise ValueError("action is required for CALL/SEND and forbidden for CALLRESULT")
        if RESERVED_META_KEYS & self.meta.keys():
            raise ValueError("meta must not contain the reserved keys 'length' or 'sha256'")


def encode_binary(frame: BinaryFrame) -> bytes:
    """The bytes of one WebSocket binary message for ``frame``."""
    payload = {**frame.meta, "length": len(frame.data), "sha256": _digest(frame.data)}
    header_frame: Call | Send | CallResult
    if frame.message_type == MessageType.CALLRESULT:
        header_frame = CallResult(frame.message_id, payload, frame.dest, frame.path)
    else:
        cls = Call if frame.message_type == MessageType.CALL else Send
        header_frame = cls(frame.message_id, frame.action or "", payload, frame.dest, frame.path)
    header = encode(header_frame)
    return _HEADER_LENGTH.pack(len(header)) + header + frame.data


def decode_binary(
    data: bytes,
    *,
    overlay: bool = False,
    version: str = "2.0.1",
    limits: Limits = DEFAULT_LIMITS,
) -> BinaryFrame | DecodeFailure:
    """Parse one WebSocket binary message; verifies length and SHA-256. Never raises.

    ``limits.max_frame_bytes`` bounds the whole message. Failures are answered exactly as
    for text frames (CALLERROR for a CALL, CALLRESULTERROR for a 2.1 CALLRESULT).
    """
    fmt = wire_error_code(version, "FormatViolation")
    if not isinstance(data, bytes | bytearray | memoryview):
        return DecodeFailure(fmt, "binary frame must be bytes", None, None)
    data = bytes(data)
    if len(data) > limits.max_frame_bytes:
        description = (
            f"binary frame of {len(data)} bytes exceeds the limit of {limits.max_frame_bytes} bytes"
        )
        return failure_from_raw(
            data[4:],
            "FormatViolation",
            description,
            overlay=overlay,
            version=version,
            limits=limits,
        )
    if len(data) < _HEADER_LENGTH.size:
        return DecodeFailure(fmt, "binary frame shorter than its 4-byte header length", None, None)
    (header_length,) = _HEADER_LENGTH.unpack_from(data)
    header = data[4 : 4 + header_length]
    if header_length > len(data) - 4:
        description = f"header length {header_length} exceeds the {len(data) - 4} bytes that follow"
        return failure_from_raw(
            header, "FormatViolation", description, overlay=overlay, version=version, limits=limits
        )
    result = decode(header, overlay=overlay, version=version, limits=limits)
    if isinstance(result, DecodeFailure):
        return result
    if not isinstance(result, Call | Send | CallResult):
        code = wire_error_code(version, "RpcFrameworkError")
        return DecodeFailure(code, "error frames must be sent as text", result.message_id, None)
    body = data[4 + header_length :]
    problem = _check_meta(result.payload, body)
    if problem is not None:
        reply = error_reply(result, "FormatViolation", problem, version=version)
        return DecodeFailure(fmt, problem, result.message_id, reply)
    meta = {k: v for k, v in result.payload.items() if k not in RESERVED_META_KEYS}
    action = None if isinstance(result, CallResult) else result.action
    return BinaryFrame(
        result.message_type, result.message_id, body, action, meta, result.dest, result.path
    )


def _check_meta(payload: JsonObject, body: bytes) -> str | None:
    """Why the header's length/sha256 do not describe ``body`` (None: they do)."""
    length, digest = payload.get("length"), payload.get("sha256")
    if type(length) is not int or length < 0:
        return "binary header needs a non-negative integer 'length'"
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest):
        return "binary header needs 'sha256' as 64 lowercase hex digits"
    if length != len(body):
        return f"binary payload has {len(body)} bytes, header says {length}"
    if digest != _digest(body):
        return "binary payload does not match its sha256"
    return None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
