"""Where the JSON schema of each (version, action, kind) lives, and loading it as data.

Official schemas come from the installed ``ocpp`` package (used as data, never imported
as code): 1.6 names them ``Action.json``/``ActionResponse.json``, 2.0.1 and 2.1
``ActionRequest.json``/``ActionResponse.json``. Our extension schemas live in
``ocppnet/validation/schemas`` and apply to every version; an official schema of the same
name wins.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Final, Literal, TypeAlias

import orjson

from ocppnet.rpc.versions import check_version

Kind: TypeAlias = Literal["request", "response"]
_Files: TypeAlias = dict[tuple[str, Kind], Traversable]

_OFFICIAL_DIRS: Final[dict[str, str]] = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}


def _index(folder: Traversable) -> _Files:
    """Map (action, kind) to schema files, by file name (a name without suffix = request)."""
    files: _Files = {}
    for entry in folder.iterdir():
        stem, dot, ext = entry.name.rpartition(".")
        if not dot or ext != "json":
            continue
        if stem.endswith("Response"):
            files[(stem.removesuffix("Response"), "response")] = entry
        else:
            files[(stem.removesuffix("Request"), "request")] = entry
    return files


@functools.cache
def _official(version: str) -> _Files:
    return _index(resources.files("ocpp") / _OFFICIAL_DIRS[check_version(version)] / "schemas")


@functools.cache
def _extensions() -> _Files:
    return _index(resources.files("ocppnet.validation") / "schemas")


def schema_file(version: str, action: str, kind: Kind) -> Traversable | None:
    """The schema file for this message, or None if the version does not know the action."""
    key = (action, kind)
    return _official(version).get(key) or _extensions().get(key)


@functools.cache
def known_actions(version: str) -> frozenset[str]:
    """Every action with a request schema in this version (official and extension)."""
    return frozenset(
        action
        for files in (_official(version), _extensions())
        for action, kind in files
        if kind == "request"
    )


def extension_actions() -> frozenset[str]:
    """The actions defined by ocppnet's own schemas (valid in every version)."""
    return frozenset(action for action, kind in _extensions() if kind == "request")


def load_schema(version: str, action: str, kind: Kind) -> dict[str, Any] | None:
    """The parsed schema, or None for an unknown action."""
    source = schema_file(version, action, kind)
    if source is None:
        return None
    schema: dict[str, Any] = orjson.loads(source.read_bytes())
    return schema
