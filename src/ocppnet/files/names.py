"""Which file names a peer may use, and where they land (pure checks, no I/O but resolve()).

A name is relative, '/'-separated, and stays inside the file area: no absolute path, no drive
letter, no backslash or NUL, no '..', '.' or empty segment, no hidden segment (the area keeps
its partial files under a hidden folder). A bad name is answered with CALLERROR
PropertyConstraintViolation naming the rule, never resolved.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Final

from ocppnet.errors import PropertyConstraintViolation

_DRIVE: Final = re.compile(r"^[A-Za-z]:")


def name_problem(name: str, *, allow_root: bool = False) -> str | None:
    """Why ``name`` may not be used (None: it may). ``allow_root`` accepts "" (ListDirectory)."""
    if name == "":
        return None if allow_root else "fileName is empty"
    if "\\" in name or "\x00" in name:
        return f"{name!r}: backslash and NUL are not allowed ('/' separates folders)"
    if name.startswith("/") or _DRIVE.match(name):
        return f"{name!r}: absolute names are not allowed"
    for segment in name.split("/"):
        if segment == "..":
            return f"{name!r}: '..' is not allowed"
        if segment in ("", "."):
            return f"{name!r}: empty or '.' segments are not allowed"
        if segment.startswith("."):
            return f"{name!r}: hidden names (starting with '.') are not allowed"
    return None


def resolve_in(root: Path, name: str, *, allow_root: bool = False) -> Path:
    """The path of ``name`` inside ``root``; PropertyConstraintViolation if it is refused or
    would leave ``root`` (e.g. through a symbolic link)."""
    problem = name_problem(name, allow_root=allow_root)
    if problem is not None:
        raise PropertyConstraintViolation(problem)
    base = root.resolve()
    target = (base / PurePosixPath(name)).resolve()
    if target != base and not target.is_relative_to(base):
        raise PropertyConstraintViolation(f"{name!r}: leaves the file area")
    return target
