"""The generated parts of the docs pages, written from the code so they cannot drift.

A page holds a marker line, `<!-- generated: NAME -->`; `make docs` (this file is an MkDocs
hook) replaces it with the Markdown `GENERATORS[NAME]` writes: the catalog from
`codex_otel.catalog`, the command line's `--help` texts from its parser, the benchmark
figures from `benchmarks/results.json` (all of them; the viewer's on its page too).
tests/test_docs.py expands every page the same way.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is imported from the checkout
    sys.path.insert(0, str(ROOT))

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)
# The width the --help texts are wrapped at on the page (argparse reads $COLUMNS).
HELP_COLUMNS = 88


def _table(header: tuple[str, ...], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _codes(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def catalog_events() -> str:
    from codex_otel.catalog import COMMON_ATTRIBUTES, EVENTS

    def fields(spec: Any) -> str:
        # `?`: may be absent.
        names = [f"`{field.key}`{'?' if field.optional else ''}" for field in spec.fields]
        for field in spec.fields:
            names += [f"`{key}`" for key in (field.length_key, field.truncated_key) if key]
        return ", ".join(names)

    rows = [
        (
            f"`{name}`",
            spec.when + (f" (opt-in: `{spec.opt_in}`)" if spec.opt_in else ""),
            fields(spec),
            _codes(spec.metrics) if spec.metrics else "—",
        )
        for name, spec in EVENTS.items()
    ]
    return (
        f"Every event carries the common attributes {_codes(COMMON_ATTRIBUTES)}"
        " (`turn.id` inside a turn only; an unknown optional one is left out).\n\n"
        + _table(("event", "when", "attributes besides the common ones", "metrics"), rows)
    )


def catalog_metrics() -> str:
    from codex_otel.catalog import INSTRUMENTS

    rows = [
        (
            f"`{spec.name}`",
            spec.kind,
            f"`{spec.unit}`" if spec.unit else "none",
            spec.description,
            _codes(spec.tags) if spec.tags else "—",
            ", ".join(str(int(b)) if float(b).is_integer() else str(b) for b in spec.bounds)
            if spec.bounds
            else "",
        )
        for spec in INSTRUMENTS
    ]
    return _table(
        ("instrument", "kind", "unit", "description", "own tags", "histogram bounds"), rows
    )


def catalog_spans() -> str:
    from codex_otel.catalog import AGENT_NAME, SPAN_ATTRIBUTES, Operation

    subjects = {
        Operation.INVOKE_AGENT: AGENT_NAME,
        Operation.CHAT: "{model}",
        Operation.EXECUTE_TOOL: "{tool_name}",
    }
    rows = [
        (f"`{operation}`", f"`{operation} {subjects.get(operation, '…')}`", _codes(attrs))
        for operation, attrs in SPAN_ATTRIBUTES.items()
    ]
    return _table(("`gen_ai.operation.name`", "span name", "attributes"), rows)


def catalog_analytics() -> str:
    from codex_otel.catalog import ALL_EVENT_TYPES

    return "\n".join(f"- `{event_type}`" for event_type in ALL_EVENT_TYPES)


def catalog_markers() -> str:
    from codex_otel.catalog import (
        REDACTED,
        SECRET_MARKER,
        TRUNCATED_MARKER,
        ToolDecision,
        ToolDecisionSource,
    )

    rows = [
        ("a prompt not exported (`log_user_prompt = false`)", f"`{REDACTED}`"),
        ("a secret scrubbed from a free-text field", f"`{SECRET_MARKER}`"),
        ("the end of tool arguments or output cut at `max_bytes`", f"`{TRUNCATED_MARKER}`"),
        ("`decision` of `codex.tool_decision`", _codes([d.value for d in ToolDecision])),
        ("`source` of `codex.tool_decision`", _codes([s.value for s in ToolDecisionSource])),
    ]
    return _table(("what", "value"), rows)


@contextlib.contextmanager
def _columns(width: int) -> Iterator[None]:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def _subparsers(parser: Any) -> dict[str, Any]:
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return dict(action.choices)
    return {}


def cli_help() -> str:
    """`codex-otel --help` and every command's, as the command prints them."""
    from codex_otel.cli._main import _parser

    parts: list[str] = []

    def walk(parser: Any) -> None:
        with _columns(HELP_COLUMNS):
            text = parser.format_help().rstrip()
        parts.append(f"### `{parser.prog}`\n\n```text\n{text}\n```")
        for sub in _subparsers(parser).values():
            walk(sub)

    walk(_parser())
    return "\n\n".join(parts)


def benchmark_results() -> str:
    """benchmarks/RESULTS.md as `make bench` writes it, from benchmarks/results.json."""
    bench_main = importlib.import_module("benchmarks.__main__")
    document = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    modules = {
        name: importlib.import_module(f"benchmarks.{bench_main.PREFIX}{name}")
        for name in document["benchmarks"]
    }
    text: str = bench_main.render_markdown(document, modules)
    body = text.split("\n", 1)[1]  # the page has its own title
    # The page's sections sit under its own headings.
    return re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", body, flags=re.MULTILINE)


def viewer_figures() -> str:
    """The viewer's section of benchmarks/results.json (bench_viewer.py): its targets and
    figures, with when and where they were measured."""
    bench_main = importlib.import_module("benchmarks.__main__")
    bench_viewer = importlib.import_module("benchmarks.bench_viewer")
    document = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    result = document["benchmarks"]["viewer"]
    machine = document["machine"]
    return "\n".join(
        [
            f"Measured by `benchmarks/bench_viewer.py` on {document['generated'][:10]} "
            f"({machine['cpu']}, "
            f"{machine['cpus']} CPUs, shared with other work; {machine['python']}):",
            "",
            *bench_main.targets_table(result["targets"]),
            "",
            bench_viewer.markdown(result),
        ]
    )


GENERATORS: dict[str, Callable[[], str]] = {
    "catalog-events": catalog_events,
    "catalog-metrics": catalog_metrics,
    "catalog-spans": catalog_spans,
    "catalog-analytics": catalog_analytics,
    "catalog-markers": catalog_markers,
    "cli-help": cli_help,
    "benchmark-results": benchmark_results,
    "viewer-figures": viewer_figures,
}


def expand(markdown: str) -> str:
    """The page with each marker replaced; an unknown marker is an error."""

    def generate(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated section {name!r} (known: {sorted(GENERATORS)})")
        return GENERATORS[name]()

    return MARKER.sub(generate, markdown)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """MkDocs hook: every page's generated sections, filled in before it is rendered."""
    return expand(markdown)
