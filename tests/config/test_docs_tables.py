"""The configuration tables in docs/ list exactly the keys of the models they document.

A table is marked with ``<!-- config-table: dotted.path.Model -->`` on the line before it;
the backticked names in its first column (``[[node.upstreams]]`` counts as ``upstreams``) must
be the model's field names, so adding a field without documenting it (or documenting a key
that does not exist) fails here.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from ocppnet.config import Section, describe_section

DOCS = Path(__file__).parents[2] / "docs"
MARKER = re.compile(r"<!-- config-table: ([\w.]+) -->\n((?:\|.*\n)+)")


def tables() -> list[tuple[str, str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for match in MARKER.finditer(page.read_text(encoding="utf-8")):
            found.append((page.name, match.group(1), match.group(2)))
    return found


def documented_keys(table: str) -> set[str]:
    keys: set[str] = set()
    for row in table.splitlines()[2:]:  # header and separator
        first = row.split("|")[1]
        for name in re.findall(r"`([^`]+)`", first):
            keys.add(name.strip("[]").rsplit(".", 1)[-1])
    return keys


def model(dotted: str) -> type[Section]:
    module, _, name = dotted.rpartition(".")
    found = getattr(importlib.import_module(module), name)
    assert isinstance(found, type) and issubclass(found, Section), dotted
    return found


def test_the_documented_models_have_tables() -> None:
    marked = {dotted for _page, dotted, _table in tables()}
    assert {
        "ocppnet.node.config.NodeConfig", "ocppnet.node.config.UpstreamConfig",
        "ocppnet.node.config.StaticRoute", "ocppnet.csms.config.CsmsConfig",
        "ocppnet.loadmgmt.config.LoadConfig", "ocppnet.plausibility.config.PlausibilityConfig",
    } <= marked


@pytest.mark.parametrize(("page", "dotted", "table"), tables(), ids=lambda v: str(v)[:40])
def test_a_docs_table_lists_the_model_fields(page: str, dotted: str, table: str) -> None:
    fields = {key for key, _type, _default, _description in describe_section(model(dotted))}
    keys = documented_keys(table)
    assert keys - fields == set(), f"{page}: documented but not in {dotted}"
    assert fields - keys == set(), f"{page}: fields of {dotted} missing from the table"
