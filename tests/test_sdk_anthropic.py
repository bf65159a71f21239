"""The real `anthropic` SDK through the httpx2 transport and instrument_sse.

A local server streams the Messages API as documented (pings included); what is
asserted is the whole of every record that reached a real OTLP receiver. Anthropic 2.x
refuses an `httpx` client outright, so only httpx2 is used (and the refusal is checked).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from codex_otel import OtelEventManager
from codex_otel.instrument import SseIdleTimeout, instrument_sse
from tests.conftest import Exported
from tests.sdk_api import MESSAGES_KINDS, SdkApi
from tests.sdk_streams import (
    MODES,
    api_request,
    assert_as_uninstrumented,
    completed_failed,
    completion,
    dumps,
    failure,
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


def messages(model: str) -> Any:
    return lambda client: client.messages.create(
        model=model,
        max_tokens=256,
        messages=[{"role": "user", "content": "Say hello"}],
        stream=True,
    )


# input 1200 + cache read 1000 + cache creation 100 + output 300
MESSAGE_COMPLETION = completion(
    input_token_count=1200,
    output_token_count=300,
    cached_token_count=1000,
    reasoning_token_count=64,
    tool_token_count=2600,
)


@pytest.mark.parametrize("mode", MODES)
def test_a_messages_stream_records_the_request_every_event_and_the_usage(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    lib = "httpx2"
    out = read("anthropic", api, exported.manager, lib, mode, messages("complete"))
    plain = read("anthropic", api, None, lib, mode, messages("complete"))
    assert (out.error, out.closed) == (None, True)
    assert [e.type for e in out.events] == MESSAGES_KINDS
    assert dumps(out.events) == dumps(plain.events)  # the SDK's results, unchanged
    records = exported.records()
    assert records == [
        api_request(1, 200),
        *(sse(kind) for kind in MESSAGES_KINDS),
        MESSAGE_COMPLETION,
    ]
    assert token_types(records) == {"int"}


@pytest.mark.parametrize("mode", MODES)
def test_the_sdks_retries_on_500_and_429_are_recorded_with_rising_attempts(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("anthropic", api, exported.manager, "httpx2", mode, messages("retry"))
    assert (out.error, out.closed, len(out.events)) == (None, True, len(MESSAGES_KINDS))
    assert exported.records() == [
        api_request(1, 500),
        api_request(2, 429),
        api_request(3, 200),
        *(sse(kind) for kind in MESSAGES_KINDS),
        MESSAGE_COMPLETION,
    ]


@pytest.mark.parametrize("mode", MODES)
def test_an_error_event_in_the_stream_records_a_failure_and_reaches_the_caller(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("anthropic", api, exported.manager, "httpx2", mode, messages("error"))
    plain = read("anthropic", api, None, "httpx2", mode, messages("error"))
    assert_as_uninstrumented(out, plain)
    assert [e.type for e in out.events] == MESSAGES_KINDS[:2]
    # The record carries the message the caller got, whatever the SDK's wording.
    assert exported.records() == [
        api_request(1, 200),
        sse("message_start"),
        sse("content_block_start"),
        failure(None, str(plain.error)),
    ]
    assert "overloaded_error" in str(plain.error)  # the server's error event, not a cut


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_cut_short_records_a_failure_and_no_usage(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("anthropic", api, exported.manager, "httpx2", mode, messages("cut"))
    plain = read("anthropic", api, None, "httpx2", mode, messages("cut"))
    assert_as_uninstrumented(out, plain)
    assert [e.type for e in out.events] == MESSAGES_KINDS[:2]
    assert exported.records() == [
        api_request(1, 200),
        sse("message_start"),
        sse("content_block_start"),
        failure(None, str(plain.error)),
    ]


@pytest.mark.parametrize("mode", ["sync-idle-timeout", "async"])
def test_no_event_within_the_idle_timeout_records_a_failure_raises_and_closes(
    exported: Exported, api: SdkApi, mode: str
) -> None:
    out = read("anthropic", api, exported.manager, "httpx2", mode, messages("stall"), idle=0.3)
    assert isinstance(out.error, SseIdleTimeout)
    assert (out.closed, [e.type for e in out.events]) == (True, ["message_start"])
    assert exported.records() == [
        api_request(1, 200),
        sse("message_start"),
        failure(None, "idle timeout waiting for SSE"),
    ]


def test_the_message_stream_helper_records_only_the_events_on_the_wire(
    exported: Exported, api: SdkApi
) -> None:
    # `messages.stream()` adds events derived from the ones just read (`text`, ...).
    with (
        sdk_client("anthropic", api, exported.manager, "httpx2", is_async=False) as client,
        client.messages.stream(
            model="complete", max_tokens=256, messages=[{"role": "user", "content": "Hi"}]
        ) as stream,
    ):
        kinds = [event.type for event in instrument_sse(exported.manager, stream)]
        assert stream.response.is_closed
    assert kinds == [
        *MESSAGES_KINDS[:3],
        "text",
        "content_block_delta",
        "text",
        *MESSAGES_KINDS[4:],
    ]
    assert exported.records() == [
        api_request(1, 200),
        *(sse(kind) for kind in MESSAGES_KINDS),
        MESSAGE_COMPLETION,
    ]


def test_a_message_stop_without_any_usage_records_completed_failed(exported: Exported) -> None:
    # Unit test of shape: the API always sends usage in message_start.
    events = [
        anthropic.types.RawMessageStopEvent(type="message_stop"),
    ]
    assert list(instrument_sse(exported.manager, events)) == events
    assert exported.records() == [
        sse("message_stop"),
        completed_failed("message_stop without usage"),
    ]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_the_sdk_refuses_an_httpx_client_so_httpx2_is_the_transport_to_use(
    exported: Exported, api: SdkApi, is_async: bool
) -> None:
    # Pins an SDK behaviour that the README's advice rests on; it holds for anthropic 2.x,
    # the range pyproject.toml allows (checked at both ends by make test-lowest/test-latest).
    manager: OtelEventManager = exported.manager
    with pytest.raises(TypeError, match="this SDK uses `httpx2`"):
        sdk_client("anthropic", api, manager, "httpx", is_async=is_async)
    assert exported.records() == []


# -- closing however iteration ends --------------------------------------------------------

HOW = ["break", "exception", "garbage-collection"]


@pytest.mark.parametrize("idle", [None, 5.0], ids=["sync", "sync-idle-timeout"])
@pytest.mark.parametrize("how", HOW)
def test_stopping_early_closes_the_sync_stream_and_its_response(
    exported: Exported, api: SdkApi, how: str, idle: float | None
) -> None:
    boom = RuntimeError("consumer failed")
    with sdk_client("anthropic", api, exported.manager, "httpx2", is_async=False) as client:
        stream = messages("complete")(client)
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
            assert next(wrapped).type == "message_start"
            del wrapped
            gc.collect()
        assert stream.response.is_closed
    assert exported.records() == [api_request(1, 200), sse("message_start")]


@pytest.mark.parametrize("how", HOW)
def test_stopping_early_closes_the_async_stream_and_its_response(
    exported: Exported, api: SdkApi, how: str
) -> None:
    boom = RuntimeError("consumer failed")

    async def main() -> None:
        async with sdk_client(
            "anthropic", api, exported.manager, "httpx2", is_async=True
        ) as client:
            stream = await messages("complete")(client)
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
                assert (await anext(wrapped)).type == "message_start"
                del wrapped
                gc.collect()
            assert await until(lambda: stream.response.is_closed)

    asyncio.run(main())
    assert exported.records() == [api_request(1, 200), sse("message_start")]
