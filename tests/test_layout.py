"""The package's imports run one way: from the bottom (`_errors`, `catalog`, the config) up to
`cli`, with no cycle. Read from the source, so the picture in the code stays true.

Every import counts, wherever it stands: at the top, inside a function (a lazy import is still
a dependency), or under `TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "codex_otel"

# Each unit of the package and its layer: a unit may import units of lower layers only, and
# modules of its own unit. Subpackages are one unit each; so is every top-level module.
LAYERS: dict[str, int] = {
    "_errors": 0,
    "_lazy": 0,
    "_version": 0,
    "catalog": 0,
    "_config": 1,
    # Reading the table: the checks, the exporter and trace parts, then the whole table.
    "_config_parser": 2,
    "_config_exporters": 3,
    "_config_traces": 3,
    "_config_load": 4,
    "_values": 5,
    "_content": 5,
    "export": 5,
    # One private SDK provider per signal; they never import each other.
    "_logs": 6,
    "_metrics": 6,
    "_traces": 6,
    # An event's attributes from its declaration in the catalog.
    "_event_fields": 6,
    "_provider": 7,
    "_bridge": 7,
    # Where an event is recorded (its turn, its span): read by the manager's record path.
    "_scopes": 8,
    # The manager's parts: the newer events' methods, a turn's clock, its core (state, turns,
    # spans, the record path), the requests' and the tools' event families, the whole.
    "_manager_events": 8,
    "_manager_turns": 9,
    "_manager_core": 10,
    "_manager_requests": 11,
    "_manager_tools": 11,
    "_manager": 12,
    "instrument": 13,
    "analytics": 13,
    "testing": 13,
    "cli": 14,
    # The public face and `python -m codex_otel` sit on top of everything.
    "__init__": 15,
    "__main__": 16,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The package modules `module` imports, anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                # `from .export import _factory` imports the submodule itself.
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in known else source)
    return {name for name in found if name == "codex_otel" or name.startswith("codex_otel.")}


def _unit(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) - {name} for name, path in modules.items()}


def test_every_unit_of_the_package_has_a_layer() -> None:
    units = {_unit(name) for name in _modules()}
    assert units - set(LAYERS) == set()


def test_imports_run_from_the_bottom_up() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _unit(module) != _unit(target) and LAYERS[_unit(target)] >= LAYERS[_unit(module)]
    )
    assert wrong == []


def test_no_module_imports_itself_back_through_others() -> None:
    graph = _graph()
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str], on_path: set[str], done: set[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                on_path.add(target)
                visit(target, [*path, target], on_path, done)
                on_path.discard(target)
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start], {start}, done)
    assert cycles == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("codex_otel._manager", "from ._provider import X", {"codex_otel._provider"}),
        ("codex_otel.cli._main", "from ..testing import X", {"codex_otel.testing"}),
        ("codex_otel._metrics", "from .export import _factory", {"codex_otel.export._factory"}),
        ("codex_otel._logs", "def f():\n    from ._metrics import X", {"codex_otel._metrics"}),
    ],
)
def test_the_reader_sees_each_kind_of_import(
    tmp_path: Path, module: str, source: str, expected: set[str]
) -> None:
    path = tmp_path / "module.py"
    path.write_text(source, encoding="utf-8")
    assert _imports(module, path, set(_modules())) == expected
