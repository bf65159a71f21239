"""`codex-otel receive`, run as a user runs it."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

from codex_otel import OtelConfig, OtelEventManager, OtelProvider, OtlpHttpExporter
from tests.cli import Receiving, run
from tests.conftest import COMMON, METADATA, normalise


def send_events(endpoint: str) -> None:
    config = OtelConfig(exporter=OtlpHttpExporter(endpoint=endpoint))
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(provider, **METADATA)
        manager.sse_event("response.created", 0.002)
        manager.tool_decision("shell", "call-7", "denied", "user")


def test_receive_prints_events_and_stops_cleanly_on_ctrl_c() -> None:
    receiving = Receiving()
    send_events(receiving.logs_endpoint)
    first, second = receiving.read_lines(2)
    code, err = receiving.interrupt()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} codex\.sse_event +event\.kind=response\.created duration_ms=2",
        first,
    ), first
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} codex\.tool_decision +"
        r"tool_name=shell call_id=call-7 decision=denied source=User",
        second,
    ), second
    assert (code, err) == (0, "stopped: 2 events, 0 metric points and 0 spans received\n")


def test_receive_prints_spans_indented_by_parentage_when_their_turn_arrives() -> None:
    receiving = Receiving()
    traces = receiving.logs_endpoint.replace("/v1/logs", "/v1/traces")
    config = OtelConfig(trace_exporter=OtlpHttpExporter(endpoint=traces))
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(provider, **METADATA)
        with manager.turn("turn-7"):
            manager.log_request(1, lambda: None)
            manager.log_tool_result("shell", "call-1", {}, lambda: "ok")
    lines = receiving.read_lines(3)
    code, err = receiving.interrupt()
    assert [line[:34].rstrip() for line in lines] == [
        "invoke_agent codex",
        "  chat gpt-5-codex",
        "  execute_tool shell",
    ]
    assert "turn.id=turn-7" in lines[0]
    assert "codex.tool.success=true" in lines[2]
    assert (code, err) == (0, "stopped: 0 events, 0 metric points and 3 spans received\n")


def test_receive_json_lines_and_output_file(tmp_path: Path) -> None:
    out_file = tmp_path / "events.jsonl"
    out_file.write_text('{"earlier": true}\n')
    receiving = Receiving("--json", "--output", str(out_file))
    send_events(receiving.logs_endpoint)
    lines = receiving.read_lines(2)
    code, err = receiving.interrupt()
    assert (code, err) == (0, "stopped: 2 events, 0 metric points and 0 spans received\n")
    assert out_file.read_text().splitlines() == ['{"earlier": true}', *lines]
    events = [json_event(line) for line in lines]
    for event in events:
        assert event.pop("time_unix_nano") > 0
        resource = event.pop("resource")
        assert (resource["service.name"], resource["env"]) == ("codex-cli", "dev")
        event["attributes"] = normalise(event["attributes"])
    common = {"event.timestamp": "<ts>", **COMMON}
    assert events == [
        {
            "event": "codex.sse_event",
            "severity": "INFO",
            "transport": "http/protobuf",
            "attributes": {
                "event.name": "codex.sse_event",
                **common,
                "event.kind": "response.created",
                "duration_ms": 2,
            },
        },
        {
            "event": "codex.tool_decision",
            "severity": "INFO",
            "transport": "http/protobuf",
            "attributes": {
                "event.name": "codex.tool_decision",
                **common,
                "tool_name": "shell",
                "call_id": "call-7",
                "decision": "denied",
                "source": "User",
            },
        },
    ]


def test_receive_port_in_use_is_one_line_on_stderr() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("receive", "--http-port", str(port), "--no-grpc", timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    # One line, in the package's words: no traceback, no "[Errno 98]" prefix.
    assert result.stderr == (
        f"codex-otel: OTLP receiver: cannot bind HTTP on 127.0.0.1:{port}: Address already in use\n"
    )


def test_receive_unwritable_output_is_one_line_on_stderr(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "events.jsonl"
    result = run("receive", "--http-port", "0", "--no-grpc", "--output", str(target))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: {target}: cannot append events there (No such file or directory)\n"
    )


def test_receive_port_out_of_range_is_a_usage_error() -> None:
    result = run("receive", "--http-port", "70000")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        "codex-otel receive: error: argument --http-port: "
        "expected a port number from 0 to 65535, got '70000'"
    )
    assert result.stderr.splitlines()[0].startswith("usage: codex-otel receive")


def json_event(line: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(line)
    return event


# -- demo ------------------------------------------------------------------------------
