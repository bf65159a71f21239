"""Event shape (in-memory exporter): every catalog event, the metadata, redaction."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

import pytest

from codex_otel import (
    DeliveryStats,
    OtelConfig,
    OtelEventManager,
    OtelProvider,
    ToolDecision,
    ToolDecisionSource,
)
from codex_otel.catalog import COMMON_ATTRIBUTES, EVENT_ATTRIBUTES
from tests.conftest import (
    AUTH_ENV,
    BUILTIN_TOOL,
    COMMON,
    METADATA,
    NO_AUTH,
    Memory,
    captured,
    emit_catalog,
    expected_catalog,
)

# A manager given no originator has its provider's, the service name; no credential is in
# the test environment.
DEFAULT_ORIGINATOR = {"originator": "codex-cli"}
NO_AUTH_ENV = {
    "auth.env_openai_api_key_present": False,
    "auth.env_codex_api_key_present": False,
    "auth.env_codex_api_key_enabled": True,
    "auth.env_refresh_token_url_override_present": False,
}


def attrs(memory: Memory) -> list[dict[str, object]]:
    return [record["attributes"] for record in captured(*memory)]


def test_every_catalog_event_has_its_whole_shape(memory: Memory) -> None:
    emit_catalog(OtelEventManager(memory[0], **METADATA))
    records = captured(*memory)
    assert [(r["name"], r["attributes"]) for r in records] == expected_catalog()
    assert {r["severity"] for r in records} == {(9, "INFO")}


def test_catalog_attributes_are_the_documented_ones(memory: Memory) -> None:
    emit_catalog(OtelEventManager(memory[0], **METADATA))
    for record in captured(*memory):
        allowed = set(COMMON_ATTRIBUTES) | set(EVENT_ATTRIBUTES[record["name"]])
        assert set(record["attributes"]) <= allowed


def test_optional_metadata_that_is_none_is_left_out(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], conversation_id="c", model="m", slug="s")
    manager.sse_event("response.created", 0)
    assert attrs(memory) == [
        {
            "event.name": "codex.sse_event",
            "event.timestamp": "<ts>",
            "conversation.id": "c",
            "model": "m",
            "slug": "s",
            **DEFAULT_ORIGINATOR,
            "event.kind": "response.created",
            "duration_ms": 0,
        }
    ]


def test_optional_conversation_fields_that_are_none_are_left_out(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], conversation_id="c", model="m", slug="s")
    manager.conversation_starts(
        provider_name="openai",
        reasoning_summary="none",
        approval_policy="never",
        sandbox_policy="read-only",
    )
    assert attrs(memory) == [
        {
            "event.name": "codex.conversation_starts",
            "event.timestamp": "<ts>",
            "conversation.id": "c",
            "model": "m",
            "slug": "s",
            "provider_name": "openai",
            "reasoning_summary": "none",
            "approval_policy": "never",
            "sandbox_policy": "read-only",
            "mcp_servers": "",
            **DEFAULT_ORIGINATOR,
            **NO_AUTH_ENV,
        }
    ]


def test_with_model_returns_new_manager_and_leaves_original(memory: Memory) -> None:
    first = OtelEventManager(memory[0], **METADATA)
    second = first.with_model("o3", "o3-slug")
    first.sse_event("a", 0)
    second.sse_event("b", 0)
    one, two = attrs(memory)
    assert (one["model"], one["slug"]) == ("gpt-5-codex", "gpt-5")
    assert two == {**one, "model": "o3", "slug": "o3-slug", "event.kind": "b"}
    assert first.metadata == COMMON


def test_prompt_is_redacted_by_default(memory: Memory) -> None:
    OtelEventManager(memory[0], **METADATA).user_prompt(["secret plan"])
    assert attrs(memory)[0] == {
        "event.name": "codex.user_prompt",
        "event.timestamp": "<ts>",
        **COMMON,
        "prompt_length": 11,
        "prompt": "[REDACTED]",
    }


def test_prompt_is_present_when_opted_in(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA, log_user_prompt=True)
    manager.user_prompt(["héllo ", {"type": "text", "text": "wörld"}, {"type": "local_image"}])
    assert attrs(memory)[0] == {
        "event.name": "codex.user_prompt",
        "event.timestamp": "<ts>",
        **COMMON,
        "prompt_length": 11,
        "prompt": "héllo wörld",
    }


def test_log_request_returns_the_response_unchanged(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    response = object()
    assert manager.log_request(3, lambda: response) is response
    (record,) = attrs(memory)
    assert record == {
        "event.name": "codex.api_request",
        "event.timestamp": "<ts>",
        **COMMON,
        "attempt": 2,
        "duration_ms": "<ms>",
        **NO_AUTH,
        **AUTH_ENV,
    }


def test_log_request_reraises_the_exception_unchanged(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    error = ConnectionError("connection refused")

    def fail() -> None:
        raise error

    with pytest.raises(ConnectionError) as raised:
        manager.log_request(1, fail)
    assert raised.value is error
    assert attrs(memory) == [
        {
            "event.name": "codex.api_request",
            "event.timestamp": "<ts>",
            **COMMON,
            "attempt": 0,
            "duration_ms": "<ms>",
            "error.message": "connection refused",
            **NO_AUTH,
            **AUTH_ENV,
        }
    ]


def test_log_request_records_status_of_an_error_that_carries_a_response(memory: Memory) -> None:
    class StatusError(Exception):
        def __init__(self) -> None:
            super().__init__("429 Too Many Requests")
            self.response = type("R", (), {"status_code": 429})()

    def fail() -> None:
        raise StatusError

    with pytest.raises(StatusError):
        OtelEventManager(memory[0], **METADATA).log_request(2, fail)
    (record,) = attrs(memory)
    assert record == {
        "event.name": "codex.api_request",
        "event.timestamp": "<ts>",
        **COMMON,
        "attempt": 1,
        "duration_ms": "<ms>",
        "http.response.status_code": 429,
        "error.message": "429 Too Many Requests",
        **NO_AUTH,
        **AUTH_ENV,
    }


def test_alog_request_awaits_and_records(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)

    class Response:
        status_code = 201
        headers = {"cf-ray": "abc"}  # noqa: RUF012

    async def call() -> Response:
        await asyncio.sleep(0)
        return Response()

    result = asyncio.run(manager.alog_request(1, call))
    assert isinstance(result, Response)
    assert attrs(memory) == [
        {
            "event.name": "codex.api_request",
            "event.timestamp": "<ts>",
            **COMMON,
            "attempt": 0,
            "duration_ms": "<ms>",
            "http.response.status_code": 201,
            "cf_ray": "abc",
            "auth.cf_ray": "abc",
            **NO_AUTH,
            **AUTH_ENV,
        }
    ]


def test_alog_request_reraises(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)

    async def call() -> None:
        raise ValueError("bad gateway")

    with pytest.raises(ValueError, match="bad gateway"):
        asyncio.run(manager.alog_request(1, call))
    assert attrs(memory) == [
        {
            "event.name": "codex.api_request",
            "event.timestamp": "<ts>",
            **COMMON,
            "attempt": 0,
            "duration_ms": "<ms>",
            "error.message": "bad gateway",
            **NO_AUTH,
            **AUTH_ENV,
        }
    ]


def tool_record(**fields: object) -> dict[str, object]:
    return {
        "event.name": "codex.tool_result",
        "event.timestamp": "<ts>",
        **COMMON,
        **BUILTIN_TOOL,
        **fields,
    }


def test_log_tool_result_records_output_and_returns_it(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    assert manager.log_tool_result("shell", "c1", "ls -la", lambda: "total 0") == "total 0"
    (record,) = attrs(memory)
    assert record == tool_record(
        tool_name="shell",
        call_id="c1",
        arguments="ls -la",
        duration_ms=record["duration_ms"],
        success="true",
        output="total 0",
    )
    assert isinstance(record["duration_ms"], int)


def test_log_tool_result_records_error_and_reraises(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    error = PermissionError("sandbox denied write")

    def run() -> str:
        raise error

    with pytest.raises(PermissionError) as raised:
        manager.log_tool_result("shell", "c2", {"cmd": "rm x"}, run)
    assert raised.value is error
    (record,) = attrs(memory)
    assert record == tool_record(
        tool_name="shell",
        call_id="c2",
        arguments='{"cmd": "rm x"}',
        duration_ms=record["duration_ms"],
        success="false",
        output="sandbox denied write",
    )


def test_alog_tool_result_awaits_and_records(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)

    async def run() -> dict[str, int]:
        return {"matches": 2}

    assert asyncio.run(manager.alog_tool_result("grep", "c3", ["-r", "x"], run)) == {"matches": 2}
    (record,) = attrs(memory)
    assert record == tool_record(
        tool_name="grep",
        call_id="c3",
        arguments='["-r", "x"]',
        duration_ms=record["duration_ms"],
        success="true",
        output='{"matches": 2}',
    )


@pytest.mark.parametrize(
    ("decision", "source"),
    [
        (ToolDecision.APPROVED_FOR_SESSION, ToolDecisionSource.CONFIG),
        ("denied", "user"),
        ("abort", ToolDecisionSource.USER),
    ],
)
def test_tool_decision_accepts_enums_and_strings(
    memory: Memory, decision: ToolDecision | str, source: ToolDecisionSource | str
) -> None:
    OtelEventManager(memory[0], **METADATA).tool_decision("shell", "c9", decision, source)
    assert attrs(memory) == [
        {
            "event.name": "codex.tool_decision",
            "event.timestamp": "<ts>",
            **COMMON,
            "tool_name": "shell",
            "call_id": "c9",
            "decision": ToolDecision(decision).value,
            "source": ToolDecisionSource(source).value,
        }
    ]


@pytest.mark.parametrize(
    ("decision", "source", "sent"),
    [
        (ToolDecision.TIMED_OUT, "automated_reviewer", ("timed_out", "AutomatedReviewer")),
        ("approved_execpolicy_amendment", "Config", ("approved_execpolicy_amendment", "Config")),
        ("Escalated", "USER", ("escalated", "User")),
    ],
)
def test_tool_decision_takes_codex_s_open_decision_set_and_its_source_casing(
    memory: Memory, decision: str, source: str, sent: tuple[str, str]
) -> None:
    OtelEventManager(memory[0], **METADATA).tool_decision(
        "exec_command", "c9", decision, source, tool_namespace="functions"
    )
    assert attrs(memory) == [
        {
            "event.name": "codex.tool_decision",
            "event.timestamp": "<ts>",
            **COMMON,
            "tool_name": "exec_command",
            "tool_namespace": "functions",
            "call_id": "c9",
            "decision": sent[0],
            "source": sent[1],
        }
    ]


@pytest.mark.parametrize(("decision", "source"), [("", "user"), (3, "user"), ("approved", "robot")])
def test_tool_decision_rejects_unknown_values(
    memory: Memory, decision: object, source: str
) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    with pytest.raises(ValueError):
        manager.tool_decision("shell", "c9", decision, source)  # type: ignore[arg-type]
    assert attrs(memory) == []


def test_duration_accepts_timedelta_and_seconds(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA)
    manager.sse_event("a", timedelta(seconds=1, microseconds=999))
    manager.sse_event("b", 0.25)
    assert [a["duration_ms"] for a in attrs(memory)] == [1000, 250]


def test_record_timestamp_matches_event_timestamp(memory: Memory) -> None:
    provider, exporter = memory
    OtelEventManager(provider, **METADATA).sse_event("a", 0)
    provider.force_flush()
    (data,) = exporter.records
    record = data.log_record
    assert record.timestamp is not None and record.attributes is not None
    millis = (record.timestamp // 1_000_000) % 1000
    assert str(record.attributes["event.timestamp"]).endswith(f".{millis:03d}Z")


def test_exporter_none_emits_nothing_and_calls_still_work() -> None:
    provider = OtelProvider.from_config(OtelConfig())
    manager = OtelEventManager(provider, **METADATA)
    assert not provider.enabled and not manager.enabled
    emit_catalog(manager)
    assert manager.log_request(1, lambda: 42) == 42
    assert manager.log_tool_result("t", "c", "{}", lambda: "out") == "out"
    provider.shutdown()


def test_exporter_none_does_not_import_grpc_or_http_stack() -> None:
    code = (
        "import sys, codex_otel as c\n"
        "p = c.OtelProvider.from_config(c.OtelConfig())\n"
        "m = c.OtelEventManager(p, conversation_id='c', model='m', slug='s')\n"
        "m.sse_event('x', 0); p.shutdown()\n"
        "loaded = [n for n in ('grpc', 'requests', 'urllib3') if n in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_events_after_shutdown_are_not_exported_but_counted(memory: Memory) -> None:
    provider, exporter = memory
    manager = OtelEventManager(provider, **METADATA)
    manager.sse_event("early", 0)
    provider.shutdown()
    manager.sse_event("late", 0)
    kinds = [data.log_record.attributes["event.kind"] for data in exporter.records]
    assert kinds == ["early"]
    assert provider.stats() == DeliveryStats(accepted=1, exported=1, after_shutdown=1)
    assert not manager.enabled
