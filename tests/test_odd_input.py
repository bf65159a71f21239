"""Odd input to the public API is recorded sensibly and never raises (strict mode is on:
an internal error would fail these tests rather than be swallowed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.catalog import TRUNCATED_MARKER
from codex_otel.testing import OtlpReceiver
from tests.conftest import AUTH_ENV, METADATA, Memory, captured, expect, request_auth

NONE: Any = None  # None where the signature asks for text or a number


def attrs(memory: Memory) -> list[dict[str, object]]:
    return [record["attributes"] for record in captured(*memory)]


def event(name: str, **fields: object) -> dict[str, object]:
    return expect(name, **fields)


def test_none_where_text_or_numbers_are_expected_is_left_out(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    manager.conversation_starts(
        provider_name=NONE,
        reasoning_summary=NONE,
        approval_policy=NONE,
        sandbox_policy=NONE,
        mcp_servers=NONE,
    )
    manager.api_request(NONE, NONE)
    manager.sse_event(NONE, NONE)
    manager.sse_event_completed(input_token_count=NONE, output_token_count=5, tool_token_count=NONE)
    manager.user_prompt(NONE)
    manager.tool_decision(NONE, NONE, "denied", "config")
    manager.tool_result(NONE, NONE, NONE, NONE, True, NONE)
    manager.tool_failed(NONE, NONE)
    assert attrs(memory) == [
        event("codex.conversation_starts", mcp_servers="", **AUTH_ENV),
        event("codex.api_request", duration_ms="<ms>", **request_auth()),  # <ms>: captured()
        event("codex.sse_event", duration_ms=0),
        event("codex.sse_event", output_token_count=5, **{"event.kind": "response.completed"}),
        event("codex.user_prompt", prompt_length=0, prompt="[REDACTED]"),
        event("codex.tool_decision", decision="denied", source="Config"),
        event("codex.tool_result", arguments="null", duration_ms=0, success="true", output="null"),
        event("codex.tool_result", duration_ms=0, success="false", output="null"),
    ]


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text for you")

    __repr__ = __str__


def test_arguments_json_cannot_take_are_recorded_as_text(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    circular: list[object] = []
    circular.append(circular)
    manager.tool_result("t", "c1", {"path": Path("/tmp/x"), "n": {1, 2}}, 0, True, "ok")
    manager.tool_result("t", "c2", {"odd": Unprintable()}, 0, True, Unprintable())
    manager.tool_result("t", "c3", circular, 0, True, "ok")
    assert [(a["call_id"], a["arguments"], a["output"]) for a in attrs(memory)] == [
        ("c1", '{"path": "/tmp/x", "n": "{1, 2}"}', "ok"),
        ("c2", '{"odd": "<unprintable Unprintable>"}', '"<unprintable Unprintable>"'),
        ("c3", "[[...]]", "ok"),
    ]


def test_bytes_that_are_not_utf8_are_decoded_with_replacement(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    manager.tool_result("shell", "c1", b"cat \xc3", 0, False, b"ok \xff\xfe")
    manager.tool_failed(b"sh\xffell", b"bad \x80")
    assert attrs(memory) == [
        event(
            "codex.tool_result",
            tool_name="shell",
            call_id="c1",
            arguments="cat \ufffd",
            duration_ms=0,
            success="false",
            output="ok \ufffd\ufffd",
        ),
        event(
            "codex.tool_result",
            tool_name="sh\ufffdell",
            duration_ms=0,
            success="false",
            output="bad \ufffd",
        ),
    ]


def test_very_large_tool_text_is_capped(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    manager.tool_result("shell", "c1", "a" * 5_000_000, 0, True, "é" * 3_000_000)
    assert attrs(memory) == [
        event(
            "codex.tool_result",
            tool_name="shell",
            call_id="c1",
            arguments="a" * 2048 + TRUNCATED_MARKER,
            arguments_original_bytes=5_000_000,
            duration_ms=0,
            success="true",
            output="é" * 1024 + TRUNCATED_MARKER,
            output_original_bytes=6_000_000,
            output_truncated=True,
        )
    ]


def test_lone_surrogates_do_not_fail_the_batch_they_travel_in(receiver: OtlpReceiver) -> None:
    table = {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    manager = OtelEventManager(provider, **METADATA)
    # What `bytes.decode(errors="surrogateescape")` (os.fsdecode, argv) leaves in a string.
    broken = b"file-\xff".decode("utf-8", "surrogateescape")
    manager.sse_event("before", 0)
    manager.sse_event(broken, 0)
    manager.api_request(1, 0, error=broken)
    manager.tool_result(broken, "c1", broken, 0, False, broken)
    manager.sse_event("after", 0)
    provider.shutdown()
    logs = receiver.wait_for(5)
    assert [
        log.attributes.get("event.kind") or log.attributes.get("error.message") for log in logs
    ] == ["before", "file-?", "file-?", None, "after"]
    assert {k: logs[3].attributes[k] for k in ("tool_name", "arguments", "output")} == {
        "tool_name": "file-?",
        "arguments": "file-?",
        "output": "file-?",
    }
    assert provider.stats() == DeliveryStats(accepted=5, exported=5)
