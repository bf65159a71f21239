"""What was exported is shown as text: markup in a prompt, a tool's name and output, a model, an
error, a conversation id or a span's name creates no element and runs no script on the page."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.cli._view import serving
from codex_otel.cli._view_model import ViewStore
from codex_otel.export._factory import build_exporter
from tests.browser import Browser
from tests.conftest import METADATA
from tests.test_view import RENDERED, _need_chromium

IMG = "<img src=x onerror=window.pwned=1>"
BOLD = "<b>bold</b>"
SCRIPT = "<script>window.pwned=2</script>"
MARKUP = f"{IMG}{BOLD}{SCRIPT}"


def record_markup(path: Path) -> None:
    """A turn whose every shown value is markup, recorded with the otlp-file exporter."""
    config = OtelConfig.from_mapping(
        {"exporter": {"otlp-file": {"path": str(path)}}, "log_user_prompt": True}
    )
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(build_exporter("traces", config.exporter)))
    tracer = tracing.get_tracer("test")
    metadata = {**METADATA, "conversation_id": f"conv {BOLD}", "model": f"model {MARKUP}"}
    with OtelProvider.from_config(config) as provider:
        otel = OtelEventManager(provider, **metadata)
        with tracer.start_as_current_span(f"turn {MARKUP}"):
            otel.user_prompt([f"prompt {MARKUP}"])
            otel.api_request(1, 0.8, status_code=500, error=f"error {MARKUP}")
            with tracer.start_as_current_span(f"tool {MARKUP}") as span:
                otel.tool_result(
                    f"tool {BOLD}", "call-1", {"cmd": MARKUP}, 0.2, False, f"output {MARKUP}"
                )
                span.set_status(Status(StatusCode.ERROR, f"status {MARKUP}"))
    tracing.shutdown()


# Elements markup would have made, whether a script ran, and the text a person reads.
PAGE = """(() => ({
  made: document.querySelectorAll("img, b, script:not([src]), main script, nav script").length,
  ran: window.pwned === undefined ? null : window.pwned,
  text: document.body.innerText,
  svg_text: [...document.querySelectorAll("svg text, svg title")]
    .map((n) => n.textContent).join("\\n"),
}))()"""


# The detail panel's rows: attribute -> value, as a person reads them.
DETAIL = """Object.fromEntries([...document.querySelectorAll("#detail tr")].map(
  (row) => [row.querySelector("th").innerText, row.querySelector("td").innerText]))"""


def test_markup_in_every_shown_value_is_literal_text(tmp_path: Path) -> None:
    _need_chromium()
    path = tmp_path / "markup.jsonl"
    record_markup(path)
    with serving(ViewStore(), files=[path]) as server, Browser() as browser:
        browser.open(server.url)
        assert browser.wait_until(RENDERED)
        assert browser.wait_until(
            "document.querySelectorAll('svg.waterfall rect.span-bar').length === 2"
        )
        seen = browser.evaluate(PAGE)
        browser.screenshot("view-markup-as-text.png")
        # The detail panel shows every value whole, as text too.
        browser.evaluate(
            "document.querySelector('ol.events li.error[data-name=\"codex.tool_result\"]').click()"
        )
        assert browser.wait_until("document.querySelectorAll('#detail tr').length > 0")
        panel = browser.evaluate(PAGE)
        cells = browser.evaluate(DETAIL)
        browser.screenshot("view-markup-detail.png")
    assert (seen["made"], seen["ran"]) == (0, None)
    text = seen["text"]
    for shown in (
        f"Conversation conv {BOLD} · model {MARKUP}",  # the title
        f"Turn 0: prompt {MARKUP}",  # the prompt, opted in
        f"error.message=error {IMG[:-1]}…",  # the failed request's error, cut in the summary
        f"tool_name=tool {BOLD}",
        "output=" + f"output {MARKUP}"[:79] + "…",  # cut in the summary too
    ):
        assert shown in text, (shown, text)
    assert f"tool {BOLD}" in seen["svg_text"]  # the tools chart's label
    assert f"turn {MARKUP}" in seen["svg_text"]  # the waterfall's span name (tooltip)
    assert f"status {MARKUP}" in seen["svg_text"]
    assert (panel["made"], panel["ran"]) == (0, None)
    assert (cells["tool_name"], cells["output"]) == (f"tool {BOLD}", f"output {MARKUP}")
    assert cells["arguments"] == '{"cmd": "' + MARKUP + '"}'
