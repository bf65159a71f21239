"""`codex-otel demo`, run as a user runs it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codex_otel.testing import OtlpReceiver
from tests.cli import CLI, SECRET, http_table, run, write_config
from tests.faulty import closed_port

AUTH_ENV = (
    "auth.env_openai_api_key_present=true auth.env_codex_api_key_present=false "
    "auth.env_codex_api_key_enabled=true auth.env_provider_key_name=configured "
    "auth.env_provider_key_present=true auth.env_refresh_token_url_override_present=false"
)
BUILTIN_TOOL = "output_truncated=false mcp_server= mcp_server_origin="
DEMO_EVENTS = [
    "codex.conversation_starts provider_name=openai reasoning_effort=medium "
    "reasoning_summary=auto context_window=272000 max_output_tokens=128000 "
    "approval_policy=on-request sandbox_policy=workspace-write mcp_servers=github "
    f"active_profile=demo {AUTH_ENV}",
    "codex.startup_phase startup.phase=thread_start_total startup.status=ready duration_ms=N",
    "codex.user_prompt prompt_length=34 prompt=[REDACTED]",
    "codex.api_request attempt=0 duration_ms=N http.response.status_code=200 "
    "cf_ray=8f1e2d3c4b5a6978-SJC auth.header_attached=true auth.header_name=authorization "
    f"auth.retry_after_unauthorized=false endpoint=/responses {AUTH_ENV} "
    "auth.cf_ray=8f1e2d3c4b5a6978-SJC",
    "codex.sse_event event.kind=response.created duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    # The turn's first output token, timed by `turn()` itself.
    "codex.turn_ttft duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    "codex.sse_event event.kind=response.output_item.done duration_ms=N",
    "codex.sse_event event.kind=response.completed duration_ms=N",
    "codex.sse_event event.kind=response.completed input_token_count=1250 "
    "output_token_count=96 cached_token_count=1024 reasoning_token_count=64 "
    "tool_token_count=1346",
    "codex.tool_decision tool_name=shell call_id=call_demo_1 decision=approved source=User",
    'codex.tool_result tool_name=shell call_id=call_demo_1 arguments={"command": ["ls", "-1"]} '
    f"duration_ms=N success=true output=README.md\\npyproject.toml\\ncodex_otel/ {BUILTIN_TOOL}",
    "codex.sandbox_outcome tool_name=shell call_id=call_demo_1 outcome=success "
    "initial_duration_ms=N",
    "codex.guardian_assessment review.id=review_demo_1 item.id=call_demo_2 status=approved "
    "outcome=allow risk_level=low started_at_ms=1767225600000 completed_at_ms=1767225600420 "
    "rationale=Reading a file inside the workspace is low risk. rationale_length=48 "
    "rationale_truncated=false",
    "codex.tool_decision tool_name=read_file call_id=call_demo_2 "
    "decision=approved source=AutomatedReviewer",
    'codex.tool_result tool_name=read_file call_id=call_demo_2 arguments={"path": "notes.txt"} '
    f"duration_ms=N success=false output=no such file: notes.txt {BUILTIN_TOOL}",
    "codex.agent_response agent.type=main item.id=msg_demo_1 response=The repository holds "
    "README.md, pyproject.toml and codex_ot… response_length=63 response_truncated=false",
    "codex.plugin_install_elicitation_sent plugin_install.tool_type=connector "
    "plugin_install.tool_id=github plugin_install.tool_name=GitHub",
    "codex.plugin_install_suggestion plugin_install.tool_type=connector "
    "plugin_install.tool_id=github plugin_install.tool_name=GitHub "
    "plugin_install.response_action=accept plugin_install.user_confirmed=true "
    "plugin_install.completed=true",
]

DEMO_SUMMARY = [
    "events by name:",
    "  codex.conversation_starts                 1",
    "  codex.api_request                         1",
    "  codex.sse_event                           7",
    "  codex.user_prompt                         1",
    "  codex.tool_decision                       2",
    "  codex.tool_result                         2",
    "  codex.sandbox_outcome                     1",
    "  codex.startup_phase                       1",
    "  codex.turn_ttft                           1",
    "  codex.plugin_install_elicitation_sent     1",
    "  codex.plugin_install_suggestion           1",
    "  codex.agent_response                      1",
    "  codex.guardian_assessment                 1",
    "",
    "sent 21, arrived 21, lost 0; 13 of 16 event kinds; spans sent 4, arrived 4, lost 0",
]
# The turn's spans, each with the events recorded in it (timestamps and values left out).
DEMO_SPANS = [
    "spans, each with the events recorded in it:",
    "invoke_agent codex",
    "  · codex.user_prompt",
    "  · codex.tool_decision",
    "  · codex.sandbox_outcome",
    "  · codex.guardian_assessment",
    "  · codex.tool_decision",
    "  · codex.agent_response",
    "  chat gpt-5-codex",
    "    · codex.api_request",
    *["    · codex.sse_event"] * 2,
    "    · codex.turn_ttft",
    *["    · codex.sse_event"] * 5,
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
def test_demo_shows_the_catalog_s_event_kinds_and_nothing_lost(protocol: str, banner: str) -> None:
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
    # The opt-in events stay off: the table does not switch them on.
    opt_in = ("codex.agent_response", "codex.guardian_assessment")
    names = [line.split()[0] for line in DEMO_EVENTS if not line.startswith(opt_in)]
    logs = receiver.wait_for(len(names))
    assert [log.event_name for log in logs] == names
    assert {(log.transport, log.headers["x-api-key"], log.resource["env"]) for log in logs} == {
        ("http/json", SECRET, "ci")
    }
    assert result.stdout.splitlines() == [
        f"codex-otel demo: sending to {receiver.logs_endpoint} ({path})",
        "sent 19, accepted by the collector 19, dropped 0",
    ]
    assert SECRET not in result.stdout


def test_demo_with_config_says_what_the_collector_did_not_accept(tmp_path: Path) -> None:
    path = write_config(tmp_path, http_table(f"http://127.0.0.1:{closed_port()}/v1/logs"))
    result = run("demo", "--config", str(path), CHECK_TOKEN="x")
    assert result.returncode == 1
    said, hint = result.stdout.splitlines()[1:]
    # Refused exports are retried until the shutdown bound: which reasons the 19 are split
    # into is timing (on a loaded machine some are still queued or in flight at the bound).
    found = re.fullmatch(r"sent 19, accepted by the collector 0, dropped 19 \((.+)\)", said)
    assert found, said
    reasons = dict(part.split(" ")[::-1] for part in found[1].split(", "))
    assert set(reasons) <= {"export_failed", "unsent_at_shutdown", "in_flight_at_shutdown"}, said
    assert sum(int(count) for count in reasons.values()) == 19, said
    assert hint == f"see why: codex-otel config check {path}"


def test_demo_with_none_config_is_one_line_on_stderr(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'exporter = "none"\n')
    result = run("demo", "--config", str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: {path}: otel.exporter is 'none': there is nowhere to send events\n"
    )
