"""The real `openai` SDK through the httpx2 and httpx transports and instrument_sse.

A local server streams the Responses API and Chat Completions as documented; what is
asserted is the whole of every record that reached a real OTLP receiver, for each
client library (httpx2, the SDK's own; httpx) and each way of reading (sync, sync with
an idle timeout, async).
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk

from codex_otel.instrument import SseIdleTimeout, instrument_sse
from tests.conftest import Exported
from tests.sdk_api import CHAT_USAGE, FAILED_ERROR, RESPONSES_KINDS, SdkApi
from tests.sdk_streams import (
    LIBS,
    MODES,
    api_request,
    assert_as_uninstrumented,
    completed_failed,
    completion,
    dumps,
    failure,
    outcome,
    raised,
    read,
    sdk_client,
    sse,
    token_types,
    until,
)


@pytest.fixture
def api() -> Iterator[SdkApi]:
    with SdkApi() as running:
        yield running


def responses(model: str) -> Any:
    return lambda client: client.responses.create(model=model, input="Say hello", stream=True)


def chat(include_usage: bool) -> Any:
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    return lambda client: client.chat.completions.create(
        model="complete",
        messages=[{"role": "user", "content": "Say hello"}],
        stream=True,
        **options,
    )


RESPONSES_COMPLETION = completion(
    input_token_count=1200,
    output_token_count=300,
    cached_token_count=1000,
    reasoning_token_count=64,
    tool_token_count=1500,
)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lib", LIBS)
def test_a_responses_stream_records_the_request_every_event_and_the_usage(
    exported: Exported, api: SdkApi, lib: str, mode: str
) -> None:
    out = read("openai", api, exported.manager, lib, mode, responses("complete"))
    plain = read("openai", api, None, lib, mode, responses("complete"))
    assert (out.error, out.closed) == (None, True)
    assert [e.type for e in out.events] == RESPONSES_KINDS
    assert dumps(out.events) == dumps(plain.events)  # the SDK's results, unchanged
    records = exported.records()
    assert records == [
        api_request(1, 200),
        *(sse(kind) for kind in RESPONSES_KINDS),
        RESPONSES_COMPLETION,
    ]
    assert token_types(records) == {"int"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lib", LIBS)
def test_the_sdks_retries_on_500_and_429_are_recorded_with_rising_attempts(
    exported: Exported, api: SdkApi, lib: str, mode: str
) -> None:
    out = read("openai", api, exported.manager, lib, mode, responses("retry"))
    assert (out.error, out.closed, len(out.events)) == (None, True, len(RESPONSES_KINDS))
    assert exported.records() == [
        api_request(1, 500),
        api_request(2, 429),
        api_request(3, 200),
        *(sse(kind) for kind in RESPONSES_KINDS),
        RESPONSES_COMPLETION,
    ]


@pytest.mark.parametrize("mode", MODES)
def test_retries_that_run_out_reach_the_caller_as_the_sdks_error(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    def create(client: Any) -> Any:
        return client.with_options(max_retries=1).responses.create(
            model="retry", input="Say hello", stream=True
        )

    error = raised(lambda: read("openai", api, exported.manager, "httpx2", mode, create))
    with SdkApi() as fresh:  # its own count of attempts
        plain = raised(lambda: read("openai", fresh, None, "httpx2", mode, create))
    assert outcome(error) == outcome(plain)
    assert exported.records() == [api_request(1, 500), api_request(2, 429)]


@pytest.mark.parametrize("mode", MODES)
def test_response_failed_records_a_failure_carrying_the_error(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("openai", api, exported.manager, "httpx2", mode, responses("failed"))
    assert (out.error, out.closed) == (None, True)
    assert [e.type for e in out.events] == ["response.created", "response.failed"]
    assert exported.records() == [
        api_request(1, 200),
        sse("response.created"),
        failure("response.failed", json.dumps(FAILED_ERROR, separators=(",", ":"))),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_an_output_item_done_whose_item_is_not_valid_records_a_parse_failure(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("openai", api, exported.manager, "httpx2", mode, responses("bad-item"))
    assert (out.error, out.closed, len(out.events)) == (None, True, 2)
    assert exported.records() == [
        api_request(1, 200),
        sse("response.created"),
        failure("response.output_item.done", "failed to parse response.output_item.done"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_without_usage_records_completed_failed(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("openai", api, exported.manager, "httpx2", mode, responses("no-usage"))
    assert (out.error, out.closed) == (None, True)
    assert exported.records() == [
        api_request(1, 200),
        sse("response.created"),
        sse("response.completed"),
        completed_failed("response.completed without response.usage"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_cut_short_records_a_failure_and_the_sdks_error_reaches_the_caller(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("openai", api, exported.manager, "httpx2", mode, responses("cut"))
    plain = read("openai", api, None, "httpx2", mode, responses("cut"))
    assert_as_uninstrumented(out, plain)
    assert [e.type for e in out.events] == RESPONSES_KINDS[:2]
    assert exported.records() == [
        api_request(1, 200),
        sse("response.created"),
        sse("response.in_progress"),
        failure(None, str(plain.error)),
    ]


@pytest.mark.parametrize("mode", ["sync-idle-timeout", "async"])
def test_no_event_within_the_idle_timeout_records_a_failure_raises_and_closes(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("openai", api, exported.manager, "httpx2", mode, responses("stall"), idle=0.3)
    assert isinstance(out.error, SseIdleTimeout)
    assert (out.closed, [e.type for e in out.events]) == (True, ["response.created"])
    assert exported.records() == [
        api_request(1, 200),
        sse("response.created"),
        failure(None, "idle timeout waiting for SSE"),
    ]


# -- Chat Completions ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lib", LIBS)
def test_a_chat_stream_records_each_chunk_and_the_usage_of_the_last(
    exported: Exported, api: SdkApi, lib: str, mode: str
) -> None:
    out = read("openai", api, exported.manager, lib, mode, chat(include_usage=True))
    plain = read("openai", api, None, lib, mode, chat(include_usage=True))
    assert (out.error, out.closed) == (None, True)
    assert "".join(c.choices[0].delta.content or "" for c in out.events if c.choices) == "Hello"
    assert out.events[-1].usage.total_tokens == CHAT_USAGE["total_tokens"]
    assert dumps(out.events) == dumps(plain.events)
    records = exported.records()
    assert records == [
        api_request(1, 200),
        *[sse("chat.completion.chunk")] * 5,
        completion(
            input_token_count=900,
            output_token_count=120,
            cached_token_count=512,
            reasoning_token_count=32,
            tool_token_count=1020,
        ),
    ]
    assert token_types(records) == {"int"}


@pytest.mark.parametrize("mode", MODES)
def test_a_chat_stream_without_usage_records_no_completion(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("openai", api, exported.manager, "httpx2", mode, chat(include_usage=False))
    assert (out.error, out.closed, len(out.events)) == (None, True, 4)
    assert exported.records() == [api_request(1, 200), *[sse("chat.completion.chunk")] * 4]


def test_a_chat_usage_with_a_count_that_is_not_an_integer_records_completed_failed(
    exported: Exported,
) -> None:
    # Unit test of shape: the API sends integers; a proxy might not.
    usage = CompletionUsage.construct(prompt_tokens="900", completion_tokens=120, total_tokens=1)
    chunks = [ChatCompletionChunk.construct(object="chat.completion.chunk", usage=usage)]
    assert list(instrument_sse(exported.manager, chunks)) == chunks
    assert exported.records() == [
        sse("chat.completion.chunk"),
        completed_failed(
            "chat.completion.chunk usage unreadable: "
            "usage.prompt_tokens: expected a non-negative integer, got '900'"
        ),
    ]


# -- closing however iteration ends --------------------------------------------------------

HOW = ["break", "exception", "garbage-collection"]


@pytest.mark.parametrize("idle", [None, 5.0], ids=["sync", "sync-idle-timeout"])
@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("lib", LIBS)
def test_stopping_early_closes_the_sync_stream_and_its_response(
    exported: Exported, api: SdkApi, lib: str, how: str, idle: float | None
) -> None:
    boom = RuntimeError("consumer failed")
    with sdk_client("openai", api, exported.manager, lib, is_async=False) as client:
        stream = responses("complete")(client)
        if how == "break":
            for _ in instrument_sse(exported.manager, stream, idle_timeout=idle):
                break
        elif how == "exception":
            with pytest.raises(RuntimeError) as caught:
                for _ in instrument_sse(exported.manager, stream, idle_timeout=idle):
                    raise boom
            assert caught.value is boom
        else:
            wrapped = instrument_sse(exported.manager, stream, idle_timeout=idle)
            assert next(wrapped).type == "response.created"
            del wrapped
            gc.collect()
        assert stream.response.is_closed
    assert exported.records() == [api_request(1, 200), sse("response.created")]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("lib", LIBS)
def test_stopping_early_closes_the_async_stream_and_its_response(
    exported: Exported, api: SdkApi, lib: str, how: str
) -> None:
    boom = RuntimeError("consumer failed")

    async def main() -> None:
        async with sdk_client("openai", api, exported.manager, lib, is_async=True) as client:
            stream = await responses("complete")(client)
            if how == "break":
                async for _ in instrument_sse(exported.manager, stream):
                    break
            elif how == "exception":
                with pytest.raises(RuntimeError) as caught:
                    async for _ in instrument_sse(exported.manager, stream):
                        raise boom
                assert caught.value is boom
            else:
                wrapped = instrument_sse(exported.manager, stream)
                assert (await anext(wrapped)).type == "response.created"
                del wrapped
                gc.collect()
            assert await until(lambda: stream.response.is_closed)

    asyncio.run(main())
    assert exported.records() == [api_request(1, 200), sse("response.created")]
