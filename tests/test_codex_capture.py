"""The catalog against what the real Codex CLI exported (`make interop-codex RECORD=1`
recorded tests/data/codex-0.169.0/session.jsonl): every event name and field it sent is in
the catalog (or left out on purpose, with the reason), and every metric of a session, turn,
request, tool or start-up it recorded is an instrument here."""

from __future__ import annotations

import json
from pathlib import Path

from interop.compare import LEFT_OUT, compare

CAPTURE = Path(__file__).parent / "data" / "codex-0.169.0" / "session.jsonl"


def test_codex_s_names_are_the_catalog_s() -> None:
    report = compare(json.loads(line) for line in CAPTURE.read_text().splitlines())
    assert (report.missing_events, report.missing_metrics) == ([], [])
    assert {name: fields for name, fields in report.events.items() if fields} == {}
    assert sorted(report.events) == [
        "codex.agent_response",
        "codex.api_request",
        "codex.conversation_starts",
        "codex.sse_event",
        "codex.startup_phase",
        "codex.tool_decision",
        "codex.tool_result",
        "codex.turn_ttft",
        "codex.user_prompt",
    ]
    left_out = {key for fields in report.left_out.values() for key in fields}
    assert left_out == set(LEFT_OUT)
    assert report.metrics == [
        "codex.api_request",
        "codex.api_request.duration_ms",
        "codex.conversation.turn.count",
        "codex.process.start",
        "codex.sse_event",
        "codex.sse_event.duration_ms",
        "codex.startup.phase.duration_ms",
        "codex.thread.started",
        "codex.tool.call",
        "codex.tool.call.duration_ms",
        "codex.turn.e2e_duration_ms",
        "codex.turn.token_usage",
        "codex.turn.tool.call",
        "codex.turn.ttfm.duration_ms",
        "codex.turn.ttft.duration_ms",
    ]
