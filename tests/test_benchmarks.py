"""Keeps benchmarks/ from rotting: it imports, discovers its modules, and measures (tiny counts).

No timing is asserted here: the figures live in benchmarks/RESULTS.md (`make bench`).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import __main__ as cli
from benchmarks import bench_caller, bench_turn
from benchmarks._common import target

CALLER_EVENTS = {
    "codex.sse_event (delta)",
    "codex.sse_event (completed)",
    "codex.api_request",
    "codex.tool_decision",
    "codex.tool_result",
}


def test_discovery_finds_the_bench_modules_in_name_order() -> None:
    names = cli.discover()
    assert {"caller", "export", "import", "sustained", "turn"} <= set(names)
    assert names == sorted(names)


def test_caller_measure_reports_every_event_for_both_pipelines() -> None:
    result = bench_caller.measure(events=50, reps=1)
    assert set(result) == CALLER_EVENTS
    for case in result.values():
        assert set(case) == {
            "codex_otel_us",
            "raw_sdk_us",
            "ratio",
            "ratio_noise",
            "exporter_none_us",
            "runs_codex_otel_us",
            "runs_raw_sdk_us",
        }
        assert all(case[key] > 0 for key in ("codex_otel_us", "raw_sdk_us", "exporter_none_us"))
        assert len(case["runs_codex_otel_us"]) == len(case["runs_raw_sdk_us"]) == 1


def test_turn_measure_compares_a_traced_turn_with_the_raw_sdk() -> None:
    result = bench_turn.measure(turns=5, reps=1)
    assert result["codex_otel_us"] > 0 and result["raw_sdk_us"] > 0
    # Warm-up (5 turns) and one run of 5, 3 spans each: every span was offered for export.
    assert result["spans_exported"] == 30


def test_target_line_says_pass_or_miss_with_value_and_limit() -> None:
    met = {"benchmark": "x", **target("caller cost", 1.1, 1.25, "x")}
    missed = {"benchmark": "x", **target("throughput", 0.9, 1.0, "x", at_least=True)}
    assert cli.format_target(met) == "PASS  caller cost: 1.1 x (target <= 1.25 x)"
    assert cli.format_target(missed) == "MISS  throughput: 0.9 x (target >= 1 x)"


def test_a_result_without_markdown_gets_a_flat_table() -> None:
    table = cli._generic_markdown({"http": {"overhead_us": 1.5, "calls": 10}, "targets": []})
    assert table == "\n".join(
        ["| measure | value |", "|---|---:|", "| http.overhead_us | 1.5 |", "| http.calls | 10 |"]
    )


def test_memory_measure_queues_against_a_closed_port_and_counts_the_bound() -> None:
    from benchmarks import bench_memory

    case = bench_memory._case("tool_result", 300)
    assert set(case) == {"rss_kib", "accepted", "queue_full", "kib_per_queued_event", "rss_mib"}
    # 300 tool results fit the default bound: none refused, each one queued.
    assert (case["accepted"], case["queue_full"]) == (300, 0)


def test_threads_run_counts_every_event_for_both_pipelines_and_each_exporter_kind(
    tmp_path: Path,
) -> None:
    from benchmarks import bench_threads
    from benchmarks._remote import RemoteReceiver

    with RemoteReceiver() as receiver:
        for kind in bench_threads.KINDS:
            sink = bench_threads._Sink(kind, receiver, tmp_path)
            for pipeline in bench_threads.PIPELINES:
                run = bench_threads.threaded(pipeline, sink, 4, 400)
                assert set(run) == {"events_per_s", "emitted_per_s", "lost"}
                assert (run["lost"], run["events_per_s"] > 0) == (0, True)
        tasks = bench_threads.tasks(
            "codex_otel", bench_threads._Sink("otlp-http", receiver, tmp_path), 4, 256
        )
        assert tasks["lost"] == 0


def test_payload_measure_times_every_output_size() -> None:
    from benchmarks import bench_payload

    result = bench_payload.measure(events=5, reps=1)
    assert set(result["cases"]) == {
        "2 KiB",
        "64 KiB",
        "1 MiB",
        "4 MiB",
        "2 KiB, a hint in it",
        "64 KiB, a hint in the kept part",
        "4 MiB, non-ASCII",
    }
    assert result["cases"]["2 KiB"]["vs_2_kib"] == 1.0
    assert all(case["caller_us"] > 0 for case in result["cases"].values())
