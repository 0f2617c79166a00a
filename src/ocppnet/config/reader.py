"""Reading TOML sections into pydantic models, with errors that name file and dotted key.

Pure apart from :func:`read_toml` (which reads the file): :func:`parse_section` takes the
parsed document (or one table of it) and returns the model or raises ConfigError.
Relative paths in :data:`RelPath` fields are resolved against ``base`` (the TOML file's
directory), so a configuration works from whatever directory the process starts in.
"""

from __future__ import annotations

import json
import tomllib
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
)
from pydantic.functional_validators import AfterValidator
from pydantic_core import ErrorDetails, PydanticUndefined

from ocppnet.errors import ConfigError

__all__ = [
    "RelPath",
    "Section",
    "describe_section",
    "format_error",
    "in_range",
    "load_section",
    "parse_section",
    "read_toml",
]

M = TypeVar("M", bound="Section")


class Section(BaseModel):
    """Base of every configuration table: frozen, unknown keys refused, no silent coercion
    of strings into numbers (an int is accepted where a float is expected)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _resolve(value: Path, info: ValidationInfo) -> Path:
    base = info.context.get("base") if isinstance(info.context, Mapping) else None
    if value.is_absolute() or base is None:
        return value
    return Path(base) / value


#: A path in the TOML file, relative to the file's own directory unless absolute.
RelPath = Annotated[
    Path,
    AfterValidator(_resolve),
]


def in_range(low: float, high: float) -> AfterValidator:
    """Field metadata checking ``low <= value <= high`` (None passes): ``Annotated[int,
    in_range(0, 65535)]`` fails with ``must be 0..65535, got 70000``."""

    def check(value: Any) -> Any:
        if value is not None and not low <= value <= high:
            raise ValueError(f"must be {low}..{high}, got {value}")
        return value

    return AfterValidator(check)


def _location(where: str, loc: tuple[int | str, ...]) -> str:
    text = where
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("function-") or part in {"str", "int", "float", "bool"}:
            continue  # pydantic's union / validator branches are not keys
        else:
            text += f".{part}" if text else part
    return text


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing"
    if kind in {"extra_forbidden", "unexpected_keyword_argument"}:  # (a dataclass field)
        return "unknown key"
    if kind in {"model_type", "model_attributes_type", "dataclass_type", "dict_type"}:
        return f"must be a table, got {error.get('input')!r}"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind.endswith("_type") or kind in {"literal_error", "enum"}:
        return f"{message[0].lower()}{message[1:]}, got {error.get('input')!r}"
    return f"{message[0].lower()}{message[1:]}"


def format_error(exc: ValidationError, *, source: str, where: str) -> ConfigError:
    """The first problem of a pydantic ValidationError as one ConfigError line."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    key = _location(where, tuple(first["loc"]))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(f"{source}: {key or '(top level)'}: {_problem(first)}{more}")


def parse_section(
    model: type[M],
    data: Any,
    *,
    source: str = "<config>",
    where: str = "",
    base: Path | None = None,
) -> M:
    """``data`` (one TOML table) as ``model``; ConfigError ``source: where.key: problem``."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: {where or '(top level)'}: expected a table")
    try:
        # validated as JSON: strict types (no "1" -> 1), while arrays may fill tuples and
        # strings fill paths, as TOML's own types suggest
        return model.model_validate_json(_as_json(data), context={"base": base})
    except ValidationError as exc:
        raise format_error(exc, source=source, where=where) from None


def _as_json(data: Mapping[str, Any]) -> bytes:
    """The table as JSON text; integers past 64 bits (which orjson refuses, and TOML allows)
    go through the standard library, so the model names the key instead of a crash."""
    try:
        return orjson.dumps(dict(data), option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(dict(data), default=_iso).encode()


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a TOML value")


def read_toml(path: str | Path) -> dict[str, Any]:
    """The parsed TOML file; ConfigError naming the file when it is missing or malformed."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, not a TOML file") from None
    except PermissionError:
        raise ConfigError(f"{source}: cannot read (permission denied)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not valid TOML: not UTF-8 text") from None


def load_section(
    path: str | Path, key: str, model: type[M], *, required: bool = True
) -> M:
    """Read ``path`` and return its ``[key]`` table as ``model`` (paths relative to the
    file). A missing table is an error when ``required``, else the model's defaults."""
    document = read_toml(path)
    table = document.get(key)
    if table is None and required:
        raise ConfigError(f"{path}: {key}: missing [{key}] table")
    return parse_section(model, table, source=str(path), where=key, base=Path(path).parent)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (types.UnionType, typing.Union):
        names = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " | ".join(names)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        _key, value = typing.get_args(annotation)
        return f"table of {_type_name(value)}"
    if isinstance(annotation, type) and issubclass(annotation, Section):
        return "table"
    if annotation is Path:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def describe_section(model: type[Section]) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) of each field, for the docs' configuration tables
    (a test compares them with the tables in docs/, so docs and code cannot drift)."""
    rows = []
    for name, info in model.model_fields.items():
        if info.is_required():
            default = "required"
        elif info.default is PydanticUndefined or info.default_factory is not None:
            default = "(empty)" if info.default_factory is not None else ""
        else:
            default = repr(info.default) if info.default is not None else "(none)"
        rows.append((info.alias or name, _type_name(info.annotation), default,
                     info.description or ""))
    return rows
