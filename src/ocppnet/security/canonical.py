"""RFC 8785 JSON Canonicalization Scheme (JCS): the exact bytes that signatures cover.

Contract: ``canonicalize(value) == rfc8785.dumps(value)`` for every JSON value (checked by a
hypothesis property test). Integers outside the IEEE-754 safe range ±(2**53-1) are *rejected*
(as the ``rfc8785`` package does) instead of being silently rounded; non-finite floats, lone
surrogates and non-string keys are rejected too, always with a CanonicalizationError.

Speed: orjson already escapes strings exactly as JCS does, so a value without floats, with
ASCII-only keys and safe integers is serialized by orjson with sorted keys in one C call
(ASCII sort order equals UTF-16 order). Otherwise the value is rebuilt with keys in UTF-16
order and floats replaced by pre-formatted ``orjson.Fragment`` s, then serialized by orjson.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

__all__ = ["CanonicalizationError", "canonicalize", "format_number"]

_SAFE = 2**53 - 1
_SORTED = orjson.OPT_SORT_KEYS


class CanonicalizationError(ValueError):
    """The value has no RFC 8785 canonical form (NaN, unsafe integer, surrogate, bad type...)."""


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict/list/str/int/float/bool/None)."""
    try:
        if _plain(value):
            return orjson.dumps(value, option=_SORTED)
        return orjson.dumps(_prepare(value))
    except (TypeError, orjson.JSONEncodeError, RecursionError) as exc:
        raise CanonicalizationError(str(exc)) from None


def _plain(value: Any) -> bool:
    """True when orjson's sorted output already is canonical for ``value``."""
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is int:
        return bool(-_SAFE <= value <= _SAFE)
    if t is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii() or not _plain(item):
                return False
        return True
    if t is list:
        return all(_plain(item) for item in value)
    return False


def _prepare(value: Any) -> Any:
    """A copy of ``value`` that orjson serializes canonically without OPT_SORT_KEYS."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        if not -_SAFE <= value <= _SAFE:
            raise CanonicalizationError(f"integer {value} exceeds the JSON safe integer range")
        return int(value)
    if isinstance(value, float):
        return orjson.Fragment(format_number(float(value)).encode())
    if isinstance(value, dict):
        try:
            keys = sorted(value, key=_utf16)
        except (AttributeError, TypeError):
            raise CanonicalizationError("object keys must be strings") from None
        return {str.__str__(k): _prepare(value[k]) for k in keys}
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
