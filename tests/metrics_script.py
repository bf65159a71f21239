"""A scripted session with fixed durations, and the metrics it must produce."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from codex_otel import OtelEventManager
from codex_otel.testing import Metric

ACCOUNT_ID = "acct-42"
API_KEY = "sk-live-SECRET-api-key-0123456789"
ACCOUNT_HASH = hashlib.sha256(ACCOUNT_ID.encode()).hexdigest()
API_KEY_HASH = hashlib.sha256(API_KEY.encode()).hexdigest()

# Every point carries these (the metadata of tests.conftest.METADATA, as metric tags).
TAGS = {
    "auth_mode": "ChatGPT",
    "model": "gpt-5-codex",
    "app.version": "0.50.0",
    "originator": "codex_exec",
    "session_source": "exec",
    "user.hash": ACCOUNT_HASH,
}
# The GenAI client metrics' own attributes of the session's requests and responses.
GEN_AI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-5-codex",
}


def run_session(manager: OtelEventManager) -> None:
    """Every instrument, with durations given (not measured), so values are exact."""
    manager.conversation_starts(
        provider_name="openai",
        reasoning_summary="auto",
        approval_policy="on-request",
        sandbox_policy="workspace-write",
    )
    manager.api_request(1, 0.25, status_code=200)
    manager.api_request(2, timedelta(milliseconds=1200), error="read timed out")
    manager.api_request(3, 0.1, status_code=500)
    manager.sse_event("response.output_text.delta", timedelta(milliseconds=12))
    manager.sse_event("response.output_text.delta", timedelta(milliseconds=30))
    manager.sse_event_failed(None, 0.005, "stream reset")
    # As the SSE wrapper records a completion: the wait, then the usage.
    manager.sse_event("response.completed", timedelta(milliseconds=8))
    manager.sse_event_completed(
        input_token_count=1200,
        output_token_count=300,
        cached_token_count=1000,
        reasoning_token_count=64,
        tool_token_count=1500,
    )
    manager.tool_result("shell", "call-1", {"command": ["ls"]}, 1.5, True, "a.txt")
    manager.tool_result("shell", "call-2", {"command": ["false"]}, 0.02, False, "exit 1")
    manager.tool_failed("apply_patch", "patch rejected")


def _counter(description: str, *points: tuple[dict[str, str], int]) -> dict[str, Any]:
    return {
        "unit": "",  # Codex's counters carry no unit
        "description": description,
        "kind": "sum",
        "monotonic": True,
        "points": sorted_points([({**TAGS, **tags}, value) for tags, value in points]),
    }


def _histogram(
    description: str, unit: str, *points: tuple[dict[str, str], tuple[float, ...]]
) -> dict[str, Any]:
    return {
        "unit": unit,
        "description": description,
        "kind": "histogram",
        "monotonic": None,
        "points": sorted_points([({**TAGS, **tags}, numbers) for tags, numbers in points]),
    }


def expected_session() -> dict[str, dict[str, Any]]:
    """name -> unit, description, kind, monotonic and every point: (whole tags, numbers).

    Counters give their value; histograms (count, sum, min, max).
    """
    ok_200 = {"status": "200", "success": "true"}
    timed_out = {"status": "unspecified", "success": "false"}
    err_500 = {"status": "500", "success": "false"}
    delta = {"kind": "response.output_text.delta", "success": "true"}
    stream_error = {"kind": "unspecified", "success": "false"}
    completed = {"kind": "response.completed", "success": "true"}
    shell_ok = {"tool": "shell", "success": "true"}
    shell_failed = {"tool": "shell", "success": "false"}
    return {
        "codex.conversation.starts": _counter("Conversations started", ({}, 1)),
        "codex.thread.started": _counter(
            "Threads started", ({"is_git": "unknown", "is_worktree": "unknown"}, 1)
        ),
        "codex.process.start": {
            **_counter("Processes started (once per process)"),
            # As Codex's: the originator only.
            "points": [({"originator": "codex_exec"}, 1)],
        },
        "codex.api_request": _counter(
            "API requests to the model provider",
            (ok_200, 1),
            (timed_out, 1),
            (err_500, 1),
        ),
        "codex.api_request.duration_ms": _histogram(
            "API request duration",
            "ms",
            (ok_200, (1, 250, 250, 250)),
            (timed_out, (1, 1200, 1200, 1200)),
            (err_500, (1, 100, 100, 100)),
        ),
        "codex.sse_event": _counter(
            "Server-sent events received",
            (delta, 2),
            (stream_error, 1),
            (completed, 1),
        ),
        "codex.sse_event.duration_ms": _histogram(
            "Wait for each server-sent event",
            "ms",
            (delta, (2, 42, 12, 30)),
            (stream_error, (1, 5, 5, 5)),
            (completed, (1, 8, 8, 8)),
        ),
        # Outside a turn, once per response (inside one, once per turn).
        "codex.turn.token_usage": _histogram(
            "Tokens used per turn, by token type",
            "",
            ({"token_type": "input"}, (1, 1200, 1200, 1200)),
            ({"token_type": "cached_input"}, (1, 1000, 1000, 1000)),
            ({"token_type": "output"}, (1, 300, 300, 300)),
            ({"token_type": "reasoning_output"}, (1, 64, 64, 64)),
            ({"token_type": "total"}, (1, 1500, 1500, 1500)),
        ),
        "codex.tool.call": _counter(
            "Tool calls",
            (shell_ok, 1),
            (shell_failed, 1),
            ({"tool": "apply_patch", "success": "false"}, 1),
        ),
        "codex.tool.call.duration_ms": _histogram(
            "Tool call duration",
            "ms",
            (shell_ok, (1, 1500, 1500, 1500)),
            (shell_failed, (1, 20, 20, 20)),
        ),
        "gen_ai.client.operation.duration": _histogram(
            "GenAI operation duration",
            "s",
            (GEN_AI, (1, 0.25, 0.25, 0.25)),
            ({**GEN_AI, "error.type": "error"}, (1, 1.2, 1.2, 1.2)),
            ({**GEN_AI, "error.type": "500"}, (1, 0.1, 0.1, 0.1)),
        ),
        "gen_ai.client.token.usage": _histogram(
            "Number of input and output tokens used",
            "{token}",
            ({**GEN_AI, "gen_ai.token.type": "input"}, (1, 1200, 1200, 1200)),
            ({**GEN_AI, "gen_ai.token.type": "output"}, (1, 300, 300, 300)),
        ),
    }


def sorted_points(points: Iterable[tuple[dict[str, Any], Any]]) -> list[tuple[dict[str, Any], Any]]:
    return sorted(points, key=lambda point: json.dumps(point[0], sort_keys=True))


def summarise(metrics: Iterable[Metric]) -> dict[str, dict[str, Any]]:
    """What arrived, in `expected_session`'s shape; several exports of one metric are merged."""
    out: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        entry = out.setdefault(
            metric.name,
            {
                "unit": metric.unit,
                "description": metric.description,
                "kind": metric.kind,
                "monotonic": metric.monotonic,
                "points": [],
            },
        )
        for point in metric.points:
            numbers: Any = (
                (point.count, point.sum, point.min, point.max)
                if metric.kind == "histogram"
                else point.value
            )
            entry["points"].append((point.attributes, numbers))
    for entry in out.values():
        entry["points"] = sorted_points(entry["points"])
    return out


def temporalities(metrics: Iterable[Metric]) -> set[str | None]:
    return {metric.temporality for metric in metrics}
