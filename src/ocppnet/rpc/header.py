"""Header-only reading of OCPP-J text frames, for forwarding without parsing payloads (pure).

A node that only passes a frame on needs its header: message type, DEST, PATH, message id,
action. :func:`read_frame` reads just that and returns a *raw frame*: a :class:`RawCall`,
:class:`RawSend` or :class:`RawCallResult`, subclasses of the typed frames that keep the
payload as the text it arrived in. Re-targeting it (:meth:`RawFrame.retarget`, a new DEST and
PATH, or none for a station's link) and writing it (:meth:`RawFrame.wire`: the new header,
then the payload text exactly as received) never decode the payload to a dict; signatures
inside it are untouched by construction.

The payload is parsed only when someone reads ``.payload`` (a guard, an observer, the local
application); from then on the frame is written from that parsed value, since whoever got it
may have changed it (what leaves is what was seen). :func:`payload_failure` checks a payload
without handing it out (parsed in C, depth bounded, the bytes still travel) and gives the
codec's own :class:`~ocppnet.rpc.codec.DecodeFailure` when it is malformed.

Only the compact form (no whitespace between header tokens, no escapes in header strings,
what orjson and most implementations write) is read here; every other input, error frames
(CALLERROR, CALLRESULTERROR) included, goes to the full :func:`~ocppnet.rpc.codec.decode`, so
a malformed header always gets exactly the codec's answer. What a raw frame leaves unchecked
is the payload's interior (JSON syntax inside the braces, nesting depth): the receiver that
parses it (the CSMS, the station, or this node when it must look) answers that, with the
same codec. docs/routing.md "Forwarding without parsing".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar, Final, TypeAlias

import orjson

from ocppnet.rpc.codec import (
    DEFAULT_LIMITS,
    DecodeFailure,
    Limits,
    decode,
    too_deep,
)
from ocppnet.rpc.frames import Call, CallResult, Frame, JsonObject, MessageType, Send
from ocppnet.rpc.versions import has_message_type

_TYPES: Final[dict[str, MessageType]] = {
    "2": MessageType.CALL,
    "3": MessageType.CALLRESULT,
    "6": MessageType.SEND,
}
_set = object.__setattr__

_Origin: TypeAlias = tuple[str | bytes, bytes, bool, str, Limits]


class _NotCompact(Exception):
    """Internal: the input is not in the compact form read here; the full codec decides."""


class RawFrame:
    """What :class:`RawCall`, :class:`RawSend` and :class:`RawCallResult` share (a mixin).

    ``_origin`` is the frame as received: (the text, the payload's UTF-8 bytes, overlay mode,
    version, limits); ``_cache`` is the payload once parsed; ``_lent`` whether ``.payload``
    was handed out (then whoever holds it may have changed it, and it is written from the
    parsed value: what leaves is what was seen here).
    """

    __slots__ = ()
    _plain: ClassVar[type[Call] | type[Send] | type[CallResult]]
    _has_action: ClassVar[bool]
    _origin: _Origin
    _cache: JsonObject | None
    _lent: bool
    message_type: ClassVar[MessageType]
    message_id: str
    dest: str | None
    path: tuple[str, ...]

    @property
    def payload(self) -> JsonObject:
        """The payload, parsed on first use (check :func:`payload_failure` before); from now
        on the frame is written from it, not from the bytes it came with."""
        cache = self._cache
        if cache is None:
            cache = orjson.loads(self._origin[1])
            _set(self, "_cache", cache)
        if not self._lent:
            _set(self, "_lent", True)
        return cache

    @property
    def payload_text(self) -> bytes:
        """The payload as it is written: the bytes it arrived in, or, once ``.payload`` was
        handed out here, its parsed value encoded again."""
        if self._lent:
            return orjson.dumps(self._cache)
        return self._origin[1]

    def retarget(self, dest: str | None, path: tuple[str, ...]) -> Any:
        """The same frame with new routing fields; the payload bytes are shared, not copied."""
        return _MAKE[self.message_type](
            self.message_id, self.action if self._has_action else None,  # type: ignore[attr-defined]
            dest, path, self._origin, self._cache, self._lent,
        )

    def wire(self) -> bytes:
        """The frame as written: the new header, then the payload bytes as received.

        Same layout as :func:`~ocppnet.rpc.codec.encode`: overlay form iff DEST is set, a
        one-element PATH as a plain string.
        """
        dest = self.dest
        if dest is None:
            head: list[Any] = [self.message_type, self.message_id]
        else:
            path = self.path
            head = [
                self.message_type, dest, path[0] if len(path) == 1 else list(path),
                self.message_id,
            ]
        if self._has_action:
            head.append(self.action)  # type: ignore[attr-defined]
        body = orjson.dumps(self._cache) if self._lent else self._origin[1]
        return b"".join((orjson.dumps(head)[:-1], b",", body, b"]"))

    def plain(self) -> Frame:
        """An ordinary typed frame with the parsed payload (for whoever keeps or handles it)."""
        if isinstance(self, RawCall | RawSend):
            return self._plain(self.message_id, self.action, self.payload, self.dest, self.path)
        return CallResult(self.message_id, self.payload, self.dest, self.path)

    def __eq__(self, other: object) -> bool:
        """Equal to a raw or plain frame of the same kind with the same fields (comparing
        does not hand the payload out)."""
        if not isinstance(other, Call | Send | CallResult):
            return NotImplemented
        kind = other._plain if isinstance(other, RawFrame) else type(other)
        mine = (self.message_id, getattr(self, "action", None), self.dest, self.path)
        theirs = (other.message_id, getattr(other, "action", None), other.dest, other.path)
        return kind is self._plain and mine == theirs and _peek(self) == _peek(other)

    def __repr__(self) -> str:  # never parses (the payload may be malformed)
        action = f"action={self.action!r}, " if self._has_action else ""  # type: ignore[attr-defined]
        return (
            f"{type(self).__name__}(message_id={self.message_id!r}, {action}"
            f"payload_text={self._origin[1]!r}, dest={self.dest!r}, path={self.path!r})"
        )

    __hash__ = None  # type: ignore[assignment]


class RawCall(RawFrame, Call):
    """A CALL read by its header only (see the module docstring)."""

    __slots__ = ("_cache", "_lent", "_origin")
    _plain = Call
    _has_action = True


class RawSend(RawFrame, Send):
    """A SEND (OCPP 2.1) read by its header only."""

    __slots__ = ("_cache", "_lent", "_origin")
    _plain = Send
    _has_action = True


class RawCallResult(RawFrame, CallResult):
    """A CALLRESULT read by its header only."""

    __slots__ = ("_cache", "_lent", "_origin")
    _plain = CallResult
    _has_action = False


_Make: TypeAlias = Callable[
    [str, str | None, str | None, tuple[str, ...], _Origin, JsonObject | None, bool], Frame
]


def _maker(cls: type[RawFrame], base: type[Frame]) -> _Make:
    """A constructor for ``cls`` that sets its slots through their descriptors (a frozen
    dataclass would go through ``object.__setattr__`` per field: 1.5x slower)."""
    fields, own = base.__dict__, cls.__dict__
    set_id, set_dest, set_path = (fields[k].__set__ for k in ("message_id", "dest", "path"))
    set_action = fields["action"].__set__ if "action" in fields else None
    set_origin, set_cache, set_lent = (own[k].__set__ for k in ("_origin", "_cache", "_lent"))
    new = object.__new__

    def make(
        message_id: str, action: str | None, dest: str | None, path: tuple[str, ...],
        origin: _Origin, cache: JsonObject | None, lent: bool,
    ) -> Frame:
        frame = new(cls)
        set_id(frame, message_id)
        if set_action is not None:
            set_action(frame, action)
        set_dest(frame, dest)
        set_path(frame, path)
        set_origin(frame, origin)
        set_cache(frame, cache)
        set_lent(frame, lent)
        return frame  # type: ignore[return-value]

    return make


_MAKE: Final[dict[MessageType, _Make]] = {
    MessageType.CALL: _maker(RawCall, Call),
    MessageType.SEND: _maker(RawSend, Send),
    MessageType.CALLRESULT: _maker(RawCallResult, CallResult),
}


def read_frame(
    data: str | bytes,
    *,
    overlay: bool = False,
    version: str = "2.0.1",
    limits: Limits = DEFAULT_LIMITS,
) -> Frame | DecodeFailure:
    """A raw frame when ``data`` is a compact CALL, SEND or CALLRESULT whose header is valid;
    otherwise exactly what :func:`~ocppnet.rpc.codec.decode` returns. Never raises."""
    try:
        return _scan(data, overlay, version, limits)
    except (_NotCompact, LookupError, ValueError, TypeError):
        return decode(data, overlay=overlay, version=version, limits=limits)


def payload_failure(frame: Frame) -> DecodeFailure | None:
    """None when ``frame``'s payload is sound (a raw one is parsed and kept); else the codec's
    failure for the frame as it arrived (what a full decode would have answered)."""
    if not isinstance(frame, RawFrame) or frame._cache is not None:
        return None
    data, body, overlay, version, limits = frame._origin
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        value = None
    if isinstance(value, dict) and not (
        body.count(b"[") + body.count(b"{") > limits.max_depth
        and too_deep(value, limits.max_depth)
    ):
        _set(frame, "_cache", value)
        return None
    result = decode(data, overlay=overlay, version=version, limits=limits)
    if isinstance(result, DecodeFailure):
        return result
    if isinstance(result, Call | Send | CallResult):  # not reached: the codec agrees
        _set(frame, "_cache", result.payload)
    return None


def raw_call(
    message_id: str,
    action: str,
    payload_text: bytes,
    dest: str | None = None,
    path: tuple[str, ...] = (),
    *,
    version: str = "2.0.1",
) -> RawCall:
    """A raw CALL from its parts, e.g. a request kept as bytes in a queue, so that it leaves
    with exactly the payload bytes it came with (``payload_text``: a JSON object;
    :func:`payload_failure` checks it)."""
    head: list[Any] = [MessageType.CALL]
    if dest is not None:
        head += [dest, path[0] if len(path) == 1 else list(path)]
    head += [message_id, action]
    text = b"".join((orjson.dumps(head)[:-1], b",", payload_text, b"]"))
    origin = (text, payload_text, dest is not None, version, DEFAULT_LIMITS)
    frame = _MAKE[MessageType.CALL](message_id, action, dest, path, origin, None, False)
    assert isinstance(frame, RawCall)
    return frame


def _peek(frame: Call | Send | CallResult | RawFrame) -> JsonObject:
    """The payload, parsed and kept, but not handed out (a raw frame keeps its bytes)."""
    if not isinstance(frame, RawFrame):
        return frame.payload
    if frame._cache is None:
        _set(frame, "_cache", orjson.loads(frame._origin[1]))
    return frame._cache  # type: ignore[return-value]


def plain(frame: Frame) -> Frame:
    """``frame`` as an ordinary typed frame (a raw frame's payload parsed; check it first)."""
    return frame.plain() if isinstance(frame, RawFrame) else frame


# --- the scanner --------------------------------------------------------------------------


_STR: Final = r'[^"\\\x00-\x1f\ud800-\udfff]'
"""A character a JSON string may hold unescaped (and UTF-8 can carry: no lone surrogate);
header strings with escapes take the codec."""
_HEADER: Final = re.compile(
    rf'\[([236]),"({_STR}{{1,36}})",(?:"({_STR}+)",)?\{{'
)
_OVERLAY_HEADER: Final = re.compile(
    rf'\[([236]),"({_STR}+)",(?:"({_STR}+)"|\[((?:"{_STR}+"(?:,"{_STR}+")*)?)\]),'
    rf'"({_STR}{{1,36}})",(?:"({_STR}+)",)?\{{'
)


def _scan(data: str | bytes, overlay: bool, version: str, limits: Limits) -> Frame:
    text = data.decode() if isinstance(data, bytes) else data
    n = len(text)
    if n > limits.max_frame_bytes or (
        4 * n > limits.max_frame_bytes and len(text.encode()) > limits.max_frame_bytes
    ):
        raise _NotCompact
    if text[-2:] != "}]":
        raise _NotCompact
    dest: str | None
    path: tuple[str, ...]
    if overlay:
        m = _OVERLAY_HEADER.match(text)
        if m is None:
            raise _NotCompact
        kind, dest, hop, hops, message_id, action = m.groups()
        if hop is not None:
            path = (hop,)
        elif hops:
            path = tuple(hops[1:-1].split('","'))
            if len(path) > limits.max_path_length:
                raise _NotCompact
        else:
            path = ()
    else:
        m = _HEADER.match(text)
        if m is None:
            raise _NotCompact
        kind, message_id, action = m.groups()
        dest, path = None, ()
    message_type = _TYPES[kind]
    if (action is None) != (message_type == MessageType.CALLRESULT) or (
        len(message_id) > limits.max_message_id_length
        or not has_message_type(version, message_type)
    ):
        raise _NotCompact
    # the payload's bytes; a lone surrogate in a str cannot be encoded: ValueError, the codec
    body = text[m.end() - 1 : -1].encode()
    return _MAKE[message_type](
        message_id, action, dest, path, (data, body, overlay, version, limits), None, False
    )
