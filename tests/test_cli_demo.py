"""`codex-otel demo`, run as a user runs it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codex_otel.testing import OtlpReceiver
from tests.cli import CLI, SECRET, http_table, run, write_config
from tests.faulty import closed_port

DEMO_EVENTS = [
    "codex.conversation_starts provider_name=openai reasoning_effort=medium "
    "reasoning_summary=auto context_window=272000 max_output_tokens=128000 "
    "approval_policy=on-request sandbox_policy=workspace-write mcp_servers=github "
    "active_profile=demo",
    "codex.user_prompt prompt_length=34 prompt=[REDACTED]",
    "codex.api_request attempt=1 duration_ms=N http.response.status_code=200 "
    "cf_ray=8f1e2d3c4b5a6978-SJC",
    "codex.sse_event event.kind=response.created duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    "codex.sse_event event.kind=response.output_item.done duration_ms=N",
    "codex.sse_event event.kind=response.completed duration_ms=N",
    "codex.sse_event event.kind=response.completed input_token_count=1250 "
    "output_token_count=96 cached_token_count=1024 reasoning_token_count=64 "
    "tool_token_count=1346",
    "codex.tool_decision tool_name=shell call_id=call_demo_1 decision=approved source=user",
    'codex.tool_result tool_name=shell call_id=call_demo_1 arguments={"command": ["ls", "-1"]} '
    "duration_ms=N success=true output=README.md\\npyproject.toml\\ncodex_otel/",
    "codex.tool_decision tool_name=read_file call_id=call_demo_2 "
    "decision=approved_for_session source=config",
    'codex.tool_result tool_name=read_file call_id=call_demo_2 arguments={"path": "notes.txt"} '
    "duration_ms=N success=false output=no such file: notes.txt",
]

DEMO_SUMMARY = [
    "events by name:",
    "  codex.conversation_starts        1",
    "  codex.api_request                1",
    "  codex.sse_event                  7",
    "  codex.user_prompt                1",
    "  codex.tool_decision              2",
    "  codex.tool_result                2",
    "",
    "sent 14, arrived 14, lost 0; 6 of 6 event kinds; spans sent 4, arrived 4, lost 0",
]
# The turn's spans, each with the events recorded in it (timestamps and values left out).
DEMO_SPANS = [
    "spans, each with the events recorded in it:",
    "invoke_agent codex",
    "  · codex.user_prompt",
    "  · codex.tool_decision",
    "  · codex.tool_decision",
    "  chat gpt-5-codex",
    "    · codex.api_request",
    *["    · codex.sse_event"] * 7,
    "  execute_tool shell",
    "    · codex.tool_result",
    "  execute_tool read_file",
    "    · codex.tool_result",
]


def span_skeleton(line: str) -> str:
    """A span line's indented name, or an event line's indented `· name`."""
    if line.lstrip().startswith("·"):
        indent = line[: len(line) - len(line.lstrip())]
        return f"{indent}· {line.split()[2]}"
    return line[:34].rstrip()


def normalise_demo_line(line: str) -> str:
    line = re.sub(r"^\d\d:\d\d:\d\d\.\d{3} ", "", line)
    line = re.sub(r" +", " ", line)
    return re.sub(r"duration_ms=\d+", "duration_ms=N", line)


@pytest.mark.parametrize(
    ("protocol", "banner"),
    [
        (
            "binary",
            r"OTLP/HTTP protobuf to an embedded receiver at http://127\.0\.0\.1:\d+/v1/logs",
        ),
        ("json", r"OTLP/HTTP JSON to an embedded receiver at http://127\.0\.0\.1:\d+/v1/logs"),
        ("grpc", r"OTLP/gRPC to an embedded receiver at http://127\.0\.0\.1:\d+"),
    ],
)
def test_demo_shows_all_six_event_kinds_and_nothing_lost(protocol: str, banner: str) -> None:
    result = run("demo", "--protocol", protocol)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    first, api, blank, *events = result.stdout.splitlines()
    assert re.fullmatch(f"codex-otel demo: {banner}", first), first
    assert re.fullmatch(r"fake Responses API at http://127\.0\.0\.1:\d+/v1/responses", api), api
    assert blank == ""
    shown, rest = events[: len(DEMO_EVENTS)], events[len(DEMO_EVENTS) + 1 :]
    spans, summary = rest[: len(DEMO_SPANS)], rest[len(DEMO_SPANS) + 1 :]
    assert [normalise_demo_line(line) for line in shown] == DEMO_EVENTS
    assert [spans[0], *(span_skeleton(line) for line in spans[1:])] == DEMO_SPANS
    assert summary == [
        *DEMO_SUMMARY,
        "",
        f"see it as a picture: {CLI} demo --record session.jsonl",
        f"                     {CLI} view session.jsonl",
        f"or live: {CLI} view (listens on 4318 and 4317), then in another terminal "
        f"{CLI} demo --config config/otel-view.toml",
    ]


def test_demo_with_config_sends_the_session_to_that_collector(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    path = write_config(tmp_path, http_table(receiver.logs_endpoint, "json"))
    result = run("demo", "--config", str(path), CHECK_TOKEN=SECRET)
    assert result.returncode == 0, result.stderr
    logs = receiver.wait_for(len(DEMO_EVENTS))
    assert [log.event_name for log in logs] == [line.split()[0] for line in DEMO_EVENTS]
    assert {(log.transport, log.headers["x-api-key"], log.resource["env"]) for log in logs} == {
        ("http/json", SECRET, "ci")
    }
    assert result.stdout.splitlines() == [
        f"codex-otel demo: sending to {receiver.logs_endpoint} ({path})",
        "sent 14, accepted by the collector 14, dropped 0",
    ]
    assert SECRET not in result.stdout


def test_demo_with_config_says_what_the_collector_did_not_accept(tmp_path: Path) -> None:
    path = write_config(tmp_path, http_table(f"http://127.0.0.1:{closed_port()}/v1/logs"))
    result = run("demo", "--config", str(path), CHECK_TOKEN="x")
    assert result.returncode == 1
    said, hint = result.stdout.splitlines()[1:]
    # Refused exports are retried until the shutdown bound: which reasons the 14 are split
    # into is timing (on a loaded machine some are still queued or in flight at the bound).
    found = re.fullmatch(r"sent 14, accepted by the collector 0, dropped 14 \((.+)\)", said)
    assert found, said
    reasons = dict(part.split(" ")[::-1] for part in found[1].split(", "))
    assert set(reasons) <= {"export_failed", "unsent_at_shutdown", "in_flight_at_shutdown"}, said
    assert sum(int(count) for count in reasons.values()) == 14, said
    assert hint == f"see why: codex-otel config check {path}"


def test_demo_with_none_config_is_one_line_on_stderr(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'exporter = "none"\n')
    result = run("demo", "--config", str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: {path}: otel.exporter is 'none': there is nowhere to send events\n"
    )
