"""Reading security configuration (policies, roles) from TOML/JSON text into checked values.

Pure: callers read the file and pass its text and name; every error is a ConfigError whose
message names the source and the key path, e.g. ``site.toml: policies[0].rules[2].require``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from ocppnet.errors import ConfigError

__all__ = ["Fields", "parse_text"]


def parse_text(text: str, *, source: str, fmt: str | None = None) -> dict[str, Any]:
    """A TOML or JSON document as a dict; ``fmt`` defaults to the extension of ``source``."""
    fmt = fmt or ("json" if source.endswith(".json") else "toml")
    try:
        data = json.loads(text) if fmt == "json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{source}: not valid {fmt.upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the document must be an object/table")
    return data


class Fields:
    """Typed access to one table; errors name ``where.key``. Unknown keys are refused."""

    __slots__ = ("_data", "_used", "where")

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: expected a table/object, got {type(data).__name__}")
        self._data = data
        self.where = where
        self._used: set[str] = set()

    def _take(self, key: str) -> Any:
        self._used.add(key)
        return self._data.get(key)

    def text(self, key: str, default: str | None = None, *, choices: Sequence[str] = ()) -> str:
        value = self._take(key)
        if value is None:
            if default is None:
                raise ConfigError(f"{self.where}.{key}: missing")
            return default
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{self.where}.{key}: expected a non-empty string")
        if choices and value not in choices:
            raise ConfigError(f"{self.where}.{key}: {value!r} is not one of {', '.join(choices)}")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self._take(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{self.where}.{key}: expected a list of non-empty strings")
        return tuple(value)

    def flag(self, key: str) -> bool | None:
        value = self._take(key)
        if value is not None and not isinstance(value, bool):
            raise ConfigError(f"{self.where}.{key}: expected true or false")
        return value

    def tables(self, key: str) -> list[Fields]:
        value = self._take(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ConfigError(f"{self.where}.{key}: expected a list of tables")
        return [Fields(item, f"{self.where}.{key}[{i}]") for i, item in enumerate(value)]

    def raw(self, key: str) -> Any:
        return self._take(key)

    def has(self, key: str) -> bool:
        return key in self._data

    def done(self) -> None:
        """Refuse keys nobody asked for (typos must not silently weaken a policy)."""
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            raise ConfigError(f"{self.where}: unknown key(s) {', '.join(unknown)}")
