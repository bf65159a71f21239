"""instrument_sse always closes what it wraps (break, exception, garbage collection, sync and
async), and its other inputs and limits: any event-like objects, reader threads bounded."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse, connect_sse

from codex_otel import OtelEventManager, OtelProvider
from codex_otel.instrument import _reader, _sse, instrument_sse
from tests.conftest import METADATA, Exported
from tests.fake_api import FakeApi
from tests.sse_helpers import (
    CREATED,
    _reader_threads,
    consume,
    sse,
)

# -- early close -------------------------------------------------------------------------


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
