"""`codex-otel view` against odd values a sender may export: numbers that are not finite, times
out of any calendar, a record with no attributes at all. The page keeps serving, and a view that
fails to build is answered 500 and said once, not a page stuck for good."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from codex_otel.cli._view import serving
from codex_otel.cli._view_model import Snapshot, ViewStore
from tests.browser import Browser
from tests.test_view import _need_chromium, wait_read


def _record(*attributes: tuple[str, str], time_unix_nano: str = "1796642399820260287") -> bytes:
    """One OTLP/JSON line of one log record, its values sent as strings (as Codex sends them)."""
    record = {
        "timeUnixNano": time_unix_nano,
        "attributes": [{"key": key, "value": {"stringValue": value}} for key, value in attributes],
    }
    line = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
    return json.dumps(line).encode() + b"\n"


def _tool_result(duration: str, conversation: str = "") -> bytes:
    attributes = [
        ("event.name", "codex.tool_result"),
        ("tool_name", "shell"),
        ("duration_ms", duration),
    ]
    if conversation:
        attributes.append(("conversation.id", conversation))
    return _record(*attributes)


def _get(url: str, path: str) -> httpx.Response:
    return httpx.get(url + path, timeout=10)


@pytest.mark.parametrize("duration", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_duration_that_is_not_finite_counts_as_none(tmp_path: Path, duration: str) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(_tool_result(duration, "c1") + _tool_result("42", "c1"))
    store = ViewStore()
    with serving(store, files=[path]) as server:
        wait_read(store, path)
        state = _get(server.url, "api/state")
        conversation = _get(server.url, "api/conversation?id=c1")
    assert (state.status_code, conversation.status_code) == (200, 200)
    tools = {"shell": {"ok": 2, "failed": 0, "duration_ms": 42}}
    assert (state.json()["charts"]["tools"], conversation.json()["charts"]["tools"]) == (
        tools,
        tools,
    )


class _FailingOnce(ViewStore):
    """A store whose snapshot breaks once (as an unforeseen bug in building a view would)."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 2

    def take(self) -> Snapshot:
        if self.failures:
            self.failures -= 1
            raise OverflowError("cannot convert float infinity to integer")
        return super().take()


def test_a_view_that_fails_is_a_500_said_once_and_the_page_keeps_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(_tool_result("42", "c1"))
    store = _FailingOnce()
    answers: list[tuple[int, Any]] = []
    with serving(store, files=[path], err=sys.stderr) as server:
        for _ in range(400):  # until read (the failing snapshots are the first two asked)
            if store.header()["counts"]["events"]:
                break
            time.sleep(0.025)
        for _ in range(3):
            answer = _get(server.url, "api/state")
            body = answer.text if answer.status_code != 200 else answer.json()["counts"]
            answers.append((answer.status_code, body))
    message = (
        "the viewer failed to build this view: OverflowError: cannot convert float infinity "
        "to integer"
    )
    assert answers == [
        (500, message + "\n"),
        (500, message + "\n"),
        (200, {"events": 1, "spans": 0, "series": 0}),
    ]
    assert capsys.readouterr().err == f"codex-otel: {message}\n"


def _span_line(start: str, end: str) -> bytes:
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "name": "far",
        "startTimeUnixNano": start,
        "endTimeUnixNano": end,
    }
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode() + b"\n"


def test_a_time_out_of_any_calendar_is_no_time_and_said(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    prompt = ("event.name", "codex.user_prompt")
    path.write_bytes(
        _record(prompt, ("conversation.id", "sane"))
        + _record(prompt, ("conversation.id", "far"), time_unix_nano="99999999999999999999999")
        + _record(prompt, ("conversation.id", "before"), time_unix_nano="-5")
        + _span_line("1796642399820260287", "99999999999999999999999")
    )
    store = ViewStore()
    with serving(store, files=[path]) as server:
        wait_read(store, path)
        state = _get(server.url, "api/state").json()
        far = _get(server.url, "api/conversation?id=far").json()
        spans = _get(server.url, "api/conversation?id=(spans without events)&open=spans").json()
    # Untimed, they sort first: the newest (shown by default) is the one with a real time.
    assert [(c["id"], c["start"], c["end"]) for c in state["conversations"]] == [
        ("far", 0, 0),
        ("before", 0, 0),
        ("sane", 1796642399820260287, 1796642399820260287),
        ("(spans without events)", 1796642399820260287, 1796642399820260287),
    ]
    assert [(turn["start"], turn["end"]) for turn in far["turns"]] == [(0, 0)]
    (span,) = spans["turns"][0]["spans"]
    assert (span["start"], span["end"]) == (1796642399820260287, 1796642399820260287)
    assert state["notes"] == [
        "3 records carried a time before 1970 or after 9999: shown without one "
        "(an event at its event.timestamp, if any)"
    ]


class _Broken(ViewStore):
    """A store whose snapshot breaks while `broken` is set."""

    broken = True

    def take(self) -> Snapshot:
        if self.broken:
            raise OverflowError("cannot convert float infinity to integer")
        return super().take()


def test_the_page_says_a_view_failed_and_recovers_when_it_builds_again(tmp_path: Path) -> None:
    _need_chromium()
    path = tmp_path / "session.jsonl"
    path.write_bytes(_tool_result("42", "c1"))
    store = _Broken()
    live = "(document.getElementById('live')?.innerText ?? '')"
    with serving(store, files=[path]) as server, Browser() as browser:
        browser.open(server.url)
        assert browser.wait_until(f"{live}.startsWith('the viewer failed')")
        failed = browser.evaluate(live)
        store.broken = False
        assert browser.wait_until(f"{live}.startsWith('live')")
        assert browser.wait_until("document.querySelectorAll('#conversations li').length === 1")
    assert failed == (
        "the viewer failed to build this view: OverflowError: cannot convert float infinity "
        "to integer; retrying…"
    )
