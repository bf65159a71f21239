"""Spans are grouped by turn, not by trace: with `TRACEPARENT` set every turn of a session shares
one trace id, and each turn's waterfall must still show its own spans only."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.cli._view_decode import read_line as read_otlp_line
from codex_otel.cli._view_model import ViewStore
from codex_otel.cli._view_pages import PageModel, state_of
from tests.conftest import METADATA
from tests.test_view import SEEN, page_of

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def record_two_turns(path: Path) -> None:
    """Two turns in one process started with TRACEPARENT: the first one's tool fails."""
    sink = {"otlp-file": {"path": str(path)}}
    config = OtelConfig.from_mapping(
        {"exporter": sink, "trace_exporter": sink, "log_user_prompt": True}
    )
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(provider, **METADATA)
        for tool, ok in (("apply_patch", False), ("shell", True)):
            with manager.turn():
                manager.user_prompt([f"use {tool}"])
                with manager.tool_span(tool, f"call-{tool}"):
                    manager.tool_result(tool, f"call-{tool}", {"x": 1}, 0.1, ok, "done")


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRACEPARENT", TRACEPARENT)
    path = tmp_path / "session.jsonl"
    record_two_turns(path)
    return path


def test_turns_sharing_one_trace_each_get_their_own_spans(session: Path) -> None:
    store = ViewStore()
    assert all(read_otlp_line(line, store) for line in session.read_bytes().splitlines())
    (conversation,) = state_of(store)["conversations"]
    first, second = conversation["turns"]
    spans = first["spans"] + second["spans"]
    assert {span["trace_id"] for span in spans} == {TRACE_ID}  # one trace for the session
    assert [span["name"] for span in first["spans"]] == [
        "invoke_agent codex",
        "execute_tool apply_patch",
    ]
    assert [span["name"] for span in second["spans"]] == [
        "invoke_agent codex",
        "execute_tool shell",
    ]
    assert [e["name"] for e in first["events"]] == ["codex.user_prompt", "codex.tool_result"]
    turn_span = PageModel(store.take()).item("span", first["spans"][0]["span_id"])
    assert turn_span is not None and first["turn_id"] == turn_span["attributes"]["turn.id"]
    assert second["turn_id"] not in (None, first["turn_id"])
    assert (first["errors"], second["errors"]) == (1, 0)


def test_the_page_shows_each_turn_its_own_spans_under_one_trace(session: Path) -> None:
    ready = "document.querySelectorAll('svg.waterfall').length === 2"
    with page_of(session, ready) as (_, browser):
        seen = browser.evaluate(SEEN)
        browser.screenshot("view-turns-under-one-trace.png")
    first, second = seen["turns"]
    assert (first["heading"], second["heading"]) == (
        "▾ Turn 0: use apply_patch",
        "▾ Turn 1: use shell",
    )
    assert first["spans"] == ["invoke_agent codex", "execute_tool apply_patch"]
    assert second["spans"] == ["invoke_agent codex", "execute_tool shell"]
    assert (first["pins"], second["pins"]) == (2, 2)
