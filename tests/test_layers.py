"""The layering the architecture promises (docs/architecture.md), checked on the import graph.

Every ``import`` in src/ocppnet (also inside functions and TYPE_CHECKING blocks) is read with
``ast``; the pure folders must not reach the asyncio layer, and the asyncio layer must not
import the applications built on it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "ocppnet"
PURE = ("security", "rpc", "routing", "validation")
ASYNC_LAYER = ("asyncio", "ocppnet.transport", "ocppnet.node", "ocppnet.web")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def reaches(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def offending(folder: str, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(SRC)}: {module}"
        for path in (SRC / folder).rglob("*.py")
        for module in imports_of(path)
        if reaches(module, prefixes)
    )


@pytest.mark.parametrize("folder", PURE)
def test_pure_folders_import_nothing_of_the_asyncio_layer(folder: str) -> None:
    assert offending(folder, ASYNC_LAYER) == []


def test_the_node_does_not_import_the_dashboard() -> None:
    assert offending("node", ("ocppnet.web",)) == []


def test_transport_imports_no_layer_above_it() -> None:
    above = ("ocppnet.node", "ocppnet.web", "ocppnet.csms", "ocppnet.station",
             "ocppnet.participant", "ocppnet.loadmgmt", "ocppnet.cli")
    assert offending("transport", above) == []


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_circle_between_packages() -> None:
    """No chain of imports leads from one package through another back to itself."""
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph = {
        name: {m for m in imports_of(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    cycles: list[list[str]] = []

    def visit(name: str, stack: list[str], done: set[str]) -> None:
        if name in stack:
            cycles.append([*stack[stack.index(name):], name])
            return
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*stack, name], done)
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        visit(name, [], done)
    # a cycle inside one package (a TYPE_CHECKING back reference, an __init__ re-exporting
    # its submodules) is that package's business; one through two packages is a circle
    # between concepts (node <-> loadmgmt, node <-> web were)
    real = [c for c in cycles if len({m.split(".")[1] for m in c}) > 1]
    assert real == [], "\n".join(" -> ".join(c) for c in real)
