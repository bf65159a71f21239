"""Traces end to end: a scripted turn exported to the real receiver over each protocol, its
span tree and its events' correlation asserted whole."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.instrument import InstrumentedTransport, instrument_sse, instrument_tool
from codex_otel.testing import OtlpReceiver, ReceivedLog, ReceivedSpan
from tests.conftest import METADATA
from tests.fake_api import FakeApi

PROTOCOLS = ["http/protobuf", "http/json", "grpc"]


def traced_config(receiver: OtlpReceiver, protocol: str, **extra: Any) -> OtelConfig:
    """Events and spans to the receiver over `protocol`."""
    logs: Any
    traces: Any
    if protocol == "grpc":
        logs = traces = {"otlp-grpc": {"endpoint": receiver.grpc_endpoint}}
    else:
        kind = "json" if protocol == "http/json" else "binary"
        logs = {"otlp-http": {"endpoint": receiver.logs_endpoint, "protocol": kind}}
        traces = {"otlp-http": {"endpoint": receiver.traces_endpoint, "protocol": kind}}
    return OtelConfig.from_mapping({"exporter": logs, "trace_exporter": traces, **extra})


@pytest.fixture(params=PROTOCOLS)
def traced(request: pytest.FixtureRequest, receiver: OtlpReceiver) -> Iterator[OtelProvider]:
    config = traced_config(
        receiver, request.param, span_attributes={"deployment": "ci", "shard": 3}
    )
    provider = OtelProvider.from_config(config)
    yield provider
    provider.shutdown()


def _patch(call_id: str, patch: str) -> str:
    raise ValueError("patch rejected")


def scripted_turn(manager: OtelEventManager, api: FakeApi) -> None:
    """A prompt outside any turn, then a turn: one streamed request, two tools (one fails)."""
    manager.user_prompt(["before the turn"])
    with manager.turn("turn-1"):
        manager.user_prompt(["fix the bug"])
        with httpx.Client(transport=InstrumentedTransport(manager)) as client:
            url = f"{api.url.replace('://', '://user:pw@')}/v1/sse/complete?key=s3cret&v=1"
            with connect_sse(client, "POST", url, json={"model": "gpt-5-codex"}) as source:
                for _ in instrument_sse(manager, source.iter_sse()):
                    pass
        manager.tool_decision("shell", "call-1", "approved", "config")
        manager.log_tool_result("shell", "call-1", {"command": ["ls"]}, lambda: "a.txt\nb.txt")
        with pytest.raises(ValueError, match="patch rejected"):
            instrument_tool(manager, "apply_patch")(_patch)(call_id="call-2", patch="--- a")
    manager.user_prompt(["after the turn"])


def span_tree(spans: list[ReceivedSpan]) -> list[dict[str, Any]]:
    """Each span with its parent named instead of numbered, in the order they ended."""
    names = {span.span_id: span.name for span in spans}
    assert len({span.trace_id for span in spans}) == 1, "one turn, one trace"
    return [
        {
            "name": span.name,
            "kind": span.kind,
            "parent": names.get(span.parent_span_id, span.parent_span_id or None),
            "attributes": span.attributes,
            "status": span.status_code,
            "scope": span.scope_name,
        }
        for span in spans
    ]


def test_a_scripted_turn_exports_its_whole_span_tree(
    traced: OtelProvider, receiver: OtlpReceiver, fake_api: FakeApi
) -> None:
    manager = OtelEventManager(traced, **METADATA, provider_name="openai")
    scripted_turn(manager, fake_api)
    traced.shutdown()

    port = int(fake_api.url.rsplit(":", 1)[1])
    stamped = {"deployment": "ci", "shard": 3}
    assert span_tree(receiver.spans) == [
        {
            "name": "chat gpt-5-codex",
            "kind": "CLIENT",
            "parent": "invoke_agent codex",
            "attributes": {
                **stamped,
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-5-codex",
                "http.request.method": "POST",
                "server.address": "127.0.0.1",
                "server.port": port,
                "url.full": f"http://127.0.0.1:{port}/v1/sse/complete?key=REDACTED&v=1",
                "http.response.status_code": 200,
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 300,
                "gen_ai.usage.cache_read.input_tokens": 1000,
                "codex.usage.reasoning_output_tokens": 64,
                "codex.usage.total_tokens": 1500,
                "gen_ai.response.id": "resp_1",
            },
            "status": "UNSET",
            "scope": "codex_otel",
        },
        {
            "name": "execute_tool shell",
            "kind": "INTERNAL",
            "parent": "invoke_agent codex",
            "attributes": {
                **stamped,
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "shell",
                "gen_ai.tool.call.id": "call-1",
                "codex.tool.decision": "approved",
                "codex.tool.decision_source": "config",
                "codex.tool.success": True,
                "codex.tool.arguments_length": len('{"command": ["ls"]}'),
                "codex.tool.output_length": len("a.txt\nb.txt"),
                "codex.tool.output_line_count": 2,
                "codex.tool.origin": "builtin",
            },
            "status": "UNSET",
            "scope": "codex_otel",
        },
        {
            "name": "execute_tool apply_patch",
            "kind": "INTERNAL",
            "parent": "invoke_agent codex",
            "attributes": {
                **stamped,
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "apply_patch",
                "gen_ai.tool.call.id": "call-2",
                "codex.tool.success": False,
                "codex.tool.arguments_length": len('{"patch": "--- a"}'),
                "codex.tool.output_length": len("patch rejected"),
                "codex.tool.output_line_count": 1,
                "codex.tool.origin": "builtin",
                "error.type": "ValueError",
            },
            "status": "ERROR",
            "scope": "codex_otel",
        },
        {
            "name": "invoke_agent codex",
            "kind": "INTERNAL",
            "parent": None,
            "attributes": {
                **stamped,
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "codex",
                "gen_ai.conversation.id": "conv-1234",
                "turn.id": "turn-1",
                "gen_ai.request.model": "gpt-5-codex",
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 300,
                "gen_ai.usage.cache_read.input_tokens": 1000,
                "codex.usage.reasoning_output_tokens": 64,
                "codex.usage.total_tokens": 1500,
                "codex.turn.outcome": "completed",
                "codex.prompt.text_input_count": 1,
                "codex.prompt.image_input_count": 0,
                "codex.prompt.local_image_input_count": 0,
            },
            "status": "OK",
            "scope": "codex_otel",
        },
    ]
    assert traced.stats("spans").exported == 4


def test_an_mcp_tool_and_a_prompt_with_images_are_described_on_their_spans(
    traced: OtelProvider, receiver: OtlpReceiver
) -> None:
    manager = OtelEventManager(traced, **METADATA)
    prompt = (
        item
        for item in [
            "look at these",
            {"type": "text", "text": "and this"},
            {"type": "image", "image_url": "https://example.test/a.png"},
            {"type": "local_image", "path": "/tmp/b.png"},
            {"type": "local_image", "path": "/tmp/c.png"},
            {"type": "skill", "name": "s"},
        ]
    )
    with manager.turn("turn-1"):
        manager.user_prompt(prompt)  # a generator: read once for the span and the event
        manager.log_tool_result(
            "search",
            "call-1",
            {"q": "x"},
            lambda: "one\ntwo\nthree\n",
            mcp_server="docs",
            mcp_server_origin="config",
        )
        manager.tool_result("shell", "call-2", {}, 0.1, True, "")
    traced.shutdown()

    by_name = {span.name: span.attributes for span in receiver.spans}
    assert set(by_name) == {"invoke_agent codex", "execute_tool search"}
    assert {
        key: value for key, value in by_name["invoke_agent codex"].items() if "prompt" in key
    } == {
        "codex.prompt.text_input_count": 2,
        "codex.prompt.image_input_count": 1,
        "codex.prompt.local_image_input_count": 2,
    }
    assert by_name["execute_tool search"] == {
        "deployment": "ci",
        "shard": 3,
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "search",
        "gen_ai.tool.call.id": "call-1",
        "codex.tool.success": True,
        "codex.tool.arguments_length": len('{"q": "x"}'),
        "codex.tool.output_length": len("one\ntwo\nthree\n"),
        "codex.tool.output_line_count": 3,
        "codex.tool.origin": "mcp",
        "codex.tool.mcp_tool": "search",
    }
    (prompt_event,) = [log for log in receiver.logs if log.event_name == "codex.user_prompt"]
    assert prompt_event.attributes["prompt_length"] == len("look at theseand this")


def correlation(logs: list[ReceivedLog], spans: list[ReceivedSpan]) -> list[tuple[Any, ...]]:
    """(event, event.kind, the span it was recorded in, turn.id, event.sequence) per record."""
    names = {span.span_id: span.name for span in spans}
    trace_ids = {span.trace_id for span in spans}
    out = []
    for log in sorted(logs, key=lambda log: log.attributes["event.sequence"]):  # type: ignore[arg-type,return-value]
        if log.span_id:
            assert log.trace_id in trace_ids
        out.append(
            (
                log.event_name,
                log.attributes.get("event.kind"),
                names.get(log.span_id, log.span_id or None),
                log.attributes.get("turn.id"),
                log.attributes["event.sequence"],
            )
        )
    return out


def test_every_event_carries_the_ids_of_the_span_it_was_recorded_in(
    traced: OtelProvider, receiver: OtlpReceiver, fake_api: FakeApi
) -> None:
    manager = OtelEventManager(traced, **METADATA, provider_name="openai")
    scripted_turn(manager, fake_api)
    traced.shutdown()

    chat, shell, patch = "chat gpt-5-codex", "execute_tool shell", "execute_tool apply_patch"
    turn = "invoke_agent codex"
    assert correlation(receiver.logs, receiver.spans) == [
        ("codex.user_prompt", None, None, None, 1),
        ("codex.user_prompt", None, turn, "turn-1", 2),
        ("codex.api_request", None, chat, "turn-1", 3),
        ("codex.sse_event", "response.created", chat, "turn-1", 4),
        ("codex.sse_event", "response.output_text.delta", chat, "turn-1", 5),
        # The turn's first output token: recorded by `turn()` itself.
        ("codex.turn_ttft", None, chat, "turn-1", 6),
        ("codex.sse_event", "response.output_text.delta", chat, "turn-1", 7),
        ("codex.sse_event", "response.output_item.done", chat, "turn-1", 8),
        ("codex.sse_event", "response.completed", chat, "turn-1", 9),
        ("codex.sse_event", "response.completed", chat, "turn-1", 10),
        ("codex.tool_decision", None, turn, "turn-1", 11),
        ("codex.tool_result", None, shell, "turn-1", 12),
        ("codex.tool_result", None, patch, "turn-1", 13),
        ("codex.user_prompt", None, None, None, 14),
    ]
