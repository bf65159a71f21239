"""instrument_sse over a real `text/event-stream` from a local fake Responses API.

Every way a stream event becomes `codex.sse_event` has its own test, each run three
ways: a sync stream, a sync stream with an idle timeout (read in a helper thread), and
an async stream. The records asserted are the whole ones that reached a real receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse, connect_sse

from codex_otel import OtelEventManager, OtelProvider
from codex_otel.instrument import SseIdleTimeout, _reader, _sse, instrument_sse
from tests.conftest import METADATA, Exported, expect
from tests.fake_api import FAILED_ERROR, FakeApi

MODES = ["sync", "sync-idle-timeout", "async"]
SSE = "codex.sse_event"
READER_THREAD = "codex-otel-sse-reader"


@dataclass
class Outcome:
    seen: list[Any] = field(default_factory=list)  # what the consumer got
    given: list[Any] = field(default_factory=list)  # what the stream produced
    error: BaseException | None = None


def _tee(events: Iterator[Any], given: list[Any]) -> Iterator[Any]:
    try:
        for event in events:
            given.append(event)
            yield event
    finally:
        events.close()  # type: ignore[attr-defined]


async def _atee(events: AsyncIterator[Any], given: list[Any]) -> AsyncIterator[Any]:
    try:
        async for event in events:
            given.append(event)
            yield event
    finally:
        await events.aclose()  # type: ignore[attr-defined]


def consume(
    manager: OtelEventManager, api: FakeApi, stream: str, mode: str, idle: float | None = None
) -> Outcome:
    """Read /v1/sse/<stream> through instrument_sse the way `mode` says, to the end."""
    url = f"{api.url}/v1/sse/{stream}"
    if mode == "async":
        return asyncio.run(_consume_async(manager, url, idle))
    if mode == "sync-idle-timeout" and idle is None:
        idle = 5.0
    out = Outcome()
    with httpx.Client(timeout=5.0) as client, connect_sse(client, "POST", url) as source:
        try:
            for sse in instrument_sse(
                manager, _tee(source.iter_sse(), out.given), idle_timeout=idle
            ):
                out.seen.append(sse)
        except Exception as exc:
            out.error = exc
    return out


async def _consume_async(manager: OtelEventManager, url: str, idle: float | None) -> Outcome:
    out = Outcome()
    async with (
        httpx.AsyncClient(timeout=5.0) as client,
        aconnect_sse(client, "POST", url) as source,
    ):
        try:
            async for sse in instrument_sse(
                manager, _atee(source.aiter_sse(), out.given), idle_timeout=idle
            ):
                out.seen.append(sse)
        except Exception as exc:
            out.error = exc
    return out


def passed_unchanged(out: Outcome) -> bool:
    return len(out.seen) == len(out.given) and all(
        a is b for a, b in zip(out.seen, out.given, strict=True)
    )


def sse(kind: str | None, **fields: Any) -> dict[str, Any]:
    kind_field = {} if kind is None else {"event.kind": kind}
    return expect(SSE, duration_ms="<ms>", **kind_field, **fields)


def failure(kind: str | None, message: str) -> dict[str, Any]:
    return sse(kind, **{"error.message": message})


def completed_failed(message: str) -> dict[str, Any]:
    return expect(SSE, **{"event.kind": "response.completed", "error.message": message})


CREATED = sse("response.created")
DELTA = sse("response.output_text.delta")


@pytest.mark.parametrize("mode", MODES)
def test_a_complete_response_records_each_event_and_its_token_usage(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "complete", mode)
    assert out.error is None
    assert [s.event for s in out.seen] == [
        "response.created",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_item.done",
        "response.completed",
    ]
    assert passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        DELTA,
        DELTA,
        sse("response.output_item.done"),
        sse("response.completed"),
        expect(
            SSE,
            input_token_count=1200,
            output_token_count=300,
            cached_token_count=1000,
            reasoning_token_count=64,
            tool_token_count=1500,
            **{"event.kind": "response.completed"},
        ),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_done_records_an_event_of_that_sse_events_kind(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "done", mode)
    assert (out.error, [s.data for s in out.seen][-1]) == (None, "[DONE]")
    assert passed_unchanged(out)
    # `data: [DONE]` with no `event:` line is of the SSE default kind, "message".
    assert exported.records() == [DELTA, sse("message")]


@pytest.mark.parametrize("mode", MODES)
def test_response_failed_records_a_failure_whose_message_is_its_json(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "failed", mode)
    assert out.error is None and passed_unchanged(out)
    data = {
        "type": "response.failed",
        "response": {"id": "resp_1", "status": "failed", "error": FAILED_ERROR},
    }
    assert exported.records() == [
        CREATED,
        failure("response.failed", json.dumps(data, separators=(",", ":"))),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_an_output_item_done_that_is_not_an_output_item_records_a_parse_failure(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "bad-item", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        failure("response.output_item.done", "failed to parse response.output_item.done"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_data_that_is_not_json_records_the_parse_error(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "not-json", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        failure(
            "response.output_text.delta",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_an_error_from_the_stream_records_a_failure_without_kind_and_reaches_the_caller(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "cut", mode)
    assert isinstance(out.error, httpx.RemoteProtocolError)
    assert "incomplete chunked read" in str(out.error)
    assert passed_unchanged(out)
    assert exported.records() == [CREATED, failure(None, str(out.error))]


# A sync stream with an idle timeout is always read in a helper thread.
@pytest.mark.parametrize("mode", ["sync-idle-timeout", "async"])
def test_no_event_within_the_idle_timeout_records_a_failure_then_raises(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    readers_before = _reader_threads()
    out = consume(exported.manager, fake_api, "stall", mode, idle=0.3)
    assert isinstance(out.error, SseIdleTimeout) and isinstance(out.error, TimeoutError)
    assert str(out.error) == "idle timeout waiting for SSE"
    assert passed_unchanged(out) and len(out.seen) == 1
    assert exported.records() == [CREATED, failure(None, "idle timeout waiting for SSE")]
    # The recorded wait is the one that timed out (at least the timeout, minus clock slack).
    waited = exported.receiver.logs[-1].attributes["duration_ms"]
    assert isinstance(waited, int) and waited >= 250
    # A helper thread blocked on the silent server ends once the server speaks again.
    fake_api.release.set()
    _join_new_readers(readers_before)


@pytest.mark.parametrize("mode", MODES)
def test_the_end_of_the_stream_records_nothing(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "end", mode)
    assert out.error is None and passed_unchanged(out) and len(out.seen) == 1
    assert exported.records() == [CREATED]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_without_usage_records_completed_failed(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "no-usage", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        sse("response.completed"),
        completed_failed("response.completed without response.usage"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_with_unreadable_usage_records_completed_failed(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "bad-usage", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        sse("response.completed"),
        completed_failed(
            "response.completed usage unreadable: "
            "response.usage.input_tokens: expected a non-negative integer, got '1200'"
        ),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_that_is_not_json_records_both_failures(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "completed-not-json", mode)
    assert out.error is None and passed_unchanged(out)
    error = "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert exported.records() == [
        CREATED,
        failure("response.completed", error),
        completed_failed(f"response.completed data is not JSON: {error}"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_without_token_details_leaves_cached_and_reasoning_out(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "no-details", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        sse("response.completed"),
        expect(
            SSE,
            input_token_count=10,
            output_token_count=5,
            tool_token_count=15,
            **{"event.kind": "response.completed"},
        ),
    ]


# -- early close -------------------------------------------------------------------------


def _reader_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == READER_THREAD}


def _join_new_readers(before: set[threading.Thread]) -> None:
    for thread in _reader_threads() - before:
        thread.join(timeout=5.0)
        assert not thread.is_alive()


SYNC_IDLE = [None, 5.0]


@pytest.mark.parametrize("idle", SYNC_IDLE, ids=["sync", "sync-idle-timeout"])
def test_breaking_out_closes_the_sync_stream(
    exported: Exported, fake_api: FakeApi, idle: float | None
) -> None:
    with (
        httpx.Client(timeout=5.0) as client,
        connect_sse(client, "POST", f"{fake_api.url}/v1/sse/complete") as source,
    ):
        events = source.iter_sse()
        for _ in instrument_sse(exported.manager, events, idle_timeout=idle):
            break
        assert inspect.getgeneratorstate(events) == inspect.GEN_CLOSED
    assert exported.records() == [CREATED]


@pytest.mark.parametrize("idle", SYNC_IDLE, ids=["sync", "sync-idle-timeout"])
def test_an_exception_in_the_consumer_closes_the_sync_stream_and_propagates(
    exported: Exported, fake_api: FakeApi, idle: float | None
) -> None:
    boom = RuntimeError("consumer failed")
    with (
        httpx.Client(timeout=5.0) as client,
        connect_sse(client, "POST", f"{fake_api.url}/v1/sse/complete") as source,
    ):
        events = source.iter_sse()
        with pytest.raises(RuntimeError) as caught:
            for _ in instrument_sse(exported.manager, events, idle_timeout=idle):
                raise boom
        assert caught.value is boom
        assert inspect.getgeneratorstate(events) == inspect.GEN_CLOSED


@pytest.mark.parametrize("idle", SYNC_IDLE, ids=["sync", "sync-idle-timeout"])
def test_garbage_collection_closes_the_sync_stream(
    exported: Exported, fake_api: FakeApi, idle: float | None
) -> None:
    with (
        httpx.Client(timeout=5.0) as client,
        connect_sse(client, "POST", f"{fake_api.url}/v1/sse/complete") as source,
    ):
        events = source.iter_sse()
        wrapped = instrument_sse(exported.manager, events, idle_timeout=idle)
        assert next(wrapped).event == "response.created"
        del wrapped
        gc.collect()
        assert inspect.getgeneratorstate(events) == inspect.GEN_CLOSED


def _async_closed(agen: Any) -> bool:
    return agen.ag_frame is None  # a finished or closed async generator has no frame


async def _let_finalisers_run() -> None:
    # An abandoned async generator is closed by a task the event loop's finaliser schedules.
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.mark.parametrize("how", ["break", "aclosing", "exception", "garbage-collection"])
def test_stopping_early_closes_the_async_stream(
    exported: Exported, fake_api: FakeApi, how: str
) -> None:
    boom = RuntimeError("consumer failed")

    async def main() -> None:
        async with (
            httpx.AsyncClient(timeout=5.0) as client,
            aconnect_sse(client, "POST", f"{fake_api.url}/v1/sse/complete") as source,
        ):
            events = source.aiter_sse()
            if how == "break":
                async for _ in instrument_sse(exported.manager, events):
                    break
                await _let_finalisers_run()
            elif how == "aclosing":  # closed at once, no loop turn needed
                async with contextlib.aclosing(instrument_sse(exported.manager, events)) as it:
                    async for _ in it:
                        break
            elif how == "exception":
                with pytest.raises(RuntimeError) as caught:
                    async for _ in instrument_sse(exported.manager, events):
                        raise boom
                assert caught.value is boom
                await _let_finalisers_run()
            else:
                wrapped = instrument_sse(exported.manager, events)
                assert (await anext(wrapped)).event == "response.created"
                del wrapped
                gc.collect()
                await _let_finalisers_run()
            assert _async_closed(events)

    asyncio.run(main())
    assert exported.records() == [CREATED]


# -- other inputs and limits -------------------------------------------------------------


def test_any_objects_with_event_and_data_are_accepted(exported: Exported) -> None:
    events = [
        SimpleNamespace(event="response.created", data='{"type": "response.created"}'),
        ServerSentEvent(data="[DONE]"),
    ]
    assert list(instrument_sse(exported.manager, events)) == events
    assert exported.records() == [CREATED, sse("message")]


def test_a_non_positive_idle_timeout_is_refused(exported: Exported) -> None:
    with pytest.raises(ValueError, match="idle_timeout must be a positive number of seconds"):
        instrument_sse(exported.manager, [], idle_timeout=0)


def test_with_every_reader_thread_busy_a_sync_stream_is_read_without_idle_timeout(
    exported: Exported,
    fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(_reader, "_slots", threading.BoundedSemaphore(1))
    monkeypatch.setattr(_sse, "_warned_no_reader", threading.Event())
    assert _reader._slots.acquire(blocking=False)  # the one slot is taken
    before = _reader_threads()
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        out = consume(exported.manager, fake_api, "end", "sync-idle-timeout")
        out_again = consume(exported.manager, fake_api, "end", "sync-idle-timeout")
    assert (out.error, out_again.error) == (None, None)
    assert _reader_threads() == before
    assert [r.getMessage() for r in caplog.records] == [
        "codex_otel: no SSE reader thread available (at most 32 at once); "
        "this sync stream is read without its idle timeout"
    ]
    assert exported.records() == [CREATED, CREATED]


def test_with_no_exporter_events_pass_through_and_the_stream_is_closed() -> None:
    provider = OtelProvider(None)
    manager = OtelEventManager(provider, **METADATA)
    given = [ServerSentEvent(event="response.created", data="{}")] * 3

    def source() -> Iterator[ServerSentEvent]:
        yield from given

    events = source()
    assert list(instrument_sse(manager, events, idle_timeout=5.0)) == given
    assert inspect.getgeneratorstate(events) == inspect.GEN_CLOSED


def test_a_reader_thread_whose_consumer_vanished_without_closing_ends_and_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The consumer's generator always closes its reader; this is the safety net behind it.
    monkeypatch.setattr(_reader, "_OWNER_POLL_SECONDS", 0.05)

    def source() -> Iterator[ServerSentEvent]:
        while True:
            yield ServerSentEvent(event="response.created", data="{}")

    events = source()
    reader = _reader.ThreadedReader.start(events)
    assert reader is not None
    assert reader.next(timeout=5.0).event == "response.created"
    thread = reader._thread
    del reader
    gc.collect()
    thread.join(timeout=5.0)
    assert not thread.is_alive()
    assert inspect.getgeneratorstate(events) == inspect.GEN_CLOSED
