"""The page as a tool, in chromium: the failing call's arguments and error in at most three
clicks from the first view, a detail panel with every attribute (copyable), search and filters
narrowing rows and charts, one zoomable time axis shared by a turn's timeline and waterfall."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.cli._view_pages import state_of
from tests.browser import Browser
from tests.test_view import page_of, record_session

DETAIL = """(() => ({
  shown: !document.getElementById("detail").hidden,
  title: document.getElementById("detail-title").innerText,
  meta: document.getElementById("detail-meta").innerText,
  rows: Object.fromEntries([...document.querySelectorAll("#detail tr")].map(
    (row) => [row.querySelector("th").innerText, row.querySelector("td").innerText])),
}))()"""

# What the filters leave: the rows of the open turns, the conversations, the charts' bars.
SHOWN = """(() => {
  const all = (selector) => [...document.querySelectorAll(selector)];
  const bars = (section, chart) => all(`#${section} figure[data-chart="${chart}"] rect.bar`)
    .filter((bar) => Number(bar.dataset.value) > 0)
    .map((bar) => [bar.dataset.tool || null, bar.dataset.series, Number(bar.dataset.value)]);
  return {
    conversations: all("#conversations li").map((li) => li.dataset.id),
    rows: all("section.turn ol.events li").map((li) => li.dataset.name),
    tools: bars("conv-charts", "tools"),
    session_tools: bars("session-charts", "tools"),
    api: bars("conv-charts", "api_latency"),
    note: document.getElementById("filter-note").innerText,
    version: document.body.dataset.version,
  };
})()"""


@pytest.fixture
def session(tmp_path: Path) -> Path:
    """The recorded turn (a tool fails), and a second conversation on another model."""
    path = tmp_path / "session.jsonl"
    record_session(path)
    config = OtelConfig.from_mapping({"exporter": {"otlp-file": {"path": str(path)}}})
    with OtelProvider.from_config(config) as provider:
        other = OtelEventManager(provider, conversation_id="conv-o3", model="o3", slug="o3")
        other.user_prompt(["and now?"])
        other.api_request(1, 1.5, status_code=200)
    return path


def _click(browser: Browser, selector: str) -> None:
    """A person's click (SVG elements have no click())."""
    browser.evaluate(
        f"document.querySelector({json.dumps(selector)})"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
    )


_ROWS = "document.querySelectorAll('section.turn ol.events li').length"


def test_the_failing_calls_arguments_and_error_are_one_click_away(session: Path) -> None:
    with page_of(session, _ROWS) as (store, browser):
        # The first view: the newest conversation (conv-o3, no failure) is shown; its entry
        # in the list says which one failed.
        badge = browser.evaluate(
            "[...document.querySelectorAll('#conversations li')]"
            ".filter((li) => li.querySelector('.badge')).map((li) => li.dataset.id)"
        )
        _click(browser, '#conversations li[data-id="conv-1234"]')  # click 1
        assert browser.wait_until("document.querySelectorAll('ol.events li.error').length === 1")
        _click(browser, "ol.events li.error")  # click 2: the failing call
        assert browser.wait_until("document.querySelectorAll('#detail tr').length > 0")
        event = browser.evaluate(DETAIL)
        browser.screenshot("view-detail-failing-call.png")
        _click(browser, "#detail-copy")
        copied = browser.wait_until(
            "['Copied', 'Selected: Ctrl-C copies']"
            ".includes(document.getElementById('detail-copy').innerText)"
        )
        copy = json.loads(browser.evaluate("document.getElementById('detail-json').value"))
        _click(browser, "svg.waterfall rect.span-bar.error")  # its span, for the status
        assert browser.wait_until(
            "document.getElementById('detail-title').innerText.startsWith('Span')"
        )
        span = browser.evaluate(DETAIL)
    assert badge == ["conv-1234"]
    stored = next(
        e for t in state_of(store)["conversations"][0]["turns"] for e in t["events"] if e["error"]
    )
    assert event["shown"] and event["title"] == "Event codex.tool_result"
    assert event["meta"].endswith(f"span {stored['span_id']}")
    # Every attribute, the common metadata included, each value whole.
    assert event["rows"] == {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in copy["attributes"].items()
    }
    assert (event["rows"]["arguments"], event["rows"]["output"]) == ('{"patch": "..."}', "rejected")
    assert event["rows"]["success"] == "false"
    assert event["rows"]["conversation.id"] == "conv-1234"
    assert copied and copy["name"] == "codex.tool_result" and copy["error"] is True
    assert span["title"] == "Span tool apply_patch"
    assert "status ERROR rejected" in span["meta"]


def _set(browser: Browser, script: str, before: str) -> dict[str, Any]:
    """Change a filter; what is shown once the page redrew for it."""
    browser.evaluate("document.body.dataset.version = ''")
    browser.evaluate(script)
    assert browser.wait_until("document.body.dataset.version !== ''")
    assert browser.wait_until(
        f"document.getElementById('filter-note').innerText !== {before!r} || true"
    )
    shown: dict[str, Any] = browser.evaluate(SHOWN)
    return shown


SELECT = """(() => {{ const s = document.getElementById({id!r}); s.value = {value!r};
  s.dispatchEvent(new Event("change")); }})()"""
SEARCH = """(() => {{ const s = document.getElementById("search"); s.value = {value!r};
  s.dispatchEvent(new Event("input")); }})()"""


def test_search_and_filters_narrow_rows_and_charts(session: Path) -> None:
    with page_of(session, _ROWS) as (_store, browser):
        _click(browser, '#conversations li[data-id="conv-1234"]')
        assert browser.wait_until("document.querySelectorAll('ol.events li.error').length === 1")
        everything = browser.evaluate(SHOWN)
        errors = _set(browser, "document.getElementById('errors-only').click()", "")
        browser.screenshot("view-filter-errors.png")
        both = _set(browser, SELECT.format(id="tool-filter", value="shell"), errors["note"])
        tool = _set(browser, "document.getElementById('errors-only').click()", both["note"])
        text = _set(browser, SELECT.format(id="tool-filter", value=""), tool["note"])
        text = _set(browser, SEARCH.format(value="REJECTED"), text["note"])
        model = _set(browser, SEARCH.format(value=""), text["note"])
        model = _set(browser, SELECT.format(id="model-filter", value="o3"), model["note"])
        browser.screenshot("view-filter-model.png")
    assert everything["conversations"] == ["conv-1234", "conv-o3"]
    assert everything["tools"] == [["apply_patch", "failed", 1], ["shell", "ok", 1]]
    assert errors["conversations"] == ["conv-1234"]
    assert errors["rows"] == ["codex.tool_result"]
    assert errors["tools"] == errors["session_tools"] == [["apply_patch", "failed", 1]]
    assert errors["note"] == "filtered: 1 conversation match; the charts show what matches"
    assert both["conversations"] == []  # no failing shell call
    assert tool["rows"] == ["codex.tool_decision", "codex.tool_result"]
    assert tool["tools"] == [["shell", "ok", 1]]
    assert text["rows"] == ["codex.tool_result"]  # "rejected", case aside
    assert text["tools"] == [["apply_patch", "failed", 1]]
    assert model["conversations"] == ["conv-o3"]
    assert model["rows"] == ["codex.user_prompt", "codex.api_request"]
    assert model["api"] == [[None, "events", 1]]


# A turn's two charts: their tick labels and x positions, and the range shown.
AXIS = """(() => {
  const turn = document.querySelector("section.turn.has-errors");
  const ticks = (svg) => [...svg.querySelectorAll(".tick-label")].map(
    (t) => [t.textContent, Number(t.getAttribute("x")).toFixed(1)]);
  return {
    timeline: ticks(turn.querySelector("svg.timeline")),
    waterfall: ticks(turn.querySelector("svg.waterfall")),
    range: turn.querySelector(".axis-range").innerText,
  };
})()"""


def test_a_turns_timeline_and_waterfall_share_one_zoomable_axis(session: Path) -> None:
    with page_of(session, _ROWS) as (_store, browser):
        _click(browser, '#conversations li[data-id="conv-1234"]')
        assert browser.wait_until("document.querySelectorAll('section.turn.has-errors svg').length")
        whole = browser.evaluate(AXIS)
        _click(browser, 'section.turn.has-errors button[data-action="zoom in"]')
        zoomed = browser.evaluate(AXIS)
        _click(browser, 'section.turn.has-errors button[data-action="pan right"]')
        panned = browser.evaluate(AXIS)
        browser.screenshot("view-zoomed-turn.png")
        _click(browser, 'section.turn.has-errors button[data-action="reset zoom"]')
        reset = browser.evaluate(AXIS)
    for view in (whole, zoomed, panned):
        assert view["timeline"] == view["waterfall"]  # one axis: same ticks, same places
        assert len(view["timeline"]) >= 4  # labelled along the axis, not only at its ends
    total = float(whole["range"].split(" of ")[1].removesuffix(" ms").replace("k", "e3"))
    assert whole["range"].startswith("showing 0 to ")
    assert zoomed["range"].startswith("showing ") and zoomed["range"] != whole["range"]
    assert panned["range"] != zoomed["range"]
    assert _px_per_ms(zoomed) == pytest.approx(2 * _px_per_ms(whole), rel=0.01)
    assert _px_per_ms(panned) == pytest.approx(_px_per_ms(zoomed), rel=0.01)
    assert reset == whole
    assert total > 0


def _ms(label: str) -> float:
    number, unit = label.split(" ")
    return float(number) * (1000 if unit == "s" else 1)


def _px_per_ms(view: dict[str, Any]) -> float:
    """The axis's scale, from its first two ticks."""
    (first, x1), (second, x2) = view["timeline"][:2]
    return (float(x2) - float(x1)) / (_ms(second) - _ms(first))


# The waterfall of the open turn: its rows as shown (a span's name, or the row standing for more).
ROWS = """[...document.querySelectorAll("section.turn.open svg.waterfall text")]
  .filter((t) => t.classList.contains("span-label") || t.classList.contains("more-spans"))
  .map((t) => t.textContent)"""


# Where a chart's drawing ends against its source line: [the lowest bar or label's bottom, the
# source line's top], in the chart's own units.
ABOVE_SOURCE = """((figure) => {
  const boxes = [...figure.querySelectorAll("svg > text:not(.source), svg > rect.bar")]
    .map((node) => node.getBBox());
  const source = figure.querySelector("svg > text.source").getBBox();
  return [Math.max(...boxes.map((box) => box.y + box.height)), source.y];
})(document.querySelector('#conv-charts figure[data-chart="tools"]'))"""

# The token chart's turn labels as drawn, left to right: [left, right] of each.
LABEL_SPANS = """[...document.querySelectorAll(
  '#conv-charts figure[data-chart="tokens"] .group-label')]
  .map((label) => label.getBBox()).map((box) => [box.x, box.x + box.width])"""


@contextlib.contextmanager
def _one_turn(path: Path, conversation: str, prompt: str) -> Iterator[OtelEventManager]:
    """A turn recorded to `path` (its events and spans), its prompt sent: the manager in it."""
    sink = {"otlp-file": {"path": str(path)}}
    config = OtelConfig.from_mapping({"exporter": sink, "trace_exporter": sink})
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(provider, conversation_id=conversation, model="m", slug="m")
        with manager.turn():
            manager.user_prompt([prompt])
            yield manager


def test_a_long_waterfall_shows_its_failures_and_folds_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    with _one_turn(path, "conv-long", "a hundred calls") as manager:
        for call in range(100):
            with manager.tool_span(f"tool{call}", f"call-{call}"):
                ok = call not in (37, 63)
                manager.tool_result(f"tool{call}", f"call-{call}", {}, 0.01, ok, "")
    with page_of(path, "document.querySelectorAll('svg.waterfall').length === 1") as (_, browser):
        folded = browser.evaluate(ROWS)
        charted = browser.evaluate(
            "[[...new Set([...document.querySelectorAll("
            "'#conv-charts figure[data-chart=\"tools\"] rect.bar')].map((b) => b.dataset.tool))],"
            " document.querySelector('#conv-charts figure[data-chart=\"tools\"] .source')"
            ".textContent]"
        )
        drawn_to, source_from = browser.evaluate(ABOVE_SOURCE)
        browser.screenshot("view-long-waterfall.png")
        browser.screenshot("view-long-waterfall-folded.png", "section.turn.open svg.waterfall")
        _click(browser, "svg.waterfall .more-spans")
        assert browser.wait_until(f"{ROWS}.length === 101")
        unfolded = browser.evaluate(ROWS)
    tools = [f"execute_tool tool{call}" for call in range(100)]
    assert folded == [
        "invoke_agent codex",
        *tools[:5],
        "… 32 more spans (show)",
        tools[37],
        "… 25 more spans (show)",
        tools[63],
        "… 31 more spans (show)",
        *tools[95:],
    ]
    assert unfolded == ["invoke_agent codex", *tools]
    # A hundred tools: the failing ones and the most called drawn, the rest said.
    drawn = ["tool0", "tool1", "tool2", "tool3", "tool37", "tool4", "tool5", "tool63"]
    assert charted == [
        drawn,
        "from the events · 92 more tools not drawn (the tool filter shows one)",
    ]
    assert drawn_to <= source_from  # the eight rows end above the line saying the rest


def test_many_turns_keep_the_token_charts_labels_apart(tmp_path: Path) -> None:
    path = tmp_path / "turns.jsonl"
    config = OtelConfig.from_mapping({"exporter": {"otlp-file": {"path": str(path)}}})
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(provider, conversation_id="conv-turns", model="m", slug="m")
        for turn in range(24):
            with manager.turn():
                manager.user_prompt([f"turn {turn}"])
                manager.sse_event_completed(
                    input_token_count=100 + turn, output_token_count=10, tool_token_count=110
                )
    ready = "document.querySelectorAll('section.turn').length === 24"
    with page_of(path, ready) as (_, browser):
        labels = browser.evaluate(
            '[...document.querySelectorAll(\'#conv-charts figure[data-chart="tokens"] '
            ".group-label')].map((t) => t.textContent)"
        )
        bars = browser.evaluate(
            "document.querySelectorAll('#conv-charts figure[data-chart=\"tokens\"] rect.bar')"
            ".length"
        )
        spans = browser.evaluate(LABEL_SPANS)
        browser.screenshot("view-many-turns.png")
    # Every turn's bars, every third turn labelled (8 labels of two digits fit under it).
    assert bars == 24 * 4
    assert labels == [f"turn {turn}" for turn in range(0, 24, 3)]
    # Drawn apart: each label ends before the next begins.
    assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans)), spans


# The two chart sections as a person reads them: each title, each chart's caption, the tools.
CHART_SECTIONS = """(() => {
  const all = (selector) => [...document.querySelectorAll(selector)];
  const section = (id) => ({
    captions: all(`#${id} figure.chart figcaption`).map((caption) => caption.innerText),
    tools: all(`#${id} figure[data-chart="tools"] rect.bar`)
      .filter((bar) => Number(bar.dataset.value) > 0)
      .map((bar) => [bar.dataset.tool, bar.dataset.series, Number(bar.dataset.value)]),
  });
  return {
    conversation: document.getElementById("conversation-title").innerText,
    charts: section("conv-charts"),
    session: document.getElementById("session-title").innerText,
    session_charts: section("session-charts"),
  };
})()"""


def test_each_conversations_charts_sit_beside_the_whole_sessions(session: Path) -> None:
    # The fixture's second conversation calls no tool: its charts show none, the session's
    # show the first conversation's.
    with page_of(session, _ROWS) as (_, browser):
        newest = browser.evaluate(CHART_SECTIONS)
        browser.screenshot("view-charts-per-conversation.png")
        _click(browser, '#conversations li[data-id="conv-1234"]')
        assert browser.wait_until(
            "document.getElementById('conversation-title').innerText.includes('conv-1234')"
        )
        assert browser.wait_until(
            "document.querySelectorAll('#conv-charts figure[data-chart=\"tools\"] rect.bar')"
            ".length > 0"
        )
        first = browser.evaluate(CHART_SECTIONS)
    tools = [["apply_patch", "failed", 1], ["shell", "ok", 1]]
    captions = [
        "Tokens per turn",
        "Request latency (ms)",
        "SSE wait (ms)",
        "Tools: success and mean duration",
    ]
    whole = {
        "captions": [
            "Request latency (ms), all conversations",
            "SSE wait (ms), all conversations",
            "Tools, all conversations",
        ],
        "tools": tools,
    }
    assert newest == {
        "conversation": "Conversation conv-o3 · o3",
        "charts": {"captions": captions, "tools": []},
        "session": "Whole session: 2 conversations",
        "session_charts": whole,
    }
    assert first == {
        "conversation": "Conversation conv-1234 · gpt-5-codex",
        "charts": {"captions": captions, "tools": tools},
        "session": "Whole session: 2 conversations",
        "session_charts": whole,
    }


def test_a_thousand_row_waterfall_opens_folded_by_level(tmp_path: Path) -> None:
    # A thousand calls, each running one more inside it (two thousand spans under the turn's):
    # the calls folded, their runs of siblings cut to the failing and the ends.
    path = tmp_path / "thousand.jsonl"
    with _one_turn(path, "conv-1000", "a thousand calls") as manager:
        for call in range(1000):
            with (
                manager.tool_span("shell", f"call-{call}"),
                manager.tool_span("apply_patch", f"patch-{call}"),
            ):
                ok = call != 500
                manager.tool_result("apply_patch", f"patch-{call}", {}, 0.01, ok, "")
    with page_of(path, "document.querySelectorAll('svg.waterfall').length === 1") as (_, browser):
        folded = browser.evaluate(ROWS)
        folds = browser.evaluate(
            "[...document.querySelectorAll('section.turn.open svg.waterfall .fold')]"
            ".map((t) => t.textContent[0])"
        )
        browser.screenshot("view-thousand-row-waterfall.png", "section.turn.open svg.waterfall")
    shell, patch = "execute_tool shell", "execute_tool apply_patch"
    assert folded == [
        "invoke_agent codex",
        *[shell] * 5,
        "… 495 more spans (show)",
        shell,
        patch,  # the failing call's subtree stays open
        "… 494 more spans (show)",
        *[shell] * 5,
    ]
    assert folds == ["▾", *["▸"] * 5, "▾", *["▸"] * 5]


# The open turn's event list as shown: each row's event (marked when it failed), or the row
# standing for more.
EVENT_ROWS = """[...document.querySelectorAll("section.turn.open ol.events li")]
  .map((li) => li.classList.contains("more-events") ? li.textContent
    : li.dataset.name + (li.classList.contains("error") ? " error" : ""))"""

# The open turn's span bars in row order: [its span's name, its classes].
BARS = """[...document.querySelectorAll("section.turn.open svg.waterfall rect.span-bar")]
  .map((bar) => [bar.dataset.span, bar.getAttribute("class")])"""


def test_a_long_turns_event_list_folds_and_its_failure_is_marked_up_the_tree(
    tmp_path: Path,
) -> None:
    # Seventy shell calls; the 42nd ran a patch that failed (its span's status left unset, as a
    # tool reporting failure in its result leaves it).
    path = tmp_path / "seventy.jsonl"
    with _one_turn(path, "conv-70", "seventy calls") as manager:
        for call in range(70):
            with manager.tool_span("shell", f"call-{call}"):
                if call == 41:
                    with manager.tool_span("apply_patch", "patch-41"):
                        manager.tool_result("apply_patch", "patch-41", {}, 0.01, False, "")
                else:
                    manager.tool_result("shell", f"call-{call}", {}, 0.01, True, "")
    with page_of(path, "document.querySelectorAll('svg.waterfall').length === 1") as (_, browser):
        folded = browser.evaluate(EVENT_ROWS)
        bars = browser.evaluate(BARS)
        numbers = browser.evaluate(
            "[...document.querySelectorAll('section.turn.open ol.events li:not(.more-events)')]"
            ".map((li) => li.value)"
        )
        browser.screenshot("view-long-event-list.png", "section.turn.open")
        _click(browser, "section.turn.open ol.events li.more-events")
        assert browser.wait_until(f"{EVENT_ROWS}.length === 71")
        unfolded = browser.evaluate(EVENT_ROWS)
    result = "codex.tool_result"
    assert folded == [
        "codex.user_prompt",
        *[result] * 9,
        "… 32 more events (show)",
        f"{result} error",
        "… 18 more events (show)",
        *[result] * 10,
    ]
    assert numbers == [*range(1, 11), 43, *range(62, 72)]  # each row keeps its place
    assert unfolded == ["codex.user_prompt", *[result] * 41, f"{result} error", *[result] * 28]
    plain, outlined, red = "span-bar", "span-bar has-failure", "span-bar error"
    shell = ["execute_tool shell", plain]
    assert bars == [
        ["invoke_agent codex", outlined],
        *[shell] * 5,
        ["execute_tool shell", outlined],  # the failing patch ran inside it
        ["execute_tool apply_patch", red],
        *[shell] * 5,
    ]
