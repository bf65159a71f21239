"""`codex_otel.testing.capture_events`: what users' own tests see, as plain dicts."""

from __future__ import annotations

from codex_otel import OtelEventManager, ToolResultConfig
from codex_otel.testing import capture_events
from tests.conftest import METADATA, normalise

COMMON = {
    "conversation.id": METADATA["conversation_id"],
    "model": METADATA["model"],
    "slug": METADATA["slug"],
    "originator": "codex-cli",  # none given: the provider's, its service name
}


def test_each_event_is_a_dict_of_its_whole_attribute_set_in_order() -> None:
    with capture_events() as captured:
        otel = OtelEventManager(
            captured.provider,
            conversation_id=METADATA["conversation_id"],
            model=METADATA["model"],
            slug=METADATA["slug"],
        )
        otel.user_prompt(["fix the bug"])
        otel.tool_decision("shell", "call-1", "approved", "user")
    assert [normalise(event) for event in captured.events] == [
        {
            "event.name": "codex.user_prompt",
            "event.timestamp": "<ts>",
            **COMMON,
            "prompt_length": 11,
            "prompt": "[REDACTED]",
        },
        {
            "event.name": "codex.tool_decision",
            "event.timestamp": "<ts>",
            **COMMON,
            "tool_name": "shell",
            "call_id": "call-1",
            "decision": "approved",
            "source": "User",
        },
    ]
    assert captured.names() == ["codex.user_prompt", "codex.tool_decision"]


def test_the_options_reach_managers_through_the_provider() -> None:
    options = ToolResultConfig(max_bytes=4, scrub_secrets=False)
    with capture_events(log_user_prompt=True, tool_result=options) as captured:
        otel = OtelEventManager(captured.provider, conversation_id="c", model="m", slug="s")
        otel.user_prompt(["hello"])
        otel.tool_result("shell", "call-1", "abcdefgh", 0.0, True, "ok")
    prompt, tool = captured.events
    assert prompt["prompt"] == "hello"
    assert (tool["arguments"], tool["arguments_original_bytes"]) == ("abcd…[truncated]", 8)


def test_records_are_the_sdk_log_records_with_severity_and_body() -> None:
    with capture_events() as captured:
        OtelEventManager(captured.provider, conversation_id="c", model="m", slug="s").sse_event(
            "response.created", 0
        )
    (record,) = captured.records
    log = record.log_record
    assert (log.severity_text, log.body, log.event_name) == (
        "INFO",
        "codex.sse_event",
        "codex.sse_event",
    )
    assert not captured.provider.enabled  # shut down when the block ended
