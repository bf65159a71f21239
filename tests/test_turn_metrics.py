"""A turn measures itself, as Codex's does: its first token (the `codex.turn_ttft` event and
metric), and at its end the turn metrics, token usage once per turn and token type."""

from __future__ import annotations

from typing import Any

from codex_otel import OtelEventManager, OtelProvider
from codex_otel.testing import InMemoryMetrics, capture_events
from tests.conftest import METADATA, normalise
from tests.metrics_script import TAGS

TOKENS = {
    "input": 2200,
    "output": 70,
    "total": 2270,
    "cached_input": 1024,
    "cache_write_input": 100,
    "reasoning_output": 10,
}


def scripted_turn(manager: OtelEventManager) -> None:
    """Two responses: a tool call (its item is the first output), then the answer's text."""
    with manager.turn("turn-1"):
        manager.user_prompt(["fix the test"])
        manager.api_request(1, 0.25, status_code=200)
        manager.sse_event("response.created", 0.01)
        manager.sse_event("response.output_item.done", 0.02)
        manager.sse_event("response.completed", 0.001)
        manager.sse_event_completed(
            input_token_count=1000,
            output_token_count=50,
            cached_token_count=0,
            reasoning_token_count=10,
            tool_token_count=1050,
        )
        manager.tool_result("shell", "call-1", {"command": ["pytest"]}, 0.1, True, "1 passed")
        manager.api_request(1, 0.2, status_code=200)
        manager.sse_event("response.output_text.delta", 0.01)
        manager.sse_event_completed(
            input_token_count=1200,
            output_token_count=20,
            cached_token_count=1024,
            cache_creation_token_count=100,
            tool_token_count=1220,
        )


def turn_metrics(reader: InMemoryMetrics) -> dict[str, Any]:
    """The turn's own instruments: name -> (kind, unit, [(tags, count or value)])."""
    out: dict[str, Any] = {}
    for metric in reader.metrics():
        if not metric.name.startswith(("codex.turn.", "codex.conversation.turn")):
            continue
        points = sorted(
            (
                (point.attributes, point.count if metric.kind == "histogram" else point.value)
                for point in metric.points
            ),
            key=lambda point: sorted(point[0].items()),
        )
        out[metric.name] = (metric.kind, metric.unit, points)
    return out


def test_a_turn_records_its_metrics_by_name_kind_unit_and_tags() -> None:
    reader = InMemoryMetrics()
    provider = OtelProvider(None, metric_readers=[reader])
    scripted_turn(OtelEventManager(provider, **METADATA))
    token_points = sorted(
        (({**TAGS, "token_type": kind}, 1) for kind in TOKENS),
        key=lambda point: sorted(point[0].items()),
    )
    assert turn_metrics(reader) == {
        "codex.conversation.turn.count": ("sum", "", [(TAGS, 1)]),
        "codex.turn.e2e_duration_ms": ("histogram", "ms", [(TAGS, 1)]),
        "codex.turn.ttft.duration_ms": ("histogram", "ms", [(TAGS, 1)]),
        "codex.turn.ttfm.duration_ms": ("histogram", "ms", [(TAGS, 1)]),
        "codex.turn.tool.call": ("histogram", "", [(TAGS, 1)]),
        # One point per token type for the whole turn, not one per response.
        "codex.turn.token_usage": ("histogram", "", token_points),
    }
    sums = {
        point.attributes["token_type"]: point.sum
        for point in reader.points("codex.turn.token_usage")
    }
    assert sums == TOKENS
    (tools,) = reader.points("codex.turn.tool.call")
    assert tools.sum == 1
    # The first token came before the first message, which came before the end.
    (ttft,) = reader.points("codex.turn.ttft.duration_ms")
    (ttfm,) = reader.points("codex.turn.ttfm.duration_ms")
    (e2e,) = reader.points("codex.turn.e2e_duration_ms")
    assert ttft.sum is not None and ttfm.sum is not None and e2e.sum is not None
    assert 0 <= ttft.sum <= ttfm.sum <= e2e.sum
    provider.shutdown()


def test_a_turn_records_its_first_token_as_codex_turn_ttft_once() -> None:
    with capture_events() as captured:
        scripted_turn(OtelEventManager(captured.provider, **METADATA))
        events = [normalise(event) for event in captured.events]
    names = [event["event.name"] for event in events]
    assert names.count("codex.turn_ttft") == 1
    # Right after the stream event that carried the first output.
    at = names.index("codex.turn_ttft")
    assert events[at - 1]["event.kind"] == "response.output_item.done"
    ttft = events[at]
    assert ttft["turn.id"] == "turn-1"
    assert isinstance(ttft["duration_ms"], int) and ttft["duration_ms"] >= 0


def test_without_a_first_token_a_turn_records_no_ttft() -> None:
    reader = InMemoryMetrics()
    provider = OtelProvider(None, metric_readers=[reader])
    manager = OtelEventManager(provider, **METADATA)
    with manager.turn():
        manager.sse_event("response.created", 0.01)
    assert set(turn_metrics(reader)) == {
        "codex.conversation.turn.count",
        "codex.turn.e2e_duration_ms",
        "codex.turn.tool.call",
    }
    provider.shutdown()


def test_every_point_carries_the_originator_and_session_source_and_a_set_service_name() -> None:
    reader = InMemoryMetrics()
    provider = OtelProvider(
        None, metric_readers=[reader], service_name="my-agent", originator="codex_exec"
    )
    manager = OtelEventManager(
        provider, conversation_id="c", model="gpt-5-codex", slug="gpt-5", session_source="cli"
    )
    manager.startup_phase("thread_start_total", 0.015, status="ready")
    (point,) = reader.points("codex.startup.phase.duration_ms")
    assert point.attributes == {
        "auth_mode": "unspecified",
        "model": "gpt-5-codex",
        "app.version": "unspecified",
        "originator": "codex_exec",
        "session_source": "cli",
        "service_name": "my-agent",  # set besides the originator: tagged, as Codex does
        "phase": "thread_start_total",
        "status": "ready",
    }
    provider.shutdown()
