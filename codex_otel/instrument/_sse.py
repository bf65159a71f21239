"""Wrap a stream of server-sent events or SDK stream events: each wait emits `codex.sse_event`."""

from __future__ import annotations

import asyncio
import inspect
import sys
import threading
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
)
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from .._errors import (
    IDLE_TIMEOUT_MESSAGE,
    SseIdleTimeout,
    internal_logger,
    report_internal_error,
)
from .._scopes import SCOPE, Scope, SpanScope, chat_of
from .._values import error_text, seconds_since
from ..catalog import Event
from ._reader import MAX_READER_THREADS, ReaderIdle, ThreadedReader, close_iterator
from ._sdk_streams import TypedStreamState, record_typed
from ._sse_events import ServerSentEventLike, record_raw

if TYPE_CHECKING:
    from .._manager import OtelEventManager

__all__ = ["AsyncSseEvents", "ServerSentEventLike", "SseEvents", "SseIdleTimeout", "instrument_sse"]

E = TypeVar("E")


class SseEvents(Generator[E, None, None]):
    """What `instrument_sse` gives for a sync stream: a generator over its events that is
    also a context manager, so an exception raised while reading them (in the loop's body)
    reaches the chat span: `with instrument_sse(otel, stream) as events: for event in events:`.
    """

    __slots__ = ("_chat", "_events")

    def __init__(self, events: Generator[E, None, None], chat: SpanScope | None) -> None:
        self._events = events
        self._chat = chat

    def __iter__(self) -> SseEvents[E]:
        return self

    def __next__(self) -> E:
        return self._events.__next__()

    def send(self, value: None) -> E:
        return self._events.send(value)

    def throw(self, *args: Any) -> E:
        return self._events.throw(*args)

    def close(self) -> None:
        self._events.close()

    def __enter__(self) -> SseEvents[E]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _failed(self._chat, exc)
        self.close()


class AsyncSseEvents(AsyncGenerator[E, None]):
    """`SseEvents` for an async stream: `async with instrument_sse(otel, stream) as events:`."""

    __slots__ = ("_chat", "_events")

    def __init__(self, events: AsyncGenerator[E, None], chat: SpanScope | None) -> None:
        self._events = events
        self._chat = chat

    def __aiter__(self) -> AsyncSseEvents[E]:
        return self

    def __anext__(self) -> Coroutine[Any, Any, E]:
        return self._events.__anext__()

    def asend(self, value: None) -> Coroutine[Any, Any, E]:
        return self._events.asend(value)

    def athrow(self, *args: Any) -> Coroutine[Any, Any, E]:
        return self._events.athrow(*args)

    def aclose(self) -> Coroutine[Any, Any, None]:
        return self._events.aclose()

    async def __aenter__(self) -> AsyncSseEvents[E]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _failed(self._chat, exc)
        await self.aclose()


def _failed(chat: SpanScope | None, exc: BaseException | None) -> None:
    """The reader raised while the stream was read: the stream's chat ends ERROR."""
    if chat is not None and exc is not None and not isinstance(exc, GeneratorExit):
        chat.fail(exc)


@overload
def instrument_sse(
    manager: OtelEventManager, events: AsyncIterable[E], *, idle_timeout: float | None = None
) -> AsyncSseEvents[E]: ...


@overload
def instrument_sse(
    manager: OtelEventManager, events: Iterable[E], *, idle_timeout: float | None = None
) -> SseEvents[E]: ...


def instrument_sse(
    manager: OtelEventManager,
    events: Iterable[E] | AsyncIterable[E],
    *,
    idle_timeout: float | None = None,
) -> SseEvents[E] | AsyncSseEvents[E]:
    """Pass every event through unchanged, recording each wait as `codex.sse_event`.

    `events` is a stream of raw server-sent events (anything with `event` and `data`,
    as httpx-sse and httpx2 give) or a typed SDK stream: an OpenAI `Stream`/`AsyncStream`
    of Responses API events or Chat Completions chunks, or an Anthropic one of Messages
    events. An async iterable gives an async generator, anything else a generator
    (httpx2's `EventSource` is both: pass `iter(source)` to read it sync); either is also
    a context manager (`with`/`async with`) that tells the chat span about an exception
    raised in your loop. With `idle_timeout` (seconds), a wait longer than that is recorded
    and raises `SseIdleTimeout`. The wrapped stream, and the SDK stream with its HTTP
    response, is closed however iteration ends.

    With traces on, the events are recorded in the chat span of the response under
    `events` (an SDK stream or a response sent through the transports), else in the one the
    latest request of this thread or task left open; usage and response id go on it, and it
    ends when this stream does: ERROR if it failed.
    """
    if idle_timeout is not None and not idle_timeout > 0:
        raise ValueError(f"idle_timeout must be a positive number of seconds, got {idle_timeout!r}")
    chat = chat_of(events) if manager.tracing else None  # here: in the caller's context
    if isinstance(events, AsyncIterable):
        return AsyncSseEvents(
            _async_events(manager, _owned_async(events), idle_timeout, chat), chat
        )
    return SseEvents(_sync_events(manager, _owned(events), idle_timeout, chat), chat)


def _owned(events: Iterable[E]) -> Iterator[E]:
    """An iterator over `events` whose closing closes `events` too.

    An SDK stream's iterator is a fresh generator over the stream: closing only that
    would leave the stream's HTTP response open.
    """
    iterator = iter(events)
    if iterator is events or not callable(getattr(events, "close", None)):
        return iterator
    return _closing(iterator, events)


def _closing(iterator: Iterator[E], owner: object) -> Generator[E, None, None]:
    try:
        yield from iterator
    finally:
        try:
            close_iterator(iterator)
        finally:
            close_iterator(owner)


def _owned_async(events: AsyncIterable[E]) -> AsyncIterator[E]:
    iterator = aiter(events)
    if iterator is events or not (hasattr(events, "aclose") or hasattr(events, "close")):
        return iterator
    return _aclosing(iterator, events)


async def _aclosing(iterator: AsyncIterator[E], owner: object) -> AsyncGenerator[E, None]:
    try:
        async for event in iterator:
            yield event
    finally:
        try:
            await _aclose(iterator)
        finally:
            await _aclose(owner)


async def _aclose(iterator: object) -> None:
    """`aclose()`, or `close()` awaited when it is a coroutine (the SDKs' `AsyncStream`)."""
    close: Any = getattr(iterator, "aclose", None) or getattr(iterator, "close", None)
    if close is not None:
        result = close()
        if inspect.isawaitable(result):
            await result


class _Recorder:
    """Records each event of one stream, raw or typed, in its chat span when it has one."""

    __slots__ = ("_chat", "_manager", "_owner", "_scope", "_state")

    def __init__(self, manager: OtelEventManager, chat: SpanScope | None) -> None:
        self._manager = manager
        self._state = TypedStreamState()
        self._chat = chat
        self._scope: Scope | None = chat.in_chat() if chat is not None else None
        # The first reader of a chat ends it; its events are recorded in it either way.
        self._owner = chat is not None and chat.claim()

    def record(self, event: object, duration: float) -> None:
        token = SCOPE.set(self._scope) if self._scope is not None else None
        try:
            if hasattr(event, "data") and hasattr(event, "event"):
                failed = record_raw(self._manager, cast("ServerSentEventLike", event), duration)
            else:
                failed = record_typed(self._manager, self._state, event, duration)
            if failed is not None and self._chat is not None:
                self._chat.fail(failed)
        except Exception as exc:
            report_internal_error(f"recording a server-sent event as {Event.SSE_EVENT}", exc)
        finally:
            if token is not None:
                SCOPE.reset(token)

    def failed(self, duration: float, error: object) -> None:
        """The wait for an event failed."""
        token = SCOPE.set(self._scope) if self._scope is not None else None
        try:
            self._manager.sse_event_failed(None, duration, error)
        finally:
            if token is not None:
                SCOPE.reset(token)

    def end(self, error: BaseException | None) -> None:
        """The stream ended: its chat too (failed, if the stream did)."""
        if self._owner and self._chat is not None:
            self._chat.end(error)


def _sync_events(
    manager: OtelEventManager,
    events: Iterator[E],
    idle_timeout: float | None,
    chat: SpanScope | None,
) -> Generator[E, None, None]:
    reader = _start_reader(events) if idle_timeout is not None else None
    wait = idle_timeout or 0.0
    recorder = _Recorder(manager, chat)
    ended_by: BaseException | None = None
    try:
        while True:
            start = time.perf_counter_ns()
            try:
                event = next(events) if reader is None else reader.next(wait)
            except StopIteration:
                return  # the end of the stream records nothing
            except ReaderIdle:
                recorder.failed(seconds_since(start), IDLE_TIMEOUT_MESSAGE)
                ended_by = SseIdleTimeout()
                raise ended_by from None
            except BaseException as exc:
                # An interruption too, by the rule of `failure`, then re-raised unchanged.
                recorder.failed(seconds_since(start), error_text(exc))
                ended_by = exc
                raise
            if manager.recording:
                recorder.record(event, seconds_since(start))
            yield event
    finally:
        # Ended before the stream is closed: closing the SDK stream closes the body, and a
        # failure is the reader's to tell.
        recorder.end(ended_by)
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
    manager: OtelEventManager,
    events: AsyncIterator[E],
    idle_timeout: float | None,
    chat: SpanScope | None,
) -> AsyncGenerator[E, None]:
    recorder = _Recorder(manager, chat)
    ended_by: BaseException | None = None
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
                recorder.failed(seconds_since(start), IDLE_TIMEOUT_MESSAGE)
                ended_by = SseIdleTimeout()
                raise ended_by from None
            except BaseException as exc:
                # An interruption too, by the rule of `failure`, then re-raised unchanged.
                recorder.failed(seconds_since(start), error_text(exc))
                ended_by = exc
                raise
            if manager.recording:
                recorder.record(event, seconds_since(start))
            yield event
    finally:
        recorder.end(ended_by)
        await _aclose(events)
