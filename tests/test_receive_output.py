"""`codex-otel receive --output FILE`: the file is its owner's only, and what is received is in
it as soon as it is printed (metrics included), not when a later event comes."""

from __future__ import annotations

import stat
import time
from pathlib import Path

from tests.cli import Receiving
from tests.test_receive_metrics import send_metrics


def lines_of(path: Path, count: int, timeout: float = 10.0) -> list[str]:
    """The file's lines once it holds `count` (bounded wait), else what it holds."""
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_the_output_file_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    out_file = tmp_path / "received.jsonl"
    receiving = Receiving("--json", "--output", str(out_file))
    mode = stat.S_IMODE(out_file.stat().st_mode)
    receiving.interrupt()
    assert oct(mode) == oct(0o600)


def test_metric_lines_reach_the_output_file_as_they_are_printed(tmp_path: Path) -> None:
    out_file = tmp_path / "received.jsonl"
    receiving = Receiving("--json", "--output", str(out_file))
    try:
        send_metrics(receiving.logs_endpoint.replace("/v1/logs", "/v1/metrics"))
        printed = receiving.read_lines(2)
        in_file = lines_of(out_file, 2)  # while receive still runs: nothing else comes
    finally:
        receiving.interrupt()
    assert in_file == printed
