"""Reading security configuration (policies, roles) from TOML/JSON text into checked values.

Pure: callers read the file and pass its text and name. The tables themselves are
:class:`ocppnet.config.Section` models next to what they build (``policy.PolicySection``,
``roles.RoleSection``); every error is a ConfigError naming the source and the key path, e.g.
``site.toml: policies[0].rules[2].require: input should be 'none', ...``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import StringConstraints

from ocppnet.errors import ConfigError

__all__ = ["NonEmpty", "parse_text", "tables_of"]

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
"""A string that must not be empty (ids, key names, actions)."""


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


def tables_of(data: Mapping[str, Any], key: str, *, source: str) -> list[Any]:
    """The array of tables ``data[key]`` (empty when absent); each item is checked by the
    model that reads it."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{source}: {key}: expected a list of tables")
    return value
