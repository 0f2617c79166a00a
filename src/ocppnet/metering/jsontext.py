"""JSON as OCMF needs it: numbers kept as written (Decimal), duplicate keys refused.

A signed payload is verified over its bytes, but what a reader *shows* comes from parsing
them; two ``RV`` keys could show one value while a second parser bills the other, so a
duplicate key is an error. Numbers are parsed to :class:`~decimal.Decimal` so ``2935.600``
keeps its three decimals. :func:`dumps` writes compact JSON (no spaces) for the payloads we
build ourselves; it never touches a payload someone else signed.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ocppnet.metering.errors import OcmfError

__all__ = ["dumps", "loads"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise OcmfError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise OcmfError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant,
                            object_pairs_hook=_no_duplicates)


def loads(text: str, where: str) -> Any:
    """Parse JSON text; OcmfError naming ``where`` when it is not strict JSON."""
    try:
        return _DECODER.decode(text)
    except OcmfError as exc:
        raise OcmfError(f"{where}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise OcmfError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise OcmfError(f"{value} is not a JSON number")
    return str(value)


def dumps(value: Any) -> str:
    """Compact JSON; Decimals as their exact text, floats refused (they lose decimals)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise OcmfError(f"cannot write {type(value).__name__} into OCMF (use Decimal for numbers)")
