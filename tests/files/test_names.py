"""File names a peer may use: relative, inside the area, no traversal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocppnet.errors import PropertyConstraintViolation
from ocppnet.files import name_problem, resolve_in


@pytest.mark.parametrize("name", ["fw.bin", "logs/2026/01/today.log", "a b/c-d_e.tar.gz"])
def test_relative_names_are_accepted(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../etc/passwd", "'..'"),
        ("logs/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/x", "absolute"),
        ("logs\\x", "backslash"),
        ("a\x00b", "NUL"),
        ("a//b", "empty"),
        ("./a", "'.'"),
        (".partial/abc", "hidden"),
        ("", "empty"),
    ],
)
def test_bad_names_are_refused_with_the_rule(name: str, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None and why in problem


def test_root_is_only_allowed_for_listings(tmp_path: Path) -> None:
    assert resolve_in(tmp_path, "", allow_root=True) == tmp_path.resolve()
    with pytest.raises(PropertyConstraintViolation):
        resolve_in(tmp_path, "")


def test_symbolic_link_out_of_the_area_is_refused(tmp_path: Path) -> None:
    area, outside = tmp_path / "area", tmp_path / "outside"
    area.mkdir()
    outside.mkdir()
    os.symlink(outside, area / "escape")
    with pytest.raises(PropertyConstraintViolation, match="leaves the file area"):
        resolve_in(area, "escape/secret")
    assert resolve_in(area, "sub/file") == area.resolve() / "sub" / "file"
