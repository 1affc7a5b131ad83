"""The import rules of docs/architecture.rst, read from the source: no cycles; no part
imports a higher one; the functional core imports neither scikit-learn nor an estimator;
nothing but ``python -m skdenoise`` imports the command line."""

from __future__ import annotations

import ast
from pathlib import Path

from skdenoise._layers import LAYERS

PACKAGE = Path(__file__).resolve().parents[1] / "skdenoise"


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(skdenoise modules, third-party top-level packages) that ``path`` imports anywhere
    (lazy imports inside functions included)."""
    ours, theirs = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level >= 1:
                if node.module:
                    ours.add(node.module.split(".")[0])
                else:
                    ours.update(alias.name for alias in node.names)
            elif node.module and node.module.split(".")[0] == "skdenoise":
                parts = node.module.split(".")
                ours.add(parts[1] if len(parts) > 1 else "__init__")
            elif node.module:
                theirs.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top == "skdenoise":
                    parts = alias.name.split(".")
                    ours.add(parts[1] if len(parts) > 1 else "__init__")
                else:
                    theirs.add(top)
    return ours, theirs


def _graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph = {}
    for path in PACKAGE.glob("*.py"):
        ours, _ = _imports(path)
        graph[path.stem] = {m for m in ours if m in modules and m != path.stem}
    return graph


def _layer_of() -> dict[str, int]:
    return {m: i for i, mods in enumerate(LAYERS.values()) for m in mods}


def test_every_module_belongs_to_a_part():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "_layers"}
    assert modules == set(_layer_of()), (
        f"not in LAYERS: {sorted(modules - set(_layer_of()))}; "
        f"gone: {sorted(set(_layer_of()) - modules)}"
    )


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, f"import cycles: {cycles}"


def test_no_part_imports_a_higher_one():
    layer = _layer_of()
    names = list(LAYERS)
    wrong = [
        f"{m} ({names[layer[m]]}) imports {d} ({names[layer[d]]})"
        for m, deps in _graph().items()
        if m in layer
        for d in deps
        if d in layer and layer[d] > layer[m]
    ]
    assert not wrong, wrong


def test_the_core_knows_no_estimator_and_no_command_line():
    for module in LAYERS["core"]:
        _, theirs = _imports(PACKAGE / f"{module}.py")
        assert "sklearn" not in theirs, f"{module} (core) imports scikit-learn"
        assert "argparse" not in theirs, f"{module} (core) parses command lines"


def test_only_main_imports_the_cli():
    importers = sorted(m for m, deps in _graph().items() if "cli" in deps)
    assert importers == ["__main__"], importers
