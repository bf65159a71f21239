"""Concurrent requests in one conversation each get one complete chat span of their own.

The real SDKs, through the instrumented httpx2 transports and `instrument_sse`, make 2 or 20
streamed calls at once, from threads or asyncio tasks; the local server sends the streams
frame by frame together, so they truly overlap. Each chat span must carry its own response
id and usage, exactly its own events, and last from its request to its stream's end.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import EventSource

from codex_otel import OtelEventManager
from codex_otel.instrument import instrument_sse
from codex_otel.testing import OtlpReceiver, ReceivedSpan
from tests.sdk_api import SdkApi
from tests.sdk_streams import sdk_client
from tests.spans import (
    APIS,
    COMPLETED,
    TURN,
    Api,
    chat_attributes,
    chats,
    events_by_span,
    kinds,
    manager_of,
    only,
    traced,
)

READ_TIMEOUT = 30.0  # bounds each worker


@pytest.fixture
def api() -> Iterator[SdkApi]:
    with SdkApi() as running:
        yield running


def _threads(manager: OtelEventManager, api: SdkApi, spec: Api, count: int) -> None:
    """`count` threads sharing one client, each streaming its own request; each runs in a
    copy of the caller's context (inside the turn, when there is one)."""
    errors: list[BaseException] = []
    with sdk_client(spec.sdk, api, manager, "httpx2", is_async=False) as client:

        def work(n: int) -> None:
            try:
                stream = spec.call(client, f"overlap-{n}")
                for _ in instrument_sse(manager, stream):
                    pass
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(work, n))
            for n in range(count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(READ_TIMEOUT)
        assert not any(thread.is_alive() for thread in threads)
    assert errors == []


async def _tasks(manager: OtelEventManager, api: SdkApi, spec: Api, count: int) -> None:
    async with sdk_client(spec.sdk, api, manager, "httpx2", is_async=True) as client:

        async def work(n: int) -> None:
            stream = await spec.call(client, f"overlap-{n}")
            async for _ in instrument_sse(manager, stream):
                pass

        await asyncio.wait_for(asyncio.gather(*(work(n) for n in range(count))), READ_TIMEOUT)


def _run(manager: OtelEventManager, api: SdkApi, spec: Api, count: int, how: str) -> None:
    api.lockstep(count)
    if how == "threads":
        _threads(manager, api, spec, count)
    else:
        asyncio.run(_tasks(manager, api, spec, count))


def _check_chats(receiver: OtlpReceiver, api: SdkApi, spec: Api, count: int) -> list[ReceivedSpan]:
    """Each chat span whole, with exactly its own events inside its own time; returns them."""
    spans = chats(receiver.spans)
    assert len(spans) == count
    by_span = events_by_span(receiver.logs)
    by_id = {span.attributes["gen_ai.response.id"]: span for span in spans}
    assert sorted(by_id) == sorted(spec.response_id(n) for n in range(count))
    for n in range(count):
        span = by_id[spec.response_id(n)]
        assert (span.attributes, span.status_code) == (
            chat_attributes(
                api,
                spec.path,
                **spec.usage(n),
                **{
                    "gen_ai.response.id": spec.response_id(n),
                    "gen_ai.response.model": spec.response_model,
                },
            ),
            "UNSET",
        )
        own = by_span[span.span_id]
        assert kinds(own) == [
            ("codex.api_request", None),
            *(("codex.sse_event", kind) for kind in spec.kinds),
        ]
        # Its own completion: the input tokens the server gave request n.
        usage = own[-1].attributes
        assert usage["event.kind"] == COMPLETED
        assert usage["input_token_count"] == spec.raw_input(n)
        # From its request to its stream's end: every event of it falls inside it.
        assert span.start_time_unix_nano <= own[0].time_unix_nano
        assert own[-1].time_unix_nano <= span.end_time_unix_nano
    # The streams truly overlapped: each began before any ended.
    assert max(s.start_time_unix_nano for s in spans) < min(s.end_time_unix_nano for s in spans)
    return spans


@pytest.mark.parametrize("how", ["threads", "asyncio"])
@pytest.mark.parametrize("name", list(APIS))
def test_two_concurrent_streams_outside_a_turn_each_get_their_own_whole_span(
    receiver: OtlpReceiver, api: SdkApi, name: str, how: str
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    _run(manager, api, APIS[name], 2, how)
    provider.shutdown()

    spans = _check_chats(receiver, api, APIS[name], 2)
    assert [span.parent_span_id for span in spans] == ["", ""]
    # Every record belongs to a chat span: none was recorded outside its own.
    assert {log.span_id for log in receiver.logs} == {span.span_id for span in spans}


@pytest.mark.parametrize("how", ["threads", "asyncio"])
@pytest.mark.parametrize("name", list(APIS))
def test_twenty_concurrent_streams_in_a_turn_each_get_their_own_whole_span(
    receiver: OtlpReceiver, api: SdkApi, name: str, how: str
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    spec = APIS[name]

    async def in_async_turn() -> None:
        async with manager.turn("turn-1"):
            await _tasks(manager, api, spec, 20)

    if how == "threads":
        with manager.turn("turn-1"):
            _run(manager, api, spec, 20, how)
    else:
        api.lockstep(20)
        asyncio.run(in_async_turn())
    provider.shutdown()

    spans = _check_chats(receiver, api, spec, 20)
    turn = only(receiver.spans, TURN)
    assert {span.parent_span_id for span in spans} == {turn.span_id}
    assert {log.attributes["turn.id"] for log in receiver.logs} == {"turn-1"}
    totals: dict[str, int] = {}
    for n in range(20):
        for key, value in spec.usage(n).items():
            totals[key] = totals.get(key, 0) + value
    assert {key: turn.attributes.get(key) for key in totals} == totals
    assert (turn.attributes["codex.turn.outcome"], turn.status_code) == ("completed", "OK")
    assert turn.end_time_unix_nano >= max(span.end_time_unix_nano for span in spans)


def _raw_stream(manager: OtelEventManager, client: httpx.Client, api: SdkApi, n: int) -> None:
    """The README's way without the transports: `log_request` around the send, then the
    events of its response (a generator, which names no response) through instrument_sse."""
    request = client.build_request(
        "POST", f"{api.url}/v1/responses", json={"model": f"overlap-{n}", "stream": True}
    )
    response: Any = manager.log_request(1, lambda: client.send(request, stream=True))
    try:
        for _ in instrument_sse(manager, EventSource(response).iter_sse()):
            pass
    finally:
        response.close()


def test_log_request_streams_read_in_their_own_threads_each_get_their_own_span(
    receiver: OtlpReceiver, api: SdkApi
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    api.lockstep(2)
    with httpx.Client(timeout=READ_TIMEOUT) as client:
        threads = [
            threading.Thread(target=_raw_stream, args=(manager, client, api, n)) for n in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(READ_TIMEOUT)
    provider.shutdown()

    _check_chats(receiver, api, APIS["responses"], 2)


@pytest.mark.parametrize("how", ["threads", "asyncio"])
def test_a_hundred_concurrent_streams_each_get_their_own_whole_span(
    receiver: OtlpReceiver, api: SdkApi, how: str
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    _run(manager, api, APIS["responses"], 100, how)
    provider.shutdown()

    spans = _check_chats(receiver, api, APIS["responses"], 100)
    assert {log.span_id for log in receiver.logs} == {span.span_id for span in spans}
    assert provider.stats("spans").exported == 100


def test_spans_held_open_for_unread_streams_are_bounded_and_still_exported(
    receiver: OtlpReceiver, api: SdkApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Responses left open in contexts of their own: past the bound the oldest span ends
    (exported, never lost); the rest end at shutdown."""
    monkeypatch.setattr("codex_otel._traces.MAX_HELD", 2)
    provider = traced(receiver)
    manager = manager_of(provider)
    opened: list[Any] = []
    with httpx.Client(timeout=READ_TIMEOUT) as client:

        def send(n: int) -> None:
            request = client.build_request(
                "POST", f"{api.url}/v1/responses", json={"model": "complete", "stream": True}
            )
            opened.append(manager.log_request(n, lambda: client.send(request, stream=True)))

        for n in (1, 2, 3):
            contextvars.copy_context().run(send, n)
        provider.force_flush()
        # The third held span ended the oldest: exported, as is.
        ended_early = [
            span.attributes.get("http.request.resend_count", 0) for span in chats(receiver.spans)
        ]
        provider.shutdown()
        for response in opened:
            response.close()

    assert ended_early == [0]
    assert provider.stats("spans").exported == 3
    assert sorted(
        span.attributes.get("http.request.resend_count", 0) for span in chats(receiver.spans)
    ) == [0, 1, 2]


def test_two_log_request_streams_read_in_turn_by_one_thread_each_get_their_own_span(
    receiver: OtlpReceiver, api: SdkApi
) -> None:
    """One context, two SDK streams that `log_request` returned (no transports), read event
    by event in turn: each stream's events, usage and end go to its own span."""
    provider = traced(receiver)
    manager = manager_of(provider)
    api.lockstep(2)
    spec = APIS["responses"]
    with sdk_client("openai", api, None, "httpx2", is_async=False) as client:
        streams = [
            manager.log_request(1, lambda n=n: spec.call(client, f"overlap-{n}")) for n in range(2)
        ]
        readers = [iter(instrument_sse(manager, stream)) for stream in streams]
        for _ in zip(*readers, strict=True):
            pass
        for reader in readers:
            assert next(reader, None) is None
    provider.shutdown()

    _check_chats(receiver, api, spec, 2)
