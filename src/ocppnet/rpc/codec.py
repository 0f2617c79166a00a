"""OCPP-J text frames <-> typed frames, in standard and overlay mode (pure, no I/O).

:func:`decode` never raises: every malformed input becomes a :class:`DecodeFailure` that
names the OCPP error code (in the link version's spelling) and carries the error frame to
send back, or None when the input must be dropped. The mapping is documented, with
examples, in docs/wire-format.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, cast

import orjson

from ocppnet.errors import OcppNetError
from ocppnet.rpc.frames import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    Frame,
    JsonObject,
    MessageType,
    Send,
)
from ocppnet.rpc.versions import has_message_type, wire_error_code

MAX_DESCRIPTION_LENGTH: Final = 255
"""OCPP 2.x limits errorDescription to 255 characters; longer descriptions are cut."""

ErrorFrame: TypeAlias = CallError | CallResultError
_ReplyKind: TypeAlias = type[CallError] | type[CallResultError] | None

_SALVAGE_PREFIX: Final = 512
_ARITY: Final[dict[int, int]] = {2: 4, 3: 3, 4: 5, 5: 5, 6: 4}
_PLAIN_TYPES: Final = frozenset({Call, Send, CallResult, CallError, CallResultError})


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied before and while parsing, so hostile input costs little."""

    max_frame_bytes: int = 1_048_576
    max_message_id_length: int = 36
    max_depth: int = 32
    max_path_length: int = 64


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class DecodeFailure:
    """Why a frame was rejected, and the error frame to answer it with (None = drop).

    ``message_id`` is set whenever an id could be recovered, also for a malformed
    response, so the transport can fail the pending call at once instead of timing out.
    In overlay mode ``reply.dest`` is the bad frame's originator (PATH[0]) and
    ``reply.path`` is empty for the sending node to fill in.
    """

    error_code: str
    description: str
    message_id: str | None
    reply: ErrorFrame | None

    def reply_from(self, sender: str | None) -> ErrorFrame | None:
        """The reply as ``sender`` (the node or station answering) sends it: an overlay reply
        gets PATH = (sender,); a standard one is unchanged."""
        reply = self.reply
        if reply is None or sender is None or reply.dest is None or reply.path:
            return reply
        return type(reply)(
            reply.message_id, reply.error_code, reply.error_description, reply.error_details,
            reply.dest, (sender,),
        )


class _Reject(Exception):
    """Internal: raised by the structural checks, turned into a DecodeFailure."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


# --------------------------------------------------------------------------- encode


def _path_json(path: tuple[str, ...]) -> str | list[str]:
    return path[0] if len(path) == 1 else list(path)


def encode(frame: Frame) -> bytes:
    """UTF-8 JSON for a frame; overlay form iff ``frame.dest`` is set.

    PATH is written as a plain string when it has exactly one element, as an array
    otherwise (what WWCP_OCPP writes). Raises orjson.JSONEncodeError (a TypeError) only
    if the payload holds values that are not JSON. A raw frame (``rpc.header``) writes its
    new header and its payload bytes as received.
    """
    if frame.__class__ not in _PLAIN_TYPES:
        wire = getattr(frame, "wire", None)
        if wire is not None:
            return cast(bytes, wire())
    head: list[Any] = [int(frame.message_type)]
    if frame.dest is not None:
        head += [frame.dest, _path_json(frame.path)]
    if isinstance(frame, Call | Send):
        head += [frame.message_id, frame.action, frame.payload]
    elif isinstance(frame, CallResult):
        head += [frame.message_id, frame.payload]
    else:
        head += [frame.message_id, frame.error_code, frame.error_description, frame.error_details]
    return orjson.dumps(head)


# ---------------------------------------------------------------------- error replies


def _reply_kind(message_type: object, version: str) -> _ReplyKind:
    """Which error frame answers a bad frame of this type (None: never answered).

    A CALL is answered with CALLERROR; in 2.1 a CALLRESULT with CALLRESULTERROR. Errors
    and SENDs are never answered (no error ping-pong; SEND expects nothing back). A type
    the version does not know is answered with CALLERROR (MessageTypeNotSupported).
    """
    if type(message_type) is not int or not has_message_type(version, message_type):
        return CallError
    if message_type == MessageType.CALL:
        return CallError
    if message_type == MessageType.CALLRESULT and version == "2.1":
        return CallResultError
    return None


def _build_reply(
    kind: _ReplyKind,
    message_id: str | None,
    overlay: bool,
    originator: str | None,
    code: str,
    description: str,
    details: JsonObject | None,
) -> ErrorFrame | None:
    if kind is None or message_id is None or (overlay and originator is None):
        return None
    return kind(
        message_id=message_id,
        error_code=code,
        error_description=description[:MAX_DESCRIPTION_LENGTH],
        error_details=details if details is not None else {},
        dest=originator if overlay else None,
        path=(),
    )


def error_reply(
    frame: Frame,
    error_code: str,
    description: str,
    *,
    version: str,
    details: JsonObject | None = None,
) -> ErrorFrame | None:
    """The error frame that answers a well-formed ``frame`` rejected later (e.g. by validation).

    None when the frame type is never answered (CALLERROR, SEND, a CALLRESULT before 2.1)
    or, in overlay mode, when the frame has no originator to route the reply to.
    """
    overlay = frame.dest is not None
    return _build_reply(
        _reply_kind(int(frame.message_type), version),
        frame.message_id,
        overlay,
        frame.path[0] if frame.path else None,
        wire_error_code(version, error_code),
        description,
        details,
    )


def error_for(exc: OcppNetError, frame: Frame, *, version: str) -> ErrorFrame | None:
    """The error frame for an ocppnet exception raised while handling ``frame``."""
    return error_reply(frame, exc.code, exc.description, version=version, details=exc.details)


# --------------------------------------------------------------------------- decode


_SALVAGE_STANDARD: Final = re.compile(r'\s*\[\s*(\d{1,3})\s*,\s*"([^"\\]*)"')
_SALVAGE_OVERLAY: Final = re.compile(
    r'\s*\[\s*(\d{1,3})\s*,\s*"[^"\\]*"\s*,\s*'
    r'(?:"([^"\\]*)"|\[\s*"([^"\\]*)"[^\]]*\])\s*,\s*"([^"\\]*)"'
)


def failure_from_raw(
    data: str | bytes,
    error_code: str,
    description: str,
    *,
    overlay: bool,
    version: str,
    limits: Limits = DEFAULT_LIMITS,
) -> DecodeFailure:
    """A failure for input that could not be parsed as JSON (broken, too big or too deep).

    The message type, id and originator are salvaged from the first bytes when they are
    plainly readable, so a truncated CALL still gets its CALLERROR instead of a timeout.
    """
    head = data[:_SALVAGE_PREFIX]
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    message_type: int | None = None
    message_id: str | None = None
    originator: str | None = None
    if overlay:
        m = _SALVAGE_OVERLAY.match(text)
        if m:
            message_type, originator, message_id = int(m[1]), m[2] or m[3], m[4]
    else:
        m = _SALVAGE_STANDARD.match(text)
        if m:
            message_type, message_id = int(m[1]), m[2]
    if message_id is not None and not 0 < len(message_id) <= limits.max_message_id_length:
        message_id = None
    code = wire_error_code(version, error_code)
    kind = _reply_kind(message_type, version) if message_type is not None else None
    reply = _build_reply(kind, message_id, overlay, originator or None, code, description, None)
    return DecodeFailure(code, description, message_id, reply)


def _byte_length(data: str | bytes, limit: int) -> int:
    """Exact UTF-8 size, without encoding when the character count already decides."""
    if isinstance(data, bytes):
        return len(data)
    if len(data) > limit or 4 * len(data) <= limit:
        return len(data)
    return len(data.encode("utf-8", "surrogatepass"))


def too_deep(root: object, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (root = level 1); iterative, no recursion."""
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children: Iterable[object] = (
            node.values() if isinstance(node, dict) else cast(list[object], node)
        )
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def decode(
    data: str | bytes,
    *,
    overlay: bool = False,
    version: str = "2.0.1",
    limits: Limits = DEFAULT_LIMITS,
) -> Frame | DecodeFailure:
    """Parse one OCPP-J text frame received on a link of this mode and version. Never raises."""
    if not isinstance(data, str | bytes):
        code = wire_error_code(version, "FormatViolation")
        return DecodeFailure(code, f"frame must be text, got {type(data).__name__}", None, None)
    size = _byte_length(data, limits.max_frame_bytes)
    if size > limits.max_frame_bytes:
        description = f"frame of {size} bytes exceeds the limit of {limits.max_frame_bytes} bytes"
        return failure_from_raw(
            data, "FormatViolation", description, overlay=overlay, version=version, limits=limits
        )
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        if reason.startswith("depth limit"):
            description = f"JSON nests deeper than {limits.max_depth} levels"
        else:
            description = f"not valid JSON: {reason}"
        return failure_from_raw(
            data, "FormatViolation", description, overlay=overlay, version=version, limits=limits
        )
    # Nesting depth is bounded by the number of '[' and '{' in the text (brackets inside
    # strings only over-count): when that number is within the limit, skip the walk.
    shallow = _bracket_count(data) <= limits.max_depth
    return _decode_value(value, overlay, version, limits, check_depth=not shallow)


def _bracket_count(data: str | bytes) -> int:
    if isinstance(data, bytes):
        return data.count(b"[") + data.count(b"{")
    return data.count("[") + data.count("{")


def decode_value(
    value: object,
    *,
    overlay: bool = False,
    version: str = "2.0.1",
    limits: Limits = DEFAULT_LIMITS,
) -> Frame | DecodeFailure:
    """Check an already parsed JSON value against the frame layout (used by binary frames)."""
    return _decode_value(value, overlay, version, limits, check_depth=True)


def _decode_value(
    value: object, overlay: bool, version: str, limits: Limits, *, check_depth: bool
) -> Frame | DecodeFailure:
    if not isinstance(value, list):
        code = wire_error_code(version, "FormatViolation")
        return DecodeFailure(code, "frame is not a JSON array", None, None)
    message_type: object = value[0] if value else None
    id_index = 3 if overlay else 1
    raw_id = value[id_index] if len(value) > id_index else None
    message_id = raw_id if isinstance(raw_id, str) else None
    originator = _originator(value) if overlay else None
    try:
        return _frame_from(value, overlay, version, limits, check_depth)
    except _Reject as rej:
        code = wire_error_code(version, rej.code)
        kind = _reply_kind(message_type, version)
        reply = _build_reply(kind, message_id, overlay, originator, code, rej.description, None)
        return DecodeFailure(code, rej.description, message_id, reply)


def _originator(value: list[Any]) -> str | None:
    raw = value[2] if len(value) > 2 else None
    if isinstance(raw, list) and raw:
        raw = raw[0]
    return raw if isinstance(raw, str) and raw else None


def _frame_from(
    value: list[Any], overlay: bool, version: str, limits: Limits, check_depth: bool
) -> Frame:
    if not value:
        raise _Reject("RpcFrameworkError", "frame is an empty array")
    mt = value[0]
    if type(mt) is not int:
        raise _Reject("RpcFrameworkError", "message type id must be an integer")
    if not has_message_type(version, mt):
        raise _Reject(
            "MessageTypeNotSupported", f"message type {mt} not supported in OCPP {version}"
        )
    fields = value[3:] if overlay else value[1:]
    expected = _ARITY[mt] + (2 if overlay else 0)
    if len(value) != expected:
        mode = "overlay" if overlay else "standard"
        raise _Reject(
            "RpcFrameworkError",
            f"message type {mt} needs {expected} elements in {mode} mode, got {len(value)}",
        )
    dest, path = _route_fields(value, limits) if overlay else (None, ())
    message_id = _message_id(fields[0], limits)
    if mt in (MessageType.CALL, MessageType.SEND):
        action, payload = fields[1], fields[2]
        if not isinstance(action, str) or not action:
            raise _Reject("RpcFrameworkError", "action must be a non-empty string")
        _check_object(payload, "payload", limits, check_depth)
        cls = Call if mt == MessageType.CALL else Send
        return cls(message_id, action, payload, dest, path)
    if mt == MessageType.CALLRESULT:
        _check_object(fields[1], "payload", limits, check_depth)
        return CallResult(message_id, fields[1], dest, path)
    code, description, details = fields[1], fields[2], fields[3]
    if not isinstance(code, str) or not code:
        raise _Reject("RpcFrameworkError", "errorCode must be a non-empty string")
    if not isinstance(description, str):
        raise _Reject("RpcFrameworkError", "errorDescription must be a string")
    _check_object(details, "errorDetails", limits, check_depth)
    err = CallError if mt == MessageType.CALLERROR else CallResultError
    return err(message_id, code, description, details, dest, path)


def _message_id(raw: object, limits: Limits) -> str:
    if not isinstance(raw, str):
        raise _Reject("RpcFrameworkError", "messageId must be a string")
    if not raw:
        raise _Reject("RpcFrameworkError", "messageId must not be empty")
    if len(raw) > limits.max_message_id_length:
        raise _Reject(
            "RpcFrameworkError",
            f"messageId longer than {limits.max_message_id_length} characters",
        )
    return raw


def _route_fields(value: list[Any], limits: Limits) -> tuple[str, tuple[str, ...]]:
    dest, raw_path = value[1], value[2]
    if not isinstance(dest, str) or not dest:
        raise _Reject("RpcFrameworkError", "DEST must be a non-empty string")
    if isinstance(raw_path, str):
        path: tuple[str, ...] = (raw_path,)
    elif isinstance(raw_path, list):
        if len(raw_path) > limits.max_path_length:
            raise _Reject("RpcFrameworkError", f"PATH longer than {limits.max_path_length} hops")
        path = tuple(raw_path)
    else:
        raise _Reject("RpcFrameworkError", "PATH must be a string or an array of strings")
    if not all(isinstance(hop, str) and hop for hop in path):
        raise _Reject("RpcFrameworkError", "PATH elements must be non-empty strings")
    return dest, path


def _check_object(value: object, name: str, limits: Limits, check_depth: bool) -> None:
    if not isinstance(value, dict):
        raise _Reject("FormatViolation", f"{name} must be a JSON object")
    if check_depth and too_deep(value, limits.max_depth):
        raise _Reject("FormatViolation", f"{name} nests deeper than {limits.max_depth} levels")
