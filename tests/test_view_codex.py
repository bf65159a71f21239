"""Codex's own telemetry in the viewer, from a recorded session of the real Codex CLI 0.169.0
(`tests/data/codex-0.169.0/`, recorded by the upstream-parity runner, `make interop-codex`):
events named by `event.name` (Codex fills the OTLP EventName with a source location), numbers
sent as strings counted, no record time (its `event.timestamp` used), Codex's spans placed in
the turn they ran in."""

from __future__ import annotations

from pathlib import Path

from codex_otel.cli._view_decode import read_line
from codex_otel.cli._view_model import ViewStore
from codex_otel.cli._view_pages import state_of
from tests.test_view import SEEN, _nonzero, page_of

CAPTURE = Path(__file__).parent / "data" / "codex-0.169.0" / "session.jsonl"
CONVERSATION = "01a24e72-a58a-72a3-a54a-ba9cbafd64e9"
PROMPT = "Run `echo interop` and tell me what it printed."
TURN = [
    "codex.user_prompt",
    "codex.api_request",
    "codex.sse_event",
    "codex.sse_event",
    "codex.turn_ttft",
    "codex.sse_event",
    "codex.sse_event",
    "codex.tool_decision",
    "codex.tool_result",
    "codex.api_request",
    *["codex.sse_event"] * 7,
    "codex.agent_response",
]


def test_a_codex_session_becomes_its_conversation_turns_and_charts() -> None:
    store = ViewStore()
    assert all(read_line(line, store) for line in CAPTURE.read_bytes().splitlines())
    state = state_of(store)
    assert state["counts"] == {"events": 22, "spans": 537, "series": 184}
    stray, codex = state["conversations"]
    # One DEBUG record of Codex's metrics client, with no attributes at all.
    assert (stray["id"], stray["events"]) == ("(no conversation.id)", 1)
    assert (codex["id"], codex["model"], codex["events"], codex["errors"]) == (
        CONVERSATION,
        "gpt-5.1-codex",
        21,
        0,
    )
    start, turn = codex["turns"]
    assert [e["name"] for e in start["events"]] == [
        "codex.conversation_starts",
        "codex.startup_phase",
        "codex.startup_phase",
    ]
    assert [e["name"] for e in turn["events"]] == TURN
    assert (turn["prompt"], turn["turn_id"]) == (PROMPT, "01a24e72-a5b8-7062-beb0-dcb1f6897e26")
    # Token counts sent as strings ("2300") and as numbers, both counted.
    assert turn["tokens"] == {"input": 4700, "cached": 2048, "output": 60, "reasoning": 16}
    # The prompt's time is its event.timestamp (Codex's records carry no time).
    assert turn["events"][0]["time"] == 1796612466163000000
    # Every span in a turn: the turn's own (turn.id, ancestors, its trace, its time).
    assert (len(start["spans"]), len(turn["spans"])) == (131, 406)
    sampling = [s for s in turn["spans"] if s["name"] == "codex.sampling"]
    assert len(sampling) == 2
    charts = state["charts"]
    assert charts["tools"] == {"exec_command": {"ok": 1, "failed": 0, "duration_ms": 51}}
    assert sum(charts["api_latency"]["events"]) == 2  # "13" and "8" ms, sent as strings
    assert charts["token_metrics"]["input"] == 4700


def test_the_page_shows_a_codex_session() -> None:
    ready = "document.querySelectorAll('svg.waterfall').length === 1"
    with page_of(CAPTURE, ready) as (_, browser):
        seen = browser.evaluate(SEEN)
        waterfall = browser.evaluate(
            "(() => { const w = document.querySelector('svg.waterfall');"
            " return [Number(w.dataset.rows), Number(w.dataset.spans)]; })()"
        )
        browser.screenshot("view-codex-session.png")
    assert seen["title"] == f"Conversation {CONVERSATION} · gpt-5.1-codex"
    start, turn = seen["turns"]
    assert (start["heading"], start["events"]) == ("▸ Turn 0: before the first prompt", [])
    assert turn["heading"] == f"▾ Turn 1: {PROMPT}"
    assert turn["events"] == TURN
    assert seen["charts"]["tokens"] == [
        [None, "input", 4700],
        [None, "cached", 2048],
        [None, "output", 60],
        [None, "reasoning", 16],
    ]
    assert sum(bar[2] for bar in _nonzero(seen["charts"]["api"])) == 2
    assert _nonzero(seen["charts"]["tools"]) == [["exec_command", "ok", 1]]
    # 406 spans, folded below their first level (a long waterfall opens collapsed).
    rows, spans = waterfall
    assert (rows, spans) == (23, 406)


def test_the_page_shows_the_conversation_not_a_stray_record_arriving_last(tmp_path: Path) -> None:
    """Codex's metrics client sends one record with no attributes; live, it arrives (its
    observed time) after the conversation, and must not be what the page shows first."""
    lines = CAPTURE.read_text().splitlines()
    (stray,) = [line for line in lines if "client.rs:324" in line]
    later = stray.replace('"time_unix_nano": 0', '"time_unix_nano": 1796612999000000000')
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join([line for line in lines if line != stray] + [later]) + "\n")
    ready = "document.querySelectorAll('svg.waterfall').length === 1"
    with page_of(path, ready) as (_, browser):
        listed = browser.evaluate(
            "[...document.querySelectorAll('#conversations li')]"
            ".map((li) => [li.dataset.id, li.classList.contains('selected')])"
        )
        seen = browser.evaluate(SEEN)
    assert listed == [[CONVERSATION, True], ["(no conversation.id)", False]]
    assert seen["title"] == f"Conversation {CONVERSATION} · gpt-5.1-codex"
