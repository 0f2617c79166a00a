"""Every input of the committed fuzz corpus (tests/fuzz/corpus/<target>/), through its target:
what a fuzzer once found stays found. Fast and deterministic (no fuzzer here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.targets import TARGETS

CORPUS = Path(__file__).with_name("corpus")
CASES = sorted((target, path) for target in TARGETS
               for path in (CORPUS / target).glob("*") if path.is_file())


def test_every_target_has_a_corpus() -> None:
    assert {target for target, _ in CASES} == set(TARGETS)


@pytest.mark.parametrize(("target", "path"), CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_corpus_input(target: str, path: Path) -> None:
    TARGETS[target](path.read_bytes())
