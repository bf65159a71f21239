"""`codex-otel receive` prints metrics too: one readable line per data point, or JSON lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from tests.cli import Receiving
from tests.conftest import METADATA


def send_metrics(endpoint: str) -> None:
    config = OtelConfig.from_mapping({"metrics_exporter": {"otlp-http": {"endpoint": endpoint}}})
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(provider, **METADATA)
        manager.tool_result("shell", "call-1", {}, 0.25, True, "ok")


def test_receive_prints_each_metric_point_on_a_line() -> None:
    receiving = Receiving()
    send_metrics(receiving.logs_endpoint.replace("/v1/logs", "/v1/metrics"))
    lines = sorted(receiving.read_lines(2))
    code, err = receiving.interrupt()
    clock = r"\d\d:\d\d:\d\d\.\d{3}"
    assert re.fullmatch(
        clock + r" metric codex\.tool\.call +sum/delta +tool=shell success=true value=1", lines[0]
    ), lines
    assert re.fullmatch(
        clock + r" metric codex\.tool\.call\.duration_ms +histogram/delta +"
        r"tool=shell success=true count=1 sum=250 min=250 max=250",
        lines[1],
    ), lines
    assert (code, err) == (0, "stopped: 0 events, 2 metric points and 0 spans received\n")


def test_receive_json_lines_carry_whole_metrics(tmp_path: Path) -> None:
    out_file = tmp_path / "received.jsonl"
    receiving = Receiving("--json", "--output", str(out_file))
    send_metrics(receiving.logs_endpoint.replace("/v1/logs", "/v1/metrics"))
    lines = receiving.read_lines(2)
    receiving.interrupt()
    assert out_file.read_text().splitlines() == lines
    metrics = {entry["metric"]: entry for entry in map(json.loads, lines)}
    tags = {
        "auth_mode": "ChatGPT",
        "model": "gpt-5-codex",
        "app.version": "0.50.0",
        "originator": "codex_exec",
        "session_source": "exec",
        "user.hash": metrics["codex.tool.call"]["points"][0]["attributes"]["user.hash"],
        "tool": "shell",
        "success": "true",
    }
    for entry in metrics.values():
        assert entry.pop("resource")["service.name"] == "codex-cli"
        for point in entry["points"]:
            assert point.pop("start_time_unix_nano") > 0
            assert point.pop("time_unix_nano") > 0
    assert metrics == {
        "codex.tool.call": {
            "metric": "codex.tool.call",
            "unit": "",
            "kind": "sum",
            "temporality": "delta",
            "points": [{"attributes": tags, "value": 1}],
            "transport": "http/protobuf",
        },
        "codex.tool.call.duration_ms": {
            "metric": "codex.tool.call.duration_ms",
            "unit": "ms",
            "kind": "histogram",
            "temporality": "delta",
            "points": [
                {
                    "attributes": tags,
                    "count": 1,
                    "sum": 250.0,
                    "min": 250.0,
                    "max": 250.0,
                    "bucket_counts": metrics["codex.tool.call.duration_ms"]["points"][0][
                        "bucket_counts"
                    ],
                    "explicit_bounds": metrics["codex.tool.call.duration_ms"]["points"][0][
                        "explicit_bounds"
                    ],
                }
            ],
            "transport": "http/protobuf",
        },
    }
    (histogram,) = metrics["codex.tool.call.duration_ms"]["points"]
    assert sum(histogram["bucket_counts"]) == 1
    assert len(histogram["bucket_counts"]) == len(histogram["explicit_bounds"]) + 1
