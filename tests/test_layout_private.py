"""Private attributes of other libraries are touched in one place: the `export/_private_*.py`
modules, each with its test. Read from the source, so a new reach into a library's internals
elsewhere fails here and is moved there (named, and tested against the pinned releases).

What counts, outside those modules: `x._name` (one leading underscore) on anything but `self`
or `cls`, the same name given as text to `getattr`/`setattr`/`hasattr`/`delattr`, and
`from library import _name`. Python cannot tell from the source whose object `x` is, so a name
the package's own code defines (an attribute it sets on `self`, a method, a module-level
name) is taken as its own: a library's private name that one of the package's classes also
uses (`_lock`, say) is not caught. Module paths such as `opentelemetry.sdk._logs` are the
SDK's published homes of its logs API, not attributes, and are not counted.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "codex_otel"
PRIVATE_MODULES = re.compile(r"export/_private_\w+\.py$")
_PRIVATE_NAME = re.compile(r"_[A-Za-z0-9]\w*$")  # one underscore: not a dunder
# `collections.namedtuple`'s documented methods, public despite the underscore.
_NAMEDTUPLE_API = frozenset({"_asdict", "_replace", "_fields", "_make", "_field_defaults"})
_ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "setattr", "hasattr", "delattr"})
_OWNERS = frozenset({"self", "cls"})


def _is_private(name: str) -> bool:
    return bool(_PRIVATE_NAME.match(name))


def _sources(private: bool) -> dict[str, ast.Module]:
    """Every module of the package outside (or, with `private`, inside) the private modules."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if bool(PRIVATE_MODULES.search(relative)) == private:
            found[relative] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def own_names(trees: list[ast.Module]) -> set[str]:
    """The underscored names the package's own code defines: attributes set on `self`/`cls`
    or named in `__slots__`, functions, methods and classes, and assigned names."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id in _OWNERS:
                    names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.alias) and node.asname:
                names.add(node.asname)
            elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "__slots__" for target in node.targets
            ):
                names.update(
                    item.value
                    for item in ast.walk(node.value)
                    if isinstance(item, ast.Constant) and isinstance(item.value, str)
                )
    return {name for name in names if _is_private(name)}


def _is_own_module(node: ast.ImportFrom) -> bool:
    return node.level > 0 or (node.module or "").split(".")[0] == "codex_otel"


def foreign_private_accesses(tree: ast.Module, own: set[str]) -> list[str]:
    """Each reach into a private attribute of something not the package's own, in `tree`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            on_owner = isinstance(node.value, ast.Name) and node.value.id in _OWNERS
            if not on_owner and node.attr not in own and node.attr not in _NAMEDTUPLE_API:
                found.append(f"line {node.lineno}: .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _ATTRIBUTE_FUNCTIONS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
            and node.args[1].value not in own
        ):
            found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
        elif isinstance(node, ast.ImportFrom) and not _is_own_module(node):
            found += [
                f"line {node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if _is_private(alias.name)
            ]
    return found


def test_private_attributes_of_other_libraries_are_touched_only_in_the_private_modules() -> None:
    outside = _sources(private=False)
    own = own_names(list(outside.values()))
    found = {
        module: accesses
        for module, tree in outside.items()
        if (accesses := foreign_private_accesses(tree, own))
    }
    assert found == {}


def test_every_private_module_says_it_is_the_one_place_and_has_its_test() -> None:
    tests = Path(__file__).resolve().parent
    modules = _sources(private=True)
    assert len(modules) >= 2
    for module, tree in modules.items():
        docstring = ast.get_docstring(tree) or ""
        assert "the only place" in " ".join(docstring.split()), module
        assert (tests / f"test{Path(module).stem}.py").is_file(), module


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(x):\n    return x._transport\n", ["line 2: ._transport"]),
        ("def f(x):\n    x._pool = 1\n", ["line 2: ._pool"]),
        (
            "def f(x):\n    return getattr(x, '_session', None)\n",
            ["line 2: getattr(..., '_session')"],
        ),
        (
            "from opentelemetry.context import _KEY\n",
            ["line 1: from opentelemetry.context import _KEY"],
        ),
        # The package's own: its objects' attributes, its modules, namedtuple's API.
        ("class A:\n    def f(self, other):\n        self._mine = other._mine\n", []),
        ("class A:\n    __slots__ = ('_mine',)\n\ndef f(a):\n    return a._mine\n", []),
        ("from ._module import _helper\n", []),
        ("def f(row):\n    return row._replace(a=1)\n", []),
        ("def f(x):\n    return x.__dict__\n", []),
    ],
)
def test_the_reader_tells_a_foreign_private_attribute_from_the_packages_own(
    source: str, expected: list[str]
) -> None:
    tree = ast.parse(source)
    assert foreign_private_accesses(tree, own_names([tree])) == expected
