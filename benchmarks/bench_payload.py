"""Big tool output: the caller's cost of a `codex.tool_result` from 2 KiB to 4 MiB of output.

Only `[otel].tool_result.max_bytes` (2 KiB) of an output is kept, scrubbed of secrets, so what
the caller pays should hardly grow with what the tool printed. The output is source-listing
text without a secret or a secret's hint (`key`, `token`, `sk-`...), the common case. Shown
beside it, without a target: outputs with a hint in the kept part (the rules then run over the
kept part and the margin past it, as a secret straddling the cut must be matched whole, so
their cost is the patterns' over 10 KiB), and a non-ASCII one (its size in bytes is counted by
encoding it whole).
Each run emits into a queue that holds it (exported to a null exporter between runs).
"""

from __future__ import annotations

import cProfile
import gc
from typing import Any

from benchmarks._common import (
    METADATA,
    NullExporter,
    held_batch,
    median,
    profile_rows,
    target,
    time_per_call_us,
)
from codex_otel import OtelEventManager, OtelProvider

FULL = {"events": 400, "reps": 7}
QUICK = {"events": 40, "reps": 2}
KIB = 1024
SIZES = {"2 KiB": 2 * KIB, "64 KiB": 64 * KIB, "1 MiB": 1024 * KIB, "4 MiB": 4096 * KIB}
_LINE = "src/codex/module_{:05d}.py:118:    return handler(request).json()  # ok\n"
_ARGUMENTS = {"command": ["cat", "build.log"], "workdir": "/home/dev/project"}


def output(size: int, *, hint: bool = False, ascii_only: bool = True) -> str:
    """`size` characters of listing lines; `hint`: one line names a token early on."""
    lines = [_LINE.format(i) for i in range(size // len(_LINE.format(0)) + 1)]
    if hint:
        lines[3] = "export TOKEN_FILE=/run/secrets/none  # not a secret, but a hint\n"
    if not ascii_only:
        lines = [line.replace("module", "módulo") for line in lines]
    return "".join(lines)[:size]


def measure(events: int, reps: int) -> dict[str, Any]:
    cases = {name: output(size) for name, size in SIZES.items()}
    cases["2 KiB, a hint in it"] = output(SIZES["2 KiB"], hint=True)
    cases["64 KiB, a hint in the kept part"] = output(SIZES["64 KiB"], hint=True)
    cases["4 MiB, non-ASCII"] = output(SIZES["4 MiB"], ascii_only=False)
    provider = OtelProvider(NullExporter(), environment="bench", batch=held_batch(events))
    try:
        manager = OtelEventManager(provider, **METADATA)

        def loop_of(text: str) -> Any:
            def loop(n: int) -> None:
                for _ in range(n):
                    manager.tool_result("shell", "call_7Hq2", _ARGUMENTS, 0.0153, True, text)

            return loop

        loops = {name: loop_of(text) for name, text in cases.items()}
        for loop in loops.values():  # warm-up
            loop(min(events, 50))
        runs: dict[str, list[float]] = {name: [] for name in loops}
        order = list(loops)
        for _ in range(reps):
            for name in order:  # interleaved: a drifting load hits every size alike
                provider.force_flush()
                gc.collect()
                runs[name].append(time_per_call_us(loops[name], events))
            order.reverse()
        profiler = cProfile.Profile()
        profiler.runcall(loops["64 KiB"], events)
    finally:
        provider.shutdown()
    base = runs["2 KiB"]
    result: dict[str, Any] = {}
    for name, measured in runs.items():
        ratios = [value / two for value, two in zip(measured, base, strict=True)]
        result[name] = {
            "caller_us": round(median(measured), 2),
            "vs_2_kib": round(median(ratios), 3),
            "runs_us": [round(value, 2) for value in measured],
        }
    return {"cases": result, "profile_64_kib": profile_rows(profiler, top=8)}


def run(*, quick: bool = False) -> dict[str, Any]:
    counts = QUICK if quick else FULL
    measured = measure(counts["events"], counts["reps"])
    cases = measured["cases"]
    return {
        "events_per_run": counts["events"],
        "runs": counts["reps"],
        **measured,
        "targets": [
            target(
                "payload: tool_result caller cost, 64 KiB vs 2 KiB output",
                cases["64 KiB"]["vs_2_kib"],
                1.5,
                "x",
            ),
            target(
                "payload: tool_result caller cost, 4 MiB vs 2 KiB output",
                cases["4 MiB"]["vs_2_kib"],
                3.0,
                "x",
            ),
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"`codex.tool_result` with outputs of each size, µs per event on the caller's thread, "
        f"median of {result['runs']} interleaved runs of {result['events_per_run']} events; "
        "2 KiB is kept (`tool_result.max_bytes`). Ratio: run by run against the 2 KiB run.",
        "",
        "| output | caller µs | vs 2 KiB |",
        "|---|---:|---:|",
    ]
    for name, case in result["cases"].items():
        lines.append(f"| {name} | {case['caller_us']:.1f} | {case['vs_2_kib']:.2f}x |")
    lines += [
        "",
        "cProfile of the 64 KiB case, by own time:",
        "",
        "```",
        *result["profile_64_kib"],
        "```",
    ]
    return "\n".join(lines)
