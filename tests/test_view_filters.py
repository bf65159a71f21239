"""The page's filters and error counts on a conversation of six turns, two of them failing a
tool call whose event was recorded outside its span (as Codex's are: they carry no span id):
each failure counted once, a filtered turn keeping its number and prompt, the model filter
keeping a turn's spans."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from codex_otel.cli._view import serving
from codex_otel.cli._view_model import ViewStore
from tests.browser import Browser
from tests.test_view import _need_chromium, wait_read

BASE = 1_796_642_399_000_000_000
FAILING = (2, 4)
TRACE = "0af7651916cd43dd8448eb211c80319c"


def _event(turn: int, offset: int, **attributes: str) -> dict[str, Any]:
    values = {"conversation.id": "c", "turn.id": f"t{turn}", "model": "m1", **attributes}
    return {
        "timeUnixNano": str(BASE + turn * 10**10 + offset),
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in values.items()],
    }


def _span(
    turn: int, index: int, name: str, failed: bool = False, **attributes: str
) -> dict[str, Any]:
    span: dict[str, Any] = {
        "traceId": TRACE,
        "spanId": f"{turn:08x}{index:08x}",
        "parentSpanId": f"{turn:08x}{0:08x}" if index else "",
        "name": name,
        "startTimeUnixNano": str(BASE + turn * 10**10 + index),
        "endTimeUnixNano": str(BASE + turn * 10**10 + 10**9),
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attributes.items()],
    }
    if failed:
        span["status"] = {"code": 2, "message": "exit 1"}
    return span


def _session(path: Path) -> None:
    """Six turns of six spans each; turns 2 and 4 fail a shell call."""
    events, spans = [], []
    for turn in range(6):
        failing = turn in FAILING
        events.append(_event(turn, 0, **{"event.name": "codex.user_prompt", "prompt": f"p{turn}"}))
        events.append(_event(turn, 1, **{"event.name": "codex.api_request", "duration_ms": "5"}))
        result = {"event.name": "codex.tool_result", "tool_name": "shell", "call_id": f"call{turn}"}
        events.append(_event(turn, 2, **result, success="false" if failing else "true"))
        spans.append(_span(turn, 0, "invoke_agent", **{"turn.id": f"t{turn}"}))
        spans.append(_span(turn, 1, "chat m1", **{"gen_ai.request.model": "m1"}))
        tool = {"gen_ai.tool.name": "shell", "gen_ai.tool.call.id": f"call{turn}"}
        spans.append(_span(turn, 2, "execute_tool shell", failing, **tool))
        spans += [_span(turn, index, f"step {index}") for index in range(3, 6)]
    logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": events}]}]}
    traces = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    path.write_text(json.dumps(logs) + "\n" + json.dumps(traces) + "\n")


def _views(path: Path, *queries: str) -> list[Any]:
    store = ViewStore()
    with serving(store, files=[path]) as server:
        wait_read(store, path)
        answers = [httpx.get(server.url + query, timeout=10) for query in queries]
    return [
        answer.json() if answer.status_code == 200 else answer.status_code for answer in answers
    ]


def _headers(conversation: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (turn["index"], turn["prompt"], turn["errors"], turn["event_count"], turn["span_count"])
        for turn in conversation["turns"]
    ]


def test_a_failed_call_counts_once_though_its_event_was_outside_its_span(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    _session(path)
    state, failures = _views(path, "api/state", "api/state?errors=1")
    assert [(c["id"], c["errors"]) for c in state["conversations"]] == [("c", 2)]
    assert [(c["id"], c["errors"]) for c in failures["conversations"]] == [("c", 2)]


def test_a_turn_filtered_for_errors_keeps_its_number_and_prompt(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    _session(path)
    (failures,) = _views(path, "api/conversation?id=c&errors=1")
    # Of each failing turn: its failed event, and its failed span.
    assert _headers(failures) == [(2, "p2", 1, 1, 1), (4, "p4", 1, 1, 1)]


def test_the_model_filter_keeps_the_spans_of_the_turns_it_keeps(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    _session(path)
    everything, model = _views(path, "api/conversation?id=c", "api/conversation?id=c&model=m1")
    other = _views(path, "api/conversation?id=c&model=m2")
    whole = [(turn, f"p{turn}", int(turn in FAILING), 3, 6) for turn in range(6)]
    assert (_headers(everything), _headers(model), other) == (whole, whole, [404])


ROWS = (
    "[...document.querySelectorAll('section.turn')]"
    ".map((s) => s.querySelectorAll('ol.events li').length)"
)
HEADINGS = "[...document.querySelectorAll('section.turn .turn-head')].map((h) => h.innerText)"


@contextlib.contextmanager
def _page(path: Path) -> Iterator[Browser]:
    """The page of `_session`, written to `path`, its six turns drawn."""
    _need_chromium()
    _session(path)
    store = ViewStore()
    with serving(store, files=[path]) as server, Browser() as browser:
        browser.open(server.url)
        wait_read(store, path)
        assert browser.wait_until(f"{HEADINGS}.length === 6")
        yield browser


def _append(path: Path, *events: dict[str, Any]) -> None:
    with path.open("a") as file:
        file.write(json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": events}]}]}))
        file.write("\n")


def test_the_page_filtered_for_errors_shows_the_failing_turns_by_number(tmp_path: Path) -> None:
    with _page(tmp_path / "session.jsonl") as browser:
        badge = browser.evaluate("document.querySelector('#conversations .badge').innerText")
        browser.evaluate("document.getElementById('errors-only').click()")
        assert browser.wait_until(f"{HEADINGS}.length === 2")
        headings = browser.evaluate(HEADINGS)
        browser.screenshot("view-errors-only.png")
    assert badge == "2 errors"
    assert [heading[2:] for heading in headings] == ["Turn 2: p2", "Turn 4: p4"]


def test_a_poll_sends_only_the_headers_of_turns_changed_since(tmp_path: Path) -> None:
    """With thousands of turns, every poll re-sent every header (922 KB for 3,000 turns after
    101 new events): an unchanged turn comes as its key and number."""
    path = tmp_path / "session.jsonl"
    _session(path)
    store = ViewStore()
    with serving(store, files=[path]) as server:
        wait_read(store, path)
        since = store.header()["version"]
        _append(path, _event(5, 3, **{"event.name": "codex.api_request", "duration_ms": "7"}))
        wait_read(store, path)
        # Turn 5 open, turn 1 open (unchanged: the page holds it), turn 0 just opened.
        query = f"api/conversation?id=c&since={since}&open=turn t5&open=turn t1&whole=turn t0"
        turns = httpx.get(server.url + query, timeout=10).json()["turns"]
    unchanged = [{"key": f"turn t{turn}", "index": turn} for turn in range(1, 5)]
    assert turns[1:5] == unchanged
    opened = turns[0]
    assert (opened["key"], opened["index"], opened["prompt"], len(opened["events"])) == (
        "turn t0",
        0,
        "p0",
        3,
    )
    (last,) = turns[5:]
    assert (last["key"], last["index"], last["prompt"], last["event_count"]) == (
        "turn t5",
        5,
        "p5",
        4,
    )
    assert [event["name"] for event in last["events"]] == [
        "codex.user_prompt",
        "codex.api_request",
        "codex.tool_result",
        "codex.api_request",
    ]


def test_the_page_keeps_the_turns_a_poll_sends_as_keys(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    with _page(path) as browser:
        _append(
            path,
            _event(5, 3, **{"event.name": "codex.api_request", "duration_ms": "7"}),
            _event(6, 0, **{"event.name": "codex.user_prompt", "prompt": "p6"}),
        )
        assert browser.wait_until(f"{HEADINGS}.length === 7")
        headings = browser.evaluate(HEADINGS)
        rows = browser.evaluate(ROWS)
        # A click opens turn 0: its body fetched by key, the other headers as held.
        browser.evaluate("document.querySelector('section.turn .turn-head').click()")
        assert browser.wait_until(f"{ROWS}[0] === 3")
        opened = browser.evaluate(f"[{ROWS}, {HEADINGS}]")
    assert [heading[2:] for heading in headings] == [f"Turn {turn}: p{turn}" for turn in range(7)]
    # Open: the failing turns' newest (4) and the last (6), with their rows.
    assert rows == [0, 0, 0, 0, 3, 0, 1]
    assert opened == [[3, 0, 0, 0, 3, 0, 1], ["▾" + headings[0][1:], *headings[1:]]]
