"""`codex-otel view`: the store's model of conversations and turns, the page in a real headless
chromium (against a recorded file with spans, and live against a receiver fed by the demo's
session), and the command itself."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.cli._demo import fake_responses_api, run_session
from codex_otel.cli._view import ViewServer, live_receiver, serving
from codex_otel.cli._view_decode import read_line as read_otlp_line
from codex_otel.cli._view_files import FileFollower
from codex_otel.cli._view_model import Limits, ViewStore
from codex_otel.cli._view_pages import state_of
from codex_otel.export._factory import build_exporter
from tests.browser import CHROMIUM, Browser
from tests.cli import CLI
from tests.conftest import METADATA

DEMO_START = ["codex.conversation_starts", "codex.startup_phase"]
DEMO_TURN = [
    "codex.user_prompt",
    "codex.api_request",
    *["codex.sse_event"] * 2,
    "codex.turn_ttft",
    *["codex.sse_event"] * 5,
    "codex.tool_decision",
    "codex.tool_result",
    "codex.sandbox_outcome",
    "codex.guardian_assessment",
    "codex.tool_decision",
    "codex.tool_result",
    "codex.agent_response",
    # After the turn, before the next prompt: shown with the turn.
    "codex.plugin_install_elicitation_sent",
    "codex.plugin_install_suggestion",
]


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: .ci/install-chromium installs it (make test runs it)"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI installs it: its absence there is a broken set-up
    pytest.skip(message)


def record_session(path: Path) -> None:
    """A turn recorded with the otlp-file exporter (events, metrics and spans in one file):
    the model call and each tool in a span of their own, inside the turn's."""
    config = OtelConfig.from_mapping(
        {
            "exporter": {"otlp-file": {"path": str(path)}},
            "metrics_exporter": {"otlp-file": {"path": str(path)}},
        }
    )
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(build_exporter("traces", config.exporter)))
    tracer = tracing.get_tracer("test")
    with OtelProvider.from_config(config) as provider:
        otel = OtelEventManager(provider, **METADATA)
        otel.conversation_starts(
            provider_name="openai",
            reasoning_summary="auto",
            approval_policy="on-request",
            sandbox_policy="workspace-write",
        )
        with tracer.start_as_current_span("turn"):
            otel.user_prompt(["fix the failing test"])
            with tracer.start_as_current_span("model call"):
                otel.api_request(1, 0.8, status_code=200)
                otel.sse_event("response.created", 0.3)
                otel.sse_event_completed(
                    input_token_count=5000,
                    output_token_count=700,
                    cached_token_count=4000,
                    reasoning_token_count=300,
                    tool_token_count=5700,
                )
            with tracer.start_as_current_span("tool shell"):
                otel.tool_decision("shell", "call-1", "approved", "user")
                otel.tool_result("shell", "call-1", {"command": ["pytest"]}, 2.5, True, "1 passed")
            with tracer.start_as_current_span("tool apply_patch") as span:
                otel.tool_result("apply_patch", "call-2", {"patch": "..."}, 0.1, False, "rejected")
                span.set_status(Status(StatusCode.ERROR, "rejected"))
    tracing.shutdown()


RECORDED_TURN = [
    "codex.user_prompt",
    "codex.api_request",
    "codex.sse_event",
    "codex.sse_event",
    "codex.tool_decision",
    "codex.tool_result",
    "codex.tool_result",
]

# Metric series, one per instrument and tag set: the conversation start (and the process's and
# thread's), the request's count and duration, the SSE wait's count and duration, two tools'
# counts and durations, 5 token types, the GenAI request duration and its 2 token types.
RECORDED_COUNTS = {"events": 8, "spans": 4, "series": 19}


def wait_read(store: ViewStore, path: Path) -> None:
    """Until the follower read `path` to its end (it reads on its own thread)."""
    size = path.stat().st_size
    for _ in range(400):
        if state_of(store)["progress"].get(str(path)) == [size, size]:
            return
        time.sleep(0.025)
    raise AssertionError(f"{path} not read: {state_of(store)['progress']}")


@contextlib.contextmanager
def page_of(path: Path, ready: str) -> Iterator[tuple[ViewStore, Browser]]:
    """`path` in the page, in chromium: read to its end, drawn, and `ready` true."""
    _need_chromium()
    store = ViewStore()
    with serving(store, files=[path]) as server, Browser() as browser:
        browser.open(server.url)
        wait_read(store, path)
        assert browser.wait_until(f"{RENDERED} === '{store.version}'")
        assert browser.wait_until(ready)
        yield store, browser


# -- the model -------------------------------------------------------------------------


def test_a_recorded_file_becomes_conversation_turns_and_charts(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    store = ViewStore()
    assert all(read_otlp_line(line, store) for line in path.read_bytes().splitlines())
    state = state_of(store)
    (conversation,) = state["conversations"]
    assert (conversation["id"], conversation["events"], conversation["errors"]) == (
        "conv-1234",
        8,
        1,
    )
    start, turn = conversation["turns"]
    assert [event["name"] for event in start["events"]] == ["codex.conversation_starts"]
    assert [event["name"] for event in turn["events"]] == RECORDED_TURN
    assert turn["prompt"] == "[REDACTED]"  # shown as exported
    assert turn["tokens"] == {"input": 5000, "cached": 4000, "output": 700, "reasoning": 300}
    assert [event["error"] for event in turn["events"]] == [False] * 6 + [True]
    spans = {span["name"]: span for span in turn["spans"]}
    assert sorted(spans) == ["model call", "tool apply_patch", "tool shell", "turn"]
    assert spans["model call"]["parent_span_id"] == spans["turn"]["span_id"]
    assert spans["tool apply_patch"]["error"] is True
    pinned = {e["name"]: e["span_id"] for e in turn["events"] if e["name"] != "codex.sse_event"}
    assert pinned["codex.api_request"] == spans["model call"]["span_id"]
    assert pinned["codex.tool_decision"] == spans["tool shell"]["span_id"]
    charts = state["charts"]
    assert charts["tools"] == {
        "shell": {"ok": 1, "failed": 0, "duration_ms": 2500},
        "apply_patch": {"ok": 0, "failed": 1, "duration_ms": 100},
    }
    assert charts["tool_metrics"] == charts["tools"]
    assert sum(charts["api_latency"]["events"]) == sum(charts["api_latency"]["metrics"]) == 1
    assert charts["token_metrics"] == {
        "input": 5000,
        "cached_input": 4000,
        "output": 700,
        "reasoning_output": 300,
        "total": 5700,
    }


def test_the_store_keeps_the_newest_events_and_counts_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    store = ViewStore(Limits(max_events=3, max_spans=2, max_series=4))
    for line in path.read_bytes().splitlines():
        read_otlp_line(line, store)
    state = state_of(store)
    assert state["counts"] == {"events": 3, "spans": 2, "series": 4}
    assert state["dropped"] == {"events": 5, "spans": 2, "metric_points": 15}
    names = [e["name"] for t in state["conversations"][0]["turns"] for e in t["events"]]
    assert names == RECORDED_TURN[-3:]


def test_lines_that_are_not_otlp_are_skipped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    record_session(path)
    with path.open("a") as file:
        file.write('{"resource": {}}\nnot json\n')
    store = ViewStore()
    with serving(store, files=[path]):
        wait_read(store, path)
    assert state_of(store)["notes"] == [
        f"{path}: 2 lines are neither OTLP/JSON nor receive --output JSON; skipped"
    ]
    assert state_of(store)["bad_lines"] == {str(path): 2}
    assert state_of(store)["counts"]["events"] == 8


def test_every_poll_while_a_file_is_read_says_how_far_it_is(tmp_path: Path) -> None:
    # The conversations may be of an earlier version while a file is read (rebuilding them
    # for every poll would slow the reading), never the progress and the counts.
    path = tmp_path / "session.jsonl"
    record_session(path)
    lines = path.read_bytes().splitlines(keepends=True)
    size = path.stat().st_size
    store = ViewStore()
    server = ViewServer(store)
    try:
        done, seen, expected = 0, [], []
        for line in lines:
            read_otlp_line(line, store)
            done += len(line)
            store.set_progress(str(path), done, size)
            state = json.loads(server.api("state", {}) or b"")
            seen.append((state["progress"], state["counts"]))
            expected.append(({str(path): [done, size]}, store.take().header["counts"]))
    finally:
        server.server_close()
    assert seen == expected
    # Read to its end: the conversations too are of the last version.
    assert [c["events"] for c in state["conversations"]] == [RECORDED_COUNTS["events"]]


class _ProgressLog(ViewStore):
    """A store noting each progress it is told (unit test of what the follower says)."""

    def __init__(self) -> None:
        super().__init__()
        self.told: list[tuple[int, int]] = []

    def set_progress(self, path: str, done: int, size: int) -> None:
        self.told.append((done, size))
        super().set_progress(path, done, size)


def test_a_long_file_says_its_progress_from_the_start_of_its_reading(tmp_path: Path) -> None:
    # The page polls faster while a file is read: it must know so before the first 4 MiB.
    path = tmp_path / "long.jsonl"
    line = json.dumps({"event": "codex.tool_result", "attributes": {"output": "x" * 2048}})
    path.write_text((line + "\n") * 3000)  # ~6 MiB
    size = path.stat().st_size
    store = _ProgressLog()
    FileFollower([path], store).read_available()
    lines_in_4_mib = -(-(4 << 20) // (len(line) + 1))  # said at the first line ending past it
    assert store.told == [(0, size), (lines_in_4_mib * (len(line) + 1), size), (size, size)]


# -- the page, in chromium ---------------------------------------------------------------

# The page has drawn a state from the server (the body exists once the document is parsed).
RENDERED = "document.body !== null && document.body.dataset.version"

# What a person sees, read from the page as rendered (innerText: visible text only).
SEEN = """(() => {
  const text = (node) => node ? node.innerText.trim() : null;
  const all = (selector, root) => [...(root || document).querySelectorAll(selector)];
  const turns = all("section.turn").map((turn) => ({
    heading: text(turn.querySelector("h3")),
    events: all("ol.events li", turn).map((li) => li.dataset.name),
    errors: all("ol.events li.error", turn).map((li) => li.dataset.name),
    timeline_marks: all("svg.timeline .mark", turn).length,
    spans: all("svg.waterfall rect.span-bar", turn).map((bar) => bar.dataset.span),
    error_spans: all("svg.waterfall rect.span-bar.error", turn).map((bar) => bar.dataset.span),
    pins: all("svg.waterfall .pin", turn).length,
  }));
  const bars = (chart, section) =>
    all(`#${section || "conv-charts"} figure[data-chart="${chart}"] rect.bar`)
    .map((bar) => [bar.dataset.tool || null, bar.dataset.series, Number(bar.dataset.value)]);
  return {
    version: document.body.dataset.version || null,
    conversations: all("#conversations li").map(text),
    title: text(document.getElementById("conversation-title")),
    limits: text(document.getElementById("limits")),
    empty_hint_shown: !document.getElementById("empty").hidden,
    turns,
    charts: {tokens: bars("tokens"), api: bars("api_latency"), sse: bars("sse_wait"),
             tools: bars("tools")},
    session_charts: {api: bars("api_latency", "session-charts"),
                     sse: bars("sse_wait", "session-charts"),
                     tools: bars("tools", "session-charts")},
    session_title: text(document.getElementById("session-title")),
    chart_text: all("#conv-charts figure.chart").map(text),
    session_chart_text: all("#session-charts figure.chart").map(text),
  };
})()"""


def _nonzero(bars: list[list[Any]]) -> list[list[Any]]:
    return [bar for bar in bars if bar[2]]


def test_the_page_shows_a_recorded_file(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    with page_of(path, "document.querySelectorAll('svg.waterfall .span-bar').length") as (
        _store,
        browser,
    ):
        seen = browser.evaluate(SEEN)
        browser.screenshot("view-recorded-file.png")
    assert seen["conversations"] == [
        f"conv-1234 1 error\ngpt-5-codex · 2 turns · 8 events · {seen['conversations'][0][-12:]}"
    ]
    assert seen["title"] == "Conversation conv-1234 · gpt-5-codex"
    assert seen["limits"].startswith(
        "Memory cap: the newest 20,000 events and 20,000 spans, 2,000 metric series; values "
        "longer than 4096 characters are cut. Holding 8 events, "
    )
    assert not seen["empty_hint_shown"]
    start, turn = seen["turns"]
    # The start is folded (no failure, not the newest turn); the failing turn is open.
    assert start["heading"] == "▸ Turn 0: before the first prompt"
    assert start["events"] == []
    assert turn["heading"] == "▾ Turn 1: [REDACTED]"
    assert turn["events"] == RECORDED_TURN
    assert turn["errors"] == ["codex.tool_result"]
    assert turn["timeline_marks"] == len(RECORDED_TURN)
    assert turn["spans"] == ["turn", "model call", "tool shell", "tool apply_patch"]
    assert turn["error_spans"] == ["tool apply_patch"]
    assert turn["pins"] == len(RECORDED_TURN)  # every event of the turn on its span's row
    charts = seen["charts"]
    assert charts["tokens"] == [
        [None, "input", 5000],
        [None, "cached", 4000],
        [None, "output", 700],
        [None, "reasoning", 300],
    ]
    # The conversation's charts come from its events (metrics carry no conversation id) ...
    assert _nonzero(charts["api"]) == [[None, "events", 1]]
    assert sum(bar[2] for bar in charts["sse"] if bar[1] == "events") == 1
    tools = [
        ["apply_patch", "ok", 0],
        ["apply_patch", "failed", 1],
        ["shell", "ok", 1],
        ["shell", "failed", 0],
    ]
    assert charts["tools"] == tools
    assert seen["chart_text"][3].splitlines()[-4:] == [
        "apply_patch",
        "0 ok, 1 failed, mean 100 ms",
        "shell",
        "1 ok, 0 failed, mean 2.5k ms",
    ]
    # ... the whole session's beside them, titled so, with the metrics too.
    assert seen["session_title"] == "Whole session: 1 conversation"
    session = seen["session_charts"]
    assert _nonzero(session["api"]) == [[None, "events", 1], [None, "metrics", 1]]
    assert session["tools"] == tools
    assert seen["session_chart_text"][2].splitlines()[-4:] == [
        "apply_patch",
        "0 ok, 1 failed, mean 100 ms [1]",
        "shell",
        "1 ok, 0 failed, mean 2.5k ms [1]",
    ]


def test_the_page_follows_a_live_session_from_the_demo_without_reloading() -> None:
    _need_chromium()
    store = ViewStore()
    receiver = live_receiver(store, host="127.0.0.1", http_port=0, grpc_port=0)
    with serving(store, receiver=receiver) as server, Browser() as browser:
        browser.open(server.url)
        assert browser.wait_until(RENDERED)
        before = browser.evaluate(SEEN)
        browser.evaluate("window.loadedOnce = true")  # gone if the page reloads
        config = OtelConfig.from_mapping(
            {
                "exporter": {"otlp-grpc": {"endpoint": receiver.grpc_endpoint}},
                "metrics_exporter": {"otlp-http": {"endpoint": receiver.metrics_endpoint}},
                "trace_exporter": {"otlp-grpc": {"endpoint": receiver.grpc_endpoint}},
            }
        )
        conversation = str(uuid.uuid4())
        with fake_responses_api() as api_url, OtelProvider.from_config(config) as provider:
            manager = OtelEventManager(
                provider, conversation_id=conversation, model="gpt-5-codex", slug="gpt-5"
            )
            run_session(manager, api_url)
        shown = browser.wait_until(
            "document.querySelectorAll('svg.timeline').length === 1 && "
            "document.querySelectorAll('svg.waterfall rect.span-bar').length === 4 && "
            "document.querySelectorAll(`#conv-charts figure[data-chart='tools'] rect.bar`)"
            ".length === 4 && "
            "[...document.querySelectorAll(`#session-charts figure[data-chart='api_latency'] "
            "rect.bar`)].some((bar) => bar.dataset.series === 'metrics')"
        )
        seen = browser.evaluate(SEEN)
        still_loaded = browser.evaluate("window.loadedOnce === true")
        browser.screenshot("view-live-demo.png")
    assert (before["conversations"], before["empty_hint_shown"]) == ([], True)
    assert shown and still_loaded
    assert seen["title"] == f"Conversation {conversation} · gpt-5-codex"
    start, turn = seen["turns"]
    assert (start["heading"], start["events"]) == ("▸ Turn 0: before the first prompt", [])
    assert turn["heading"] == "▾ Turn 1: [REDACTED]"
    # The opt-in events are off: the table does not switch them on.
    opt_in = ("codex.agent_response", "codex.guardian_assessment")
    shown_events = [name for name in DEMO_TURN if name not in opt_in]
    assert turn["events"] == shown_events
    assert turn["errors"] == ["codex.tool_result"]
    # Live spans too: the turn's waterfall, its failed tool marked, each event pinned.
    assert turn["spans"] == [
        "invoke_agent codex",
        "chat gpt-5-codex",
        "execute_tool shell",
        "execute_tool read_file",
    ]
    assert turn["error_spans"] == ["execute_tool read_file"]
    # Every event but the plugin's two, recorded after the turn's span ended.
    assert turn["pins"] == len(shown_events) - 2
    assert seen["charts"]["tokens"] == [
        [None, "input", 1250],
        [None, "cached", 1024],
        [None, "output", 96],
        [None, "reasoning", 64],
    ]
    assert [bar for bar in seen["charts"]["tools"] if bar[2]] == [
        ["read_file", "failed", 1],
        ["shell", "ok", 1],
    ]


# -- the command -----------------------------------------------------------------------


@contextlib.contextmanager
def viewing(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [CLI, "view", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        # `listening:` when it receives (no FILE, or --listen), a `reading:` line per FILE.
        files = [arg for arg in args if not arg.startswith("-") and not arg.isdigit()]
        listens = "--listen" in args or not files
        lines = [process.stdout.readline() for _ in range(listens + len(files) + 1)]
        match = re.search(r"viewer: (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)", lines[-1])
        assert match, lines
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_view_command_serves_a_file_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    size = path.stat().st_size
    with viewing(str(path)) as (process, url):
        page = httpx.get(url)
        for _ in range(400):  # the file is read on its own thread, after the URL is printed
            state = httpx.get(url + "api/state").json()
            if state["progress"].get(str(path)) == [size, size]:
                break
            time.sleep(0.025)
        again = httpx.get(url + f"api/state?since={state['version']}").json()
        foreign = httpx.get(url, headers={"host": "attacker.example"})
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert '<script src="/static/view.js">' in page.text
    assert state["sources"] == [f"file {path} (followed as it grows)"]
    assert state["counts"] == RECORDED_COUNTS
    assert again == {"version": state["version"], "unchanged": True}
    assert foreign.status_code == 403
    assert (process.returncode, err) == (
        0,
        "stopped: showed 8 events, 19 metric series, 4 spans\n",
    )


def test_view_follows_a_file_as_it_grows(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_text("")
    store = ViewStore()
    with serving(store, files=[path]) as server:
        assert isinstance(server, ViewServer)
        record_session(path)
        for _ in range(200):  # the follower reads every half second
            if state_of(store)["counts"] == RECORDED_COUNTS:
                break
            time.sleep(0.05)
    assert state_of(store)["counts"] == RECORDED_COUNTS


def test_view_of_a_missing_file_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = subprocess.run(
        [CLI, "view", str(tmp_path / "nope.jsonl")], capture_output=True, text=True, timeout=30
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"codex-otel: {tmp_path / 'nope.jsonl'}: no such file\n"


def test_demo_records_what_it_sent_and_says_how_to_view_it(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "session.jsonl"
    result = subprocess.run(
        [CLI, "demo", "--record", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-4:] == [
        "",
        f"recorded to {path} (appended): events, spans and metrics as OTLP/JSON lines",
        f"see it as a picture: {CLI} view {path}",
        f"or live: {CLI} view (listens on 4318 and 4317), then in another terminal "
        f"{CLI} demo --config config/otel-view.toml",
    ]
    store = ViewStore()
    assert all(read_otlp_line(line, store) for line in path.read_bytes().splitlines())
    state = state_of(store)
    (conversation,) = state["conversations"]
    assert [[e["name"] for e in turn["events"]] for turn in conversation["turns"]] == [
        DEMO_START,
        DEMO_TURN,
    ]
    calls = {
        tool: (entry["ok"], entry["failed"])
        for tool, entry in state["charts"]["tool_metrics"].items()
    }
    assert calls == {"shell": (1, 0), "read_file": (0, 1)}


def test_view_without_files_listens_like_receive_and_shows_what_arrives() -> None:
    with viewing("--http-port", "0", "--grpc-port", "0") as (process, url):
        assert process.stdout is not None
        state = httpx.get(url + "api/state").json()
        (live,) = state["sources"]
        match = re.fullmatch(r"live: OTLP/HTTP (\S+), OTLP/gRPC (\S+)", live)
        assert match, live
        config = OtelConfig.from_mapping({"exporter": {"otlp-grpc": {"endpoint": match[2]}}})
        with OtelProvider.from_config(config) as provider:
            OtelEventManager(provider, **METADATA).user_prompt(["hi"])
        for _ in range(100):  # the receiver hands each export to the store as it arrives
            if httpx.get(url + "api/state").json()["counts"]["events"] == 1:
                break
            time.sleep(0.05)
        state = httpx.get(url + "api/state").json()
        ident = state["conversations"][0]["id"]
        everything = {"id": ident, "since": -1, "open": [f"seq {1}"]}
        detail = httpx.get(url + "api/conversation", params=everything).json()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    (conversation,) = state["conversations"]
    assert (conversation["id"], conversation["turns"], conversation["events"]) == (
        "conv-1234",
        1,
        1,
    )
    (turn,) = detail["turns"]
    assert [(e["name"], e["attributes"]["prompt"]) for e in turn["events"]] == [
        ("codex.user_prompt", "[REDACTED]")
    ]
    assert (process.returncode, err) == (0, "stopped: showed 1 events, 0 metric series, 0 spans\n")
