"""Every public name (``__all__`` of each library module) has a numpydoc docstring: a
Parameters section where it takes arguments, a Returns (or Yields) section where a function
returns something, and an Examples section."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap

import pytest

from skdenoise._layers import LAYERS

MODULES = [m for part, mods in LAYERS.items() if part != "cli" for m in mods]


def _public():
    for name in MODULES:
        module = importlib.import_module(f"skdenoise.{name}")
        assert hasattr(module, "__all__"), f"skdenoise.{name} has no __all__"
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                if obj.__module__ == module.__name__:
                    yield f"skdenoise.{name}.{attr}", obj


def _takes_arguments(obj) -> bool:
    if inspect.isclass(obj) and (
        issubclass(obj, BaseException) or getattr(obj, "_is_protocol", False)
    ):
        return False  # an exception takes its message; a protocol is never constructed
    target = obj.__init__ if inspect.isclass(obj) else obj
    if inspect.isclass(obj) and target is object.__init__:
        return False
    try:
        params = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "cls") for p in params)


def _returns_something(func) -> bool:
    """A ``return VALUE`` (or ``yield``) in the function's own body."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError):
        return False
    body = tree.body[0]

    def walk(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue  # nested functions return for themselves
            if isinstance(child, ast.Return) and child.value is not None:
                if not (isinstance(child.value, ast.Constant) and child.value.value is None):
                    return True
            if isinstance(child, (ast.Yield, ast.YieldFrom)):
                return True
            if walk(child):
                return True
        return False

    return walk(body)


PUBLIC = sorted(_public())


def test_there_are_public_names():
    assert len(PUBLIC) > 50


@pytest.mark.parametrize("name,obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_numpydoc_sections(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc, f"{name}: no docstring"
    missing = []
    is_dataclass_like = inspect.isclass(obj) and (
        "Attributes\n----------" in doc or "Parameters\n----------" in doc
    )
    if _takes_arguments(obj) and "Parameters\n----------" not in doc and not is_dataclass_like:
        missing.append("Parameters")
    if (
        inspect.isfunction(obj)
        and _returns_something(obj)
        and "Returns\n-------" not in doc
        and "Yields\n------" not in doc
    ):
        missing.append("Returns")
    if "Examples\n--------" not in doc:
        missing.append("Examples")
    assert not missing, f"{name}: no {', '.join(missing)} section"
