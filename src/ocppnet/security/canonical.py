"""RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes that signatures cover.

Contract: ``canonicalize(value) == rfc8785.dumps(value)`` for every JSON value (checked by a
hypothesis property test). Integers outside the IEEE-754 safe range ±(2**53-1) are *rejected*
(as the ``rfc8785`` package does) instead of being silently rounded; non-finite floats, lone
surrogates and non-string keys are rejected too, always with a CanonicalizationError.

Speed: orjson already escapes strings exactly as JCS does, and its sorted-keys order (code
points) equals UTF-16 order unless a key holds a character >= U+E000. So one Python walk
checks keys and integers and swaps each float for a pre-formatted ``orjson.Fragment``
(copying only the containers on the way), then orjson serializes with sorted keys in C.
Exotic keys or subclasses take a slower path that sorts keys by UTF-16 itself.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

__all__ = ["CanonicalizationError", "canonicalize", "format_number"]

_SAFE = 2**53 - 1
_SORTED = orjson.OPT_SORT_KEYS
_Fragment = orjson.Fragment


class CanonicalizationError(ValueError):
    """The value has no RFC 8785 canonical form (NaN, unsafe integer, surrogate, bad type...)."""


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict/list/str/int/float/bool/None)."""
    try:
        try:
            fixed = _fix(value)
        except _Slow:
            return orjson.dumps(_prepare(value))
        return orjson.dumps(fixed, option=_SORTED)
    except (TypeError, orjson.JSONEncodeError, RecursionError) as exc:
        raise CanonicalizationError(str(exc)) from None


class _Slow(Exception):
    """orjson's key order or type handling cannot be trusted for this value."""


def _float(f: float) -> orjson.Fragment | int:
    if f.is_integer() and -_SAFE <= f <= _SAFE:
        return int(f)  # ECMAScript prints integral doubles below 1e21 as integers
    r = repr(f)
    if "e" in r or "n" in r or f == 0:  # exponent form, inf/nan, -0.0
        return _Fragment(format_number(f))
    # Python and ECMAScript agree on fixed notation for 1e-4 <= |f| < 1e16.
    return _Fragment(r[:-2] if r[-2:] == ".0" else r)


def _check_int(i: int) -> None:
    if not -_SAFE <= i <= _SAFE:
        raise CanonicalizationError(f"integer {i} exceeds the JSON safe integer range")


def _fix(value: Any) -> Any:
    """``value`` itself when orjson with sorted keys is already canonical for it; otherwise a
    copy with floats replaced by ECMAScript-formatted fragments, containers copied only along
    the paths to them. Raises _Slow for keys whose code point order differs from UTF-16 order
    (a character at or above U+E000) and for subclasses or foreign types."""
    t = type(value)
    if t is dict:
        out = None
        for key, item in value.items():
            if type(key) is not str or (not key.isascii() and max(key) >= "\ue000"):
                raise _Slow
            ti = type(item)
            if ti is str or ti is bool or item is None:
                continue
            if ti is int:
                if not -_SAFE <= item <= _SAFE:
                    _check_int(item)
                continue
            new = _float(item) if ti is float else _fix(item)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if t is list:
        lout = None
        for i, item in enumerate(value):
            ti = type(item)
            if ti is str or ti is bool or item is None:
                continue
            if ti is int:
                if not -_SAFE <= item <= _SAFE:
                    _check_int(item)
                continue
            new = _float(item) if ti is float else _fix(item)
            if new is not item:
                if lout is None:
                    lout = list(value)
                lout[i] = new
        return value if lout is None else lout
    if t is str or t is bool or value is None:
        return value
    if t is int:
        _check_int(value)
        return value
    if t is float:
        return _float(value)
    raise _Slow


def _prepare(value: Any) -> Any:
    """A copy of ``value``, keys in UTF-16 order, that orjson serializes canonically as is."""
    t = type(value)
    if t is str or t is bool or value is None:
        return value
    if t is float:
        return _float(value)
    if t is int:
        _check_int(value)
        return value
    if t is dict:
        try:
            keys = sorted(value)
            joined = "".join(keys)
        except TypeError:
            return _prepare_subclass(value)
        if not joined.isascii() and max(joined) >= "\ue000":
            keys.sort(key=_utf16)
        return {k: _prepare(value[k]) for k in keys}
    if t is list:
        return [_prepare(item) for item in value]
    return _prepare_subclass(value)


def _prepare_subclass(value: Any) -> Any:
    """Subclasses (str/int enums, tuples, Mapping-like dicts) as the rfc8785 package sees them."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return _prepare(int(value))
    if isinstance(value, float):
        return _prepare(float(value))
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CanonicalizationError("object keys must be strings")
        return _prepare({str.__str__(k): v for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [_prepare(item) for item in value]
    raise CanonicalizationError(f"unsupported type: {type(value).__name__}")


def _utf16(key: str) -> bytes:
    try:
        return key.encode("utf-16-be")
    except UnicodeEncodeError:
        raise CanonicalizationError("object key contains a lone surrogate") from None


def format_number(f: float) -> str:
    """ECMAScript ``Number.prototype.toString`` of a finite double (RFC 8785 section 3.2.2.3)."""
    if math.isnan(f) or math.isinf(f):
        raise CanonicalizationError(f"{f} is not representable in JSON")
    if f == 0:
        return "0"
    r = repr(f)
    if "e" not in r:
        # Python and ECMAScript agree on fixed notation for 1e-4 <= |f| < 1e16.
        return r[:-2] if r.endswith(".0") else r
    sign = "-" if f < 0 else ""
    # repr's exponent form is always "d[.ddd]e±x" with one non-zero leading digit.
    mantissa, _, exp_text = repr(abs(f)).partition("e")
    stripped = mantissa.replace(".", "").rstrip("0")
    n = int(exp_text) + 1  # value = 0.<stripped> * 10**n  (ECMA-262 7.1.12.1)
    k = len(stripped)
    if k <= n <= 21:
        text = stripped + "0" * (n - k)
    elif 0 < n <= 21:
        text = stripped[:n] + "." + stripped[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + stripped
    else:
        e = n - 1
        exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
        text = (stripped if k == 1 else stripped[0] + "." + stripped[1:]) + exp
    return sign + text
