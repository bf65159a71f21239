"""The page on a laptop's screen, in chromium: with the detail panel open and values far
longer than their boxes, nothing runs off the page or hides under the panel, and the text
drawn in the charts stays readable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.cli._view_pages import ViewStore
from tests.browser import Browser
from tests.test_view import RENDERED, _need_chromium, record_session, serving, wait_read

# A conversation id, a model, a tool and a prompt with no place to break a line.
LONG = "x" * 400

# Where things are drawn: the page's widths, the charts' right edges against the panel's
# left edge, and the smallest text in a chart or turn as rendered (its scale times its size).
GEOMETRY = """(() => {
  const panel = document.getElementById("detail").getBoundingClientRect();
  const figures = [...document.querySelectorAll("figure.chart")]
    .map((f) => f.getBoundingClientRect());
  const smallest = [...document.querySelectorAll("figure.chart svg, svg.timeline, svg.waterfall")]
    .map((svg) => Math.min(svg.getBoundingClientRect().width / svg.viewBox.baseVal.width,
      svg.getBoundingClientRect().height / svg.viewBox.baseVal.height)
      * Math.min(...[...svg.querySelectorAll("text")]
        .map((t) => parseFloat(getComputedStyle(t).fontSize))));
  return {
    page: document.documentElement.scrollWidth, viewport: window.innerWidth,
    panel_shown: !document.getElementById("detail").hidden, panel_left: panel.left,
    charts_right: Math.max(...figures.map((f) => f.right)),
    boxes: [...document.querySelectorAll("#conversations li, .turn h3")]
      .map((node) => node.getBoundingClientRect().right),
    selects: [...document.querySelectorAll("#filters select")]
      .map((node) => node.getBoundingClientRect().width),
    smallest_text: Math.min(...smallest),
  };
})()"""


def _session(path: Path) -> None:
    record_session(path)
    config = OtelConfig.from_mapping({"exporter": {"otlp-file": {"path": str(path)}}})
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(
            provider,
            conversation_id=f"conv-{LONG}",
            model=f"m-{LONG}",
            slug="m",
            log_user_prompt=True,
        )
        manager.user_prompt([f"p-{LONG}"])
        manager.tool_result(f"t-{LONG}", "call-1", {"a": LONG}, 0.01, False, LONG)


@pytest.mark.parametrize("width", [1280, 1400])
def test_a_laptop_screen_with_the_detail_panel_open_keeps_everything_on_the_page(
    tmp_path: Path, width: int
) -> None:
    _need_chromium()
    path = tmp_path / "long-values.jsonl"
    _session(path)
    store = ViewStore()
    with serving(store, files=[path]) as server, Browser() as browser:
        browser.open(server.url, width=width, height=800)
        wait_read(store, path)
        assert browser.wait_until(f"{RENDERED} === '{store.version}'")
        browser.evaluate(
            "document.querySelector('#conversations li[data-id=\"conv-1234\"]')"
            ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        assert browser.wait_until("document.querySelectorAll('ol.events li.error').length === 1")
        browser.evaluate(
            "document.querySelector('ol.events li.error')"
            ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
        )
        assert browser.wait_until("document.querySelectorAll('#detail tr').length > 0")
        seen = browser.evaluate(GEOMETRY)
        browser.screenshot(f"view-{width}-detail-open.png")
    assert seen["panel_shown"] and seen["page"] == seen["viewport"] == width
    assert seen["charts_right"] <= seen["panel_left"], json.dumps(seen)
    assert max(seen["boxes"]) <= seen["panel_left"], json.dumps(seen)
    assert max(seen["selects"]) <= 220, json.dumps(seen)  # a long model's name does not widen them
    assert seen["smallest_text"] >= 8, json.dumps(seen)
