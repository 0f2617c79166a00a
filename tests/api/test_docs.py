"""docs/operations.md lists the [api] keys exactly as the models declare them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.api import ApiSection, ApiToken
from ocppnet.config import Section, describe_section

DOC = Path(__file__).parents[2] / "docs" / "operations.md"


def table_after(heading: str) -> list[tuple[str, str, str, str]]:
    lines = DOC.read_text().splitlines()
    start = lines.index(heading)
    rows = []
    for line in lines[start + 1:]:
        if rows and not line.startswith("|"):
            break
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows.append((cells[0].strip("`"), cells[1], cells[2].strip("`"), cells[3]))
    return rows


@pytest.mark.parametrize(("heading", "model"), [("`[api]`:", ApiSection),
                                                ("`[[api.tokens]]`:", ApiToken)])
def test_docs_table_matches_model(heading: str, model: type[Section]) -> None:
    assert table_after(heading) == describe_section(model)
