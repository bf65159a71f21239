"""Correlation: `event.sequence` per conversation, `turn.id` inside turns only, raised
operations ending their spans in ERROR with the exception reaching the caller unchanged."""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver, ReceivedSpan
from tests.conftest import METADATA


def start(receiver: OtlpReceiver, *, traces: bool = True) -> OtelProvider:
    table: dict[str, Any] = {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
    if traces:
        table["trace_exporter"] = {"otlp-http": {"endpoint": receiver.traces_endpoint}}
    return OtelProvider.from_config(OtelConfig.from_mapping(table))


def sequences(receiver: OtlpReceiver) -> list[object]:
    return sorted(log.attributes["event.sequence"] for log in receiver.logs)  # type: ignore[type-var]


def test_event_sequence_rises_by_one_across_a_conversations_with_model_copies(
    receiver: OtlpReceiver,
) -> None:
    provider = start(receiver, traces=False)
    manager = OtelEventManager(provider, **METADATA)
    mini = manager.with_model("gpt-5-mini", "gpt-5")
    other = OtelEventManager(provider, **{**METADATA, "conversation_id": "conv-other"})
    for emitter in (manager, mini, manager, other, mini.with_model("o3", "o3"), other):
        emitter.sse_event("response.created", 0)
    provider.shutdown()

    assert [
        (
            log.attributes["conversation.id"],
            log.attributes["model"],
            log.attributes["event.sequence"],
        )
        for log in receiver.logs
    ] == [
        ("conv-1234", "gpt-5-codex", 1),
        ("conv-1234", "gpt-5-mini", 2),
        ("conv-1234", "gpt-5-codex", 3),
        ("conv-other", "gpt-5-codex", 1),
        ("conv-1234", "o3", 4),
        ("conv-other", "gpt-5-codex", 2),
    ]


def test_event_sequence_has_no_gap_and_no_repeat_across_threads(receiver: OtlpReceiver) -> None:
    provider = start(receiver, traces=False)
    manager = OtelEventManager(provider, **METADATA)

    def emit() -> None:
        copy = manager.with_model("gpt-5-mini", "gpt-5")
        for _ in range(50):
            copy.sse_event("response.output_text.delta", 0)

    threads = [threading.Thread(target=emit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    provider.shutdown()

    assert sequences(receiver) == list(range(1, 201))


@pytest.mark.parametrize("traces", [True, False], ids=["traces", "events-only"])
def test_turn_id_is_on_events_inside_a_turn_only(receiver: OtlpReceiver, traces: bool) -> None:
    provider = start(receiver, traces=traces)
    manager = OtelEventManager(provider, **METADATA)
    manager.user_prompt(["before"])
    with manager.turn("turn-given") as given:
        manager.user_prompt(["inside"])
        with manager.with_model("o3", "o3").turn() as fresh:
            manager.user_prompt(["nested"])
        manager.user_prompt(["inside again"])
    manager.user_prompt(["after"])
    provider.shutdown()

    assert given == "turn-given"
    assert str(uuid.UUID(fresh)) == fresh
    assert [
        (log.attributes["prompt_length"], log.attributes.get("turn.id")) for log in receiver.logs
    ] == [(6, None), (6, "turn-given"), (6, fresh), (12, "turn-given"), (5, None)]
    # Without traces, records carry no trace context; with them, every record in a turn does.
    assert [bool(log.span_id) for log in receiver.logs] == [False, traces, traces, traces, False]


def test_an_async_turn_marks_its_tasks_events_and_leaves_others_alone(
    receiver: OtlpReceiver,
) -> None:
    provider = start(receiver)
    manager = OtelEventManager(provider, **METADATA)

    async def in_turn(name: str) -> None:
        async with manager.turn(name):
            await asyncio.sleep(0)
            manager.user_prompt([name])

    async def outside() -> None:
        await asyncio.sleep(0)
        manager.user_prompt(["none"])

    async def main() -> None:
        await asyncio.gather(in_turn("a"), in_turn("bb"), outside())

    asyncio.run(main())
    provider.shutdown()

    by_prompt = {log.attributes["prompt_length"]: log for log in receiver.logs}
    spans = {span.attributes["turn.id"]: span for span in receiver.spans}
    assert {length: log.attributes.get("turn.id") for length, log in by_prompt.items()} == {
        1: "a",
        2: "bb",
        4: None,
    }
    assert (by_prompt[1].span_id, by_prompt[2].span_id) == (spans["a"].span_id, spans["bb"].span_id)
    assert spans["a"].trace_id != spans["bb"].trace_id  # two turns, two traces


def only(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    (span,) = [span for span in spans if span.name == name]
    return span


class Refused(Exception):
    pass


def test_a_raised_operation_ends_its_span_in_error_and_the_exception_reaches_the_caller(
    receiver: OtlpReceiver,
) -> None:
    provider = start(receiver)
    manager = OtelEventManager(provider, **METADATA)
    timeout = TimeoutError("read timed out")
    refused = Refused("no")

    def call() -> object:
        raise timeout

    with pytest.raises(Refused) as raised, manager.turn("turn-1"):
        with pytest.raises(TimeoutError) as caught:
            manager.log_request(2, call)
        assert caught.value is timeout
        raise refused
    assert raised.value is refused
    provider.shutdown()

    chat = only(receiver.spans, "chat gpt-5-codex")
    turn = only(receiver.spans, "invoke_agent codex")
    assert (chat.status_code, chat.attributes) == (
        "ERROR",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-5-codex",
            "http.request.resend_count": 1,
            "error.type": "TimeoutError",
        },
    )
    assert (turn.status_code, turn.status_message, turn.attributes["error.type"]) == (
        "ERROR",
        "",  # no message: it may hold content
        "tests.test_traces_correlation.Refused",
    )


def test_spans_never_carry_content_or_the_account_id(receiver: OtlpReceiver) -> None:
    provider = start(receiver)
    manager = OtelEventManager(provider, **METADATA)
    with manager.turn():
        manager.user_prompt(["the secret prompt"])
        manager.log_tool_result(
            "shell", "call-1", {"command": "cat the-arguments"}, lambda: "the-output"
        )
        with pytest.raises(ValueError, match="the-error"):
            manager.log_tool_result("shell", "call-2", {}, _fail)
    provider.shutdown()

    values = [str(value) for span in receiver.spans for value in span.attributes.values()]
    assert len(receiver.spans) == 3
    leaked = [v for v in values if any(s in v for s in ("secret", "the-", "acct-42"))]
    assert leaked == []


def _fail() -> str:
    raise ValueError("the-error")


def test_async_requests_and_tools_are_spans_of_their_async_turn(receiver: OtlpReceiver) -> None:
    provider = start(receiver)
    manager = OtelEventManager(provider, **METADATA)

    async def respond() -> str:
        await asyncio.sleep(0)
        return "ok"

    async def main() -> None:
        async with manager.turn("turn-a"):
            await manager.alog_request(3, respond)
            await manager.alog_tool_result("shell", "call-1", {}, respond)

    asyncio.run(main())
    provider.shutdown()

    turn = only(receiver.spans, "invoke_agent codex")
    chat = only(receiver.spans, "chat gpt-5-codex")
    tool = only(receiver.spans, "execute_tool shell")
    assert (chat.parent_span_id, tool.parent_span_id, turn.parent_span_id) == (
        turn.span_id,
        turn.span_id,
        "",
    )
    assert chat.attributes["http.request.resend_count"] == 2
    spans = {span.span_id: span.name for span in receiver.spans}
    assert [(log.event_name, spans[log.span_id]) for log in receiver.logs] == [
        ("codex.api_request", "chat gpt-5-codex"),
        ("codex.tool_result", "execute_tool shell"),
    ]


def test_an_active_span_of_the_host_parents_the_turn_before_traceparent(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    monkeypatch.setenv("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    provider = start(receiver)
    manager = OtelEventManager(provider, **METADATA)
    host = TracerProvider(shutdown_on_exit=False)  # the host's own, not installed globally
    with (
        host.get_tracer("host").start_as_current_span("host operation") as outer,
        manager.turn(),
    ):
        pass
    with manager.turn():  # no span active: the inherited TRACEPARENT
        pass
    provider.shutdown()
    host.shutdown()

    inside, after = receiver.spans
    context = outer.get_span_context()
    assert (inside.trace_id, inside.parent_span_id) == (
        f"{context.trace_id:032x}",
        f"{context.span_id:016x}",
    )
    assert (after.trace_id, after.parent_span_id) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "00f067aa0ba902b7",
    )
    assert trace.get_current_span().get_span_context().is_valid is False  # nothing left active


def test_otel_sdk_disabled_turns_spans_off_and_says_so(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    provider = start(receiver)
    manager = OtelEventManager(provider, **METADATA)
    with manager.turn("turn-1") as turn_id:
        manager.log_tool_result("shell", "call-1", {}, lambda: "ok")
    provider.shutdown()
    assert (turn_id, manager.tracing, receiver.spans) == ("turn-1", False, [])
    assert [record.getMessage() for record in caplog.records] == [
        "codex_otel: OTEL_SDK_DISABLED=true is set: events and spans are not exported"
    ]
