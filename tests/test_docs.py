"""Every example in the README and the docs runs, and shows what it really prints.

The collector reads the fenced code blocks of README.md, CONTRIBUTING.md and docs/:

- `python`: run in this process, each block on its own (a fresh namespace), in a user's
  environment: `load_config()` reads $CODEX_HOME/config.toml, whose `[otel]` table exports
  events, metrics and spans to a real OTLP receiver on 127.0.0.1, and the OpenAI and
  Anthropic SDKs find a local API speaking their streaming formats through their usual
  OPENAI_BASE_URL / ANTHROPIC_BASE_URL. What the block prints must be the next ```text
  title="Output"``` block of the page (a `...` line stands for any lines), and a block
  followed by none must print nothing.
- `toml`: loaded by `load_config()` (and `load_analytics_config()` for `[analytics]`), with
  its `${VAR}`s set and the TLS files it names present; snippets (`--8<-- "file"`) included.
- `sh`: each command run from the checkout with this venv first on PATH, exit 0 and its
  output checked the same way, except the commands `NOT_RUN` gives a reason for.
- the generated sections (`<!-- generated: … -->`) are expanded as `make docs` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import io
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # the package's own dependency there
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

from codex_otel import load_config
from codex_otel.analytics import load_analytics_config
from codex_otel.testing import OtlpReceiver
from tests.sdk_api import SdkApi

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").rglob("*.md")],
)
FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^\n`]*)$")
SNIPPET = re.compile(r'^--8<-- "(?P<path>[^"]+)"$', re.MULTILINE)
OUTPUT_INFO = 'text title="Output"'

# Shell commands shown but not run here, by the start of the command, and why.
NOT_RUN: dict[str, str] = {
    "make demo": "runs `codex-otel demo`, which tests/test_cli_demo.py runs",
    "make test": "this suite",
    "make lint": "the linters run in CI, not inside the tests",
    "make bench": "minutes of benchmarks on a quiet machine; results.json is their output",
    "make docs": "builds the site with mkdocs (the docs group), which `make docs` runs itself",
    "make lock": "resolves against the package index (network)",
    "make test-": "runs the whole suite again in other environments",
    "make .tools/bin/uv": "installs uv from the package index (network)",
    "make clean": "deletes the venv running this suite",
    ".tools/bin/uv": "installs from the package index (network) into the venv running this suite",
    "pip install": "installs from the network into the running environment",
    "codex-otel view": "a server running until Ctrl-C: tests/test_view.py drives it in chromium",
    "codex-otel receive": "a server running until Ctrl-C: tests/test_cli_receive.py runs it",
    "codex-otel demo": "tests/test_cli_demo.py runs it",
    "otelcol ": "the OpenTelemetry Collector is not installed here",
    "sh examples/collector/rotel.sh": "a collector running until stopped: tests/test_rotel.py",
    "python examples/": "tests/test_examples_instrument.py runs every example script",
    ".venv/bin/python -m benchmarks": "minutes of benchmarks (tests/test_benchmarks.py runs them)",
    "python -m benchmarks": "minutes of benchmarks (tests/test_benchmarks.py runs them)",
    "python benchmarks/": "minutes of benchmarks (tests/test_benchmarks.py runs them)",
    ".venv/bin/python -m pytest": "this suite",
    ".venv/bin/ruff": "the linters run in CI, not inside the tests",
    ".venv/bin/mypy": "the linters run in CI, not inside the tests",
    "cd ": "a placeholder path to the reader's own checkout",
}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    output: str | None  # the ```text title="Output"``` block right after it

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The page's fenced blocks, each with the output block that follows it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[tuple[int, str, str]] = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, info = len(match.group("indent")), match.group("info").strip() or "(none)"
        end = index + 1
        while lines[end].strip() != "```":
            end += 1
        code = "\n".join(line[indent:] for line in lines[index + 1 : end]) + "\n"
        found.append((index + 1, info, code))
        index = end + 1
    result: list[Block] = []
    for line, info, code in found:
        if info == OUTPUT_INFO:
            # What the page's previous example prints.
            assert result, f"{page}:{line}: an output block with no example before it"
            result[-1] = dataclasses.replace(result[-1], output=code)
        else:
            result.append(Block(page, line, info.split()[0], code, None))
    return result


ALL = [block for page in PAGES for block in blocks(page)]


def of(lang: str) -> list[Any]:
    return [pytest.param(block, id=block.id) for block in ALL if block.lang == lang]


def matches(expected: str, actual: str) -> bool:
    """`expected` line for line, a `...` line standing for any lines."""
    pattern = "\n".join(
        ".*" if line == "..." else re.escape(line) for line in expected.rstrip("\n").split("\n")
    )
    return re.fullmatch(pattern, actual.rstrip("\n"), flags=re.DOTALL) is not None


def include_snippets(code: str) -> str:
    """pymdownx.snippets as `make docs` applies it: `--8<-- "path"` is that file of the checkout."""
    return SNIPPET.sub(lambda m: (ROOT / m.group("path")).read_text(encoding="utf-8"), code)


# -- the reader's environment --------------------------------------------------------------


@dataclass
class DocEnv:
    home: Path
    receiver: OtlpReceiver


@pytest.fixture
def doc_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DocEnv]:
    """A user's machine: ~/.codex/config.toml exporting everything to a running collector,
    and the model APIs the SDKs talk to (local servers on 127.0.0.1)."""
    with OtlpReceiver(grpc_port=None) as receiver, SdkApi() as api:
        codex_home = tmp_path / ".codex"
        codex_home.mkdir()
        (codex_home / "config.toml").write_text(
            "[otel]\n"
            f'exporter = {{ otlp-http = {{ endpoint = "{receiver.logs_endpoint}" }} }}\n'
            f'metrics_exporter = {{ otlp-http = {{ endpoint = "{receiver.metrics_endpoint}" }} }}\n'
            f'trace_exporter = {{ otlp-http = {{ endpoint = "{receiver.traces_endpoint}" }} }}\n'
        )
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("CODEX_HOME", str(codex_home))
        monkeypatch.setenv("OPENAI_BASE_URL", f"{api.url}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-docs-test")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-docs-test")
        monkeypatch.chdir(tmp_path)
        yield DocEnv(tmp_path, receiver)


def run_python(block: Block) -> str:
    """Runs the block as a script and returns what it printed."""
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    out = io.StringIO()
    code = compile(include_snippets(block.code), block.id, "exec")
    with contextlib.redirect_stdout(out):
        exec(code, namespace)
    return out.getvalue()


@pytest.mark.parametrize("block", of("python"))
def test_python_example_runs_and_prints_what_is_shown(block: Block, doc_env: DocEnv) -> None:
    printed = run_python(block)
    if block.output is None:
        assert printed == "", f"{block.id} prints output the page does not show"
    else:
        assert matches(block.output, printed), printed


# -- config tables -------------------------------------------------------------------------


def _tls_files(node: object, base: Path) -> None:
    """Creates the certificate files a table's `tls` names, as a user's machine has them."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "tls" and isinstance(value, dict):
                for name in value.values():
                    path = base / str(name)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.touch()
            else:
                _tls_files(value, base)


@pytest.mark.parametrize("block", of("toml"))
def test_config_example_loads(block: Block, tmp_path: Path) -> None:
    assert block.output is None, f"{block.id}: a config block prints nothing"
    text = include_snippets(block.code)
    table = tomllib.loads(text)
    assert "otel" in table or "analytics" in table, f"{block.id}: neither [otel] nor [analytics]"
    _tls_files(table, tmp_path)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    env = {name: f"value-of-{name}" for name in re.findall(r"\$\{(\w+)\}", text)}
    config = load_config(path, env=env)
    analytics = load_analytics_config(path, env=env)
    assert (config.exporter is not None, analytics.enabled in (True, False)) == (True, True)


# -- shell commands ------------------------------------------------------------------------


def commands(block: Block) -> list[str]:
    lines = []
    for line in block.code.splitlines():
        command = line.split(" #", 1)[0].strip()
        if command and not command.startswith("#"):
            lines.append(command)
    return lines


def not_run_reason(command: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if command.startswith(start)), None)


@pytest.mark.parametrize("block", of("sh"))
def test_shell_example_runs(block: Block, tmp_path: Path) -> None:
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "COLUMNS": "88",
        "CODEX_OTEL_STRICT": "1",
    }
    env.pop("CODEX_HOME", None)
    printed = []
    for command in commands(block):
        if not_run_reason(command) is not None:
            continue
        done = subprocess.run(
            shlex.split(command),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, ""), f"{block.id}: {command}"
        printed.append(done.stdout)
    if block.output is not None:
        assert matches(block.output, "".join(printed)), "".join(printed)


def test_every_command_shown_is_run_or_has_a_reason() -> None:
    """A new kind of command is either run by the test above or given a reason here."""
    runnable = ("codex-otel ", "python -m codex_otel")
    unknown = [
        f"{block.id}: {command}"
        for block in ALL
        if block.lang == "sh"
        for command in commands(block)
        if not_run_reason(command) is None and not command.startswith(runnable)
    ]
    assert unknown == []


def test_every_block_has_a_language_the_collector_knows() -> None:
    known = {"python", "toml", "sh", "text"}
    assert sorted({block.lang for block in ALL} - known) == []


# -- generated sections --------------------------------------------------------------------


def docs_pages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_pages", ROOT / "scripts/docs_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_section_is_filled_in() -> None:
    pages = docs_pages()
    for page in PAGES:
        text = pages.expand(page.read_text(encoding="utf-8"))
        assert pages.MARKER.search(text) is None, page


def test_the_catalog_page_names_everything_in_the_catalog() -> None:
    from codex_otel.catalog import ALL_EVENT_TYPES, EVENT_NAMES, INSTRUMENTS, SPAN_ATTRIBUTES

    page = docs_pages().expand((ROOT / "docs/catalog.md").read_text(encoding="utf-8"))
    names = [*EVENT_NAMES, *(spec.name for spec in INSTRUMENTS), *SPAN_ATTRIBUTES]
    missing = [name for name in [*names, *ALL_EVENT_TYPES] if f"`{name}`" not in page]
    assert missing == []


def test_the_configuration_page_names_every_key() -> None:
    from codex_otel import BatchConfig, OtelConfig, ToolResultConfig

    page = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    # Not keys: the file's name, what it dropped, two tables.
    tables = ("source", "warnings", "batch", "tool_result")
    keys = [f.name for f in dataclasses.fields(OtelConfig) if f.name not in tables]
    keys += [f"batch.{f.name}" for f in dataclasses.fields(BatchConfig)]
    keys += [f"tool_result.{f.name}" for f in dataclasses.fields(ToolResultConfig)]
    assert [key for key in keys if f"\n| `{key}` |" not in page] == []


def test_every_api_reference_entry_imports() -> None:
    """`::: name` on the API page is a real public object (mkdocstrings would fail the site)."""
    missing: list[str] = []
    page = (ROOT / "docs/api.md").read_text(encoding="utf-8")
    for name in re.findall(r"^::: ([\w.]+)$", page, flags=re.MULTILINE):
        module, _, attribute = name.rpartition(".")
        found: object
        try:
            found = importlib.import_module(name)
        except ImportError:
            found = getattr(importlib.import_module(module), attribute, None)
        if found is None:
            missing.append(name)
    assert missing == []


def test_every_included_file_exists() -> None:
    included = [
        f"{page.relative_to(ROOT)}: {path}"
        for page in PAGES
        for path in SNIPPET.findall(page.read_text(encoding="utf-8"))
        if not (ROOT / path).is_file()
    ]
    assert included == []


@pytest.mark.parametrize("block", of("python"))
def test_python_example_is_formatted_for_the_page(block: Block) -> None:
    """ruff's format at 80 columns: the page shows each line whole, without a scroll bar."""
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "format", "--line-length", "80", "--stdin-filename", "example.py", "-"],
        input=block.code,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == block.code


def test_the_readmes_viewer_figures_are_the_last_benchmarks() -> None:
    """The README's viewer section states what `make bench` last measured, not an estimate."""
    bench = importlib.import_module("benchmarks.__main__")
    document = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert bench.with_viewer_figures(readme, document) == readme
    assert "| PASS | view: open a " in readme  # the block is there, and filled
