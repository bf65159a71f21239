"""Keeps benchmarks/bench_viewer.py from rotting: it opens a tiny session with the command and
reads every figure (no timing asserted; the figures live in benchmarks/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_viewer


def test_the_viewer_benchmark_measures_a_small_session(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    bench_viewer.write_session(path, 2, 10)
    figures = bench_viewer.measure(path)
    assert set(figures) == {
        "file_mb",
        "open_s",
        "rss_mib",
        "peak_rss_mib",
        "first_view_mib",
        "first_paint_s",
        "poll_after_100_events_kib",
        "events_shown",
    }
    # 2 turns of a prompt and 10 tool results, then a turn of a prompt and 99 more.
    assert figures["events_shown"] == 22 + 100
    assert figures["poll_after_100_events_kib"] > 0 and figures["first_view_mib"] > 0
