"""Wrap a stream of server-sent events so that each wait emits `codex.sse_event`."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Generator,
    Iterable,
    Iterator,
)
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .._errors import IDLE_TIMEOUT_MESSAGE, SseIdleTimeout, internal_logger
from .._values import error_text, seconds_since
from ._reader import MAX_READER_THREADS, ReaderIdle, ThreadedReader, close_iterator
from ._sse_events import ServerSentEventLike, record_event

if TYPE_CHECKING:
    from .._manager import OtelEventManager

__all__ = ["ServerSentEventLike", "SseIdleTimeout", "instrument_sse"]

E = TypeVar("E", bound=ServerSentEventLike)


@overload
def instrument_sse(
    manager: OtelEventManager, events: AsyncIterable[E], *, idle_timeout: float | None = None
) -> AsyncGenerator[E, None]: ...


@overload
def instrument_sse(
    manager: OtelEventManager, events: Iterable[E], *, idle_timeout: float | None = None
) -> Generator[E, None, None]: ...


def instrument_sse(
    manager: OtelEventManager,
    events: Iterable[E] | AsyncIterable[E],
    *,
    idle_timeout: float | None = None,
) -> Generator[E, None, None] | AsyncGenerator[E, None]:
    """Pass every event through unchanged, recording each wait as `codex.sse_event`.

    An async iterable gives an async generator, anything else a generator. With
    `idle_timeout` (seconds), a wait longer than that is recorded and raises
    `SseIdleTimeout`. The wrapped stream is closed however iteration ends.
    """
    if idle_timeout is not None and not idle_timeout > 0:
        raise ValueError(f"idle_timeout must be a positive number of seconds, got {idle_timeout!r}")
    if isinstance(events, AsyncIterable):
        return _async_events(manager, aiter(events), idle_timeout)
    return _sync_events(manager, iter(events), idle_timeout)


def _sync_events(
    manager: OtelEventManager, events: Iterator[E], idle_timeout: float | None
) -> Generator[E, None, None]:
    reader = _start_reader(events) if idle_timeout is not None else None
    wait = idle_timeout or 0.0
    failure: BaseException | None = None
    try:
        while True:
            start = time.perf_counter_ns()
            try:
                event = next(events) if reader is None else reader.next(wait)
            except StopIteration:
                return  # the end of the stream records nothing
            except ReaderIdle:
                manager.sse_event_failed(None, seconds_since(start), IDLE_TIMEOUT_MESSAGE)
                failure = SseIdleTimeout()
                raise failure from None
            except Exception as exc:
                manager.sse_event_failed(None, seconds_since(start), error_text(exc))
                failure = exc
                raise
            if manager.recording:
                record_event(manager, event, seconds_since(start))
            yield event
    finally:
        # The response is done with its stream: its chat span ends (failed, if the stream did).
        manager.end_chat(failure)
        if reader is None:
            close_iterator(events)
        else:
            reader.close()


_warned_no_reader = threading.Event()


def _start_reader(events: Iterator[E]) -> ThreadedReader[E] | None:
    reader = ThreadedReader.start(events)
    if reader is None and not _warned_no_reader.is_set():
        _warned_no_reader.set()
        internal_logger.warning(
            "codex_otel: no SSE reader thread available (at most %d at once); "
            "this sync stream is read without its idle timeout",
            MAX_READER_THREADS,
        )
    return reader


class _Idle(Exception):
    pass


if sys.version_info >= (3, 11):

    async def _anext_within(events: AsyncIterator[E], seconds: float) -> E:
        scope = asyncio.timeout(seconds)
        try:
            async with scope:
                return await anext(events)
        except TimeoutError:
            if scope.expired():
                raise _Idle from None
            raise  # the stream's own TimeoutError

else:  # pragma: no cover - Python 3.10

    async def _anext_within(events: AsyncIterator[E], seconds: float) -> E:
        try:
            return await asyncio.wait_for(anext(events), seconds)
        except asyncio.TimeoutError:
            # 3.10 cannot tell the stream's own asyncio.TimeoutError from ours.
            raise _Idle from None


async def _async_events(
    manager: OtelEventManager, events: AsyncIterator[E], idle_timeout: float | None
) -> AsyncGenerator[E, None]:
    failure: BaseException | None = None
    try:
        while True:
            start = time.perf_counter_ns()
            try:
                if idle_timeout is None:
                    event = await anext(events)
                else:
                    event = await _anext_within(events, idle_timeout)
            except StopAsyncIteration:
                return
            except _Idle:
                manager.sse_event_failed(None, seconds_since(start), IDLE_TIMEOUT_MESSAGE)
                failure = SseIdleTimeout()
                raise failure from None
            except Exception as exc:
                manager.sse_event_failed(None, seconds_since(start), error_text(exc))
                failure = exc
                raise
            if manager.recording:
                record_event(manager, event, seconds_since(start))
            yield event
    finally:
        manager.end_chat(failure)
        aclose: Any = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
