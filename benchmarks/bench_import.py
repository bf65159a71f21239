"""Import time: `import codex_otel` (exporter none) against `import opentelemetry.sdk._logs`.

Each sample is a fresh interpreter timing its own import (interpreter start-up excluded), the
two statements interleaved, bytecode cached as after a normal install. Also timed: a whole
start with exporter none (import, `[otel]` defaults, provider, manager, one event), and which
modules that start leaves out (structlog, grpc, the HTTP stack).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from benchmarks._common import ROOT, median, target

FULL_REPS = 30
QUICK_REPS = 5

_TIMED = """
import time
start = time.perf_counter()
{statement}
print((time.perf_counter() - start) * 1000)
"""
STATEMENTS = {
    "opentelemetry.sdk._logs": "import opentelemetry.sdk._logs",
    "codex_otel": "import codex_otel",
    "codex_otel start, exporter none": (
        "import codex_otel\n"
        "provider = codex_otel.OtelProvider.from_config(codex_otel.OtelConfig())\n"
        "manager = codex_otel.OtelEventManager(\n"
        "    provider, conversation_id='c', model='m', slug='s'\n"
        ")\n"
        "manager.sse_event('response.output_text.delta', 0.012)"
    ),
}
# Modules a start with exporter none must not import.
_UNWANTED = ("structlog", "grpc", "requests", "urllib3", "opentelemetry.exporter")
_CHECK = STATEMENTS["codex_otel start, exporter none"] + (
    f"\nimport sys\nprint(sorted({{m.split('.')[0] if not m.startswith('opentelemetry') "
    f"else m for m in sys.modules if m.startswith({_UNWANTED!r})}}))"
)


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # time imports as installed: bytecode cached
    return env


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=60,
        check=True,
    )


def _sample(statement: str) -> float:
    return float(_python(_TIMED.format(statement=statement)).stdout)


def _modules_added(top: int = 6) -> list[str]:
    """`-X importtime`: the modules `import codex_otel` adds to the SDK's, by own time."""

    def self_us(statement: str) -> dict[str, int]:
        result = _python(statement, "-X", "importtime")
        times = {}
        for line in result.stderr.splitlines():
            if line.startswith("import time:") and "[us]" not in line:
                own, _cumulative, name = line[len("import time:") :].split("|")
                times[name.strip()] = int(own)
        return times

    sdk = self_us(STATEMENTS["opentelemetry.sdk._logs"])
    ours = self_us(STATEMENTS["codex_otel"])
    added = sorted(((us, name) for name, us in ours.items() if name not in sdk), reverse=True)
    return [f"{name}: {us / 1000:.1f} ms" for us, name in added[:top]] + [
        f"total of {len(added)} modules: {sum(us for us, _ in added) / 1000:.1f} ms"
    ]


def run(*, quick: bool = False) -> dict[str, Any]:
    reps = QUICK_REPS if quick else FULL_REPS
    for statement in STATEMENTS.values():
        _sample(statement)  # warm up: writes bytecode, fills the page cache
    samples: dict[str, list[float]] = {name: [] for name in STATEMENTS}
    for _ in range(reps):
        for name, statement in STATEMENTS.items():
            samples[name].append(_sample(statement))
    medians = {name: round(median(values), 2) for name, values in samples.items()}
    sdk = medians["opentelemetry.sdk._logs"]
    unwanted = _python(_CHECK).stdout.strip()
    return {
        "samples": reps,
        "median_ms": medians,
        "ratio_to_sdk": {name: round(ms / sdk, 3) for name, ms in medians.items()},
        "imported_by_start_with_exporter_none": unwanted,
        "modules_added_to_sdk": _modules_added(),
        "targets": [
            target("import codex_otel vs SDK logs import", medians["codex_otel"] / sdk, 1.2, "x")
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Median of {result['samples']} fresh interpreters each, import timed inside the process.",
        "",
        "| statement | ms | vs SDK |",
        "|---|---:|---:|",
    ]
    for name, ms in result["median_ms"].items():
        lines.append(f"| `{name}` | {ms:.1f} | {result['ratio_to_sdk'][name]:.2f}x |")
    lines += [
        "",
        "Modules `import codex_otel` adds to the SDK's (own time, one `-X importtime` run): "
        + "; ".join(result["modules_added_to_sdk"])
        + ".",
        "",
        f"Of {', '.join(_UNWANTED)}, a start with exporter none imports: "
        f"{result['imported_by_start_with_exporter_none']}.",
    ]
    return "\n".join(lines)
