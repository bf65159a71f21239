"""What the span tests share: a provider exporting events and spans to a real receiver, the
streamed calls of each API with what their chat span must carry, and reading the spans and
the events recorded in each back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver, ReceivedLog, ReceivedSpan
from tests.conftest import METADATA
from tests.sdk_api import MESSAGES_KINDS, RESPONSES_KINDS, SdkApi

CHAT = "chat gpt-5-codex"
TURN = "invoke_agent codex"
COMPLETED = "response.completed"  # the kind of every completion's usage record


def traced(receiver: OtlpReceiver) -> OtelProvider:
    """Events and spans over OTLP/HTTP to `receiver`."""
    return OtelProvider.from_config(
        OtelConfig.from_mapping(
            {
                "exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}},
                "trace_exporter": {"otlp-http": {"endpoint": receiver.traces_endpoint}},
            }
        )
    )


def manager_of(provider: OtelProvider) -> OtelEventManager:
    return OtelEventManager(provider, **METADATA)


@dataclass(frozen=True)
class Api:
    """One streaming API of the local server, called through its SDK."""

    sdk: str  # "openai" or "anthropic"
    path: str
    call: Callable[[Any, str], Any]  # (client, model) -> stream, or a coroutine giving one
    kinds: list[str]  # `event.kind` of each event a complete stream records, in order
    usage: Callable[[int], dict[str, int]]  # request n -> its span's usage attributes
    response_id: Callable[[int], str]
    response_model: str
    raw_input: Callable[[int], int]  # request n -> its completion record's input_token_count


def _responses(client: Any, model: str) -> Any:
    return client.responses.create(model=model, input="Say hello", stream=True)


def _chat(client: Any, model: str) -> Any:
    return client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Say hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )


def _messages(client: Any, model: str) -> Any:
    return client.messages.create(
        model=model,
        max_tokens=64,
        messages=[{"role": "user", "content": "Say hello"}],
        stream=True,
    )


def _usage(input_tokens: int, output: int, cached: int, reasoning: int, total: int) -> Any:
    return {
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output,
        "gen_ai.usage.cache_read.input_tokens": cached,
        "codex.usage.reasoning_output_tokens": reasoning,
        "codex.usage.total_tokens": total,
    }


def _anthropic_usage(n: int) -> dict[str, int]:
    # Anthropic's input_tokens (1200 + n) leave out the cache reads (1000) and writes (100):
    # the GenAI input tokens add them back.
    return {
        **_usage(1200 + n + 1000 + 100, 300, 1000, 64, 1200 + n + 1000 + 100 + 300),
        "gen_ai.usage.cache_creation.input_tokens": 100,
    }


APIS = {
    "responses": Api(
        "openai",
        "/v1/responses",
        _responses,
        [*RESPONSES_KINDS, COMPLETED],
        lambda n: _usage(1200 + n, 300, 1000, 64, 1500),
        lambda n: f"resp_{n}",
        "gpt-5-codex",
        lambda n: 1200 + n,
    ),
    "chat": Api(
        "openai",
        "/v1/chat/completions",
        _chat,
        [*["chat.completion.chunk"] * 5, COMPLETED],
        lambda n: _usage(900 + n, 120, 512, 32, 1020),
        lambda n: f"chatcmpl-{n}",
        "gpt-4.1",
        lambda n: 900 + n,
    ),
    "messages": Api(
        "anthropic",
        "/v1/messages",
        _messages,
        [*MESSAGES_KINDS, COMPLETED],
        _anthropic_usage,
        lambda n: f"msg_{n:02d}",
        "claude-sonnet-5-5",
        lambda n: 1200 + n,  # Anthropic's own, without the cache
    ),
}


def chat_attributes(api: SdkApi, path: str, **more: object) -> dict[str, object]:
    """The whole attribute dict of a chat span of a streamed call to `path` that succeeded."""
    port = int(api.url.rsplit(":", 1)[1])
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-5-codex",
        "http.request.method": "POST",
        "server.address": "127.0.0.1",
        "server.port": port,
        "url.full": f"{api.url}{path}",
        "http.response.status_code": 200,
        **more,
    }


def events_by_span(logs: list[ReceivedLog]) -> dict[str, list[ReceivedLog]]:
    """The records of each span id, in `event.sequence` order."""
    out: dict[str, list[ReceivedLog]] = {}
    for log in sorted(logs, key=lambda log: log.attributes["event.sequence"]):  # type: ignore[arg-type,return-value]
        out.setdefault(log.span_id, []).append(log)
    return out


def kinds(logs: list[ReceivedLog]) -> list[tuple[str, object]]:
    return [(log.event_name, log.attributes.get("event.kind")) for log in logs]


def only(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    (span,) = [span for span in spans if span.name == name]
    return span


def chats(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return [span for span in spans if span.name == CHAT]
