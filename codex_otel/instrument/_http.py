"""What the httpx and httpx2 transports share: the attempt of a send and its record.

Neither HTTP library is imported here: the transports (`_httpx`, `_httpx2`) each import
their own, so a program using one never loads the other.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from .._errors import report_internal_error
from .._values import error_text, seconds_since

if TYPE_CHECKING:
    from .._manager import OtelEventManager

__all__ = ["ATTEMPT_EXTENSION", "RequestRecorder", "asend", "send", "span_ending_streams"]

ATTEMPT_EXTENSION = "codex_otel.attempt"

# Statuses a client retries: timeouts, conflicts, rate limits and server errors.
_RETRYABLE = frozenset({408, 409, 429})
# Requests remembered between a failure and its retry; the oldest is forgotten first.
_MAX_REMEMBERED = 1024

_Key = tuple[str, str, int | None]


class _Request(Protocol):
    """What is read of an `httpx.Request` or an `httpx2.Request`."""

    @property
    def method(self) -> str: ...

    @property
    def url(self) -> object: ...

    @property
    def content(self) -> bytes: ...

    @property
    def extensions(self) -> Mapping[str, Any]: ...

    @property
    def headers(self) -> Any: ...  # the library's mutable Headers (traceparent is added)


class _Response(Protocol):
    """What is read of an `httpx.Response` or an `httpx2.Response`."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class _AttemptCounter:
    """attempt = 1 + the failed sends of an identical request just before this one.

    A request is identified by its method, URL and body (a streamed body is not read,
    so such requests are identified by method and URL). A success forgets the request,
    so sending the same request again later is attempt 1 again.
    """

    __slots__ = ("_failures", "_lock", "_not_read")

    def __init__(self, not_read: type[Exception]) -> None:
        self._failures: OrderedDict[_Key, int] = OrderedDict()
        self._lock = threading.Lock()
        self._not_read = not_read  # the library's RequestNotRead: a streamed body

    def key(self, request: _Request) -> _Key:
        body: int | None
        try:
            body = hash(request.content)
        except self._not_read:
            body = None
        return request.method, str(request.url), body

    def attempt(self, key: _Key) -> int:
        with self._lock:
            return self._failures.get(key, 0) + 1

    def settle(self, key: _Key, attempt: int, failed: bool) -> None:
        with self._lock:
            if not failed:
                self._failures.pop(key, None)
                return
            self._failures[key] = max(self._failures.get(key, 0), attempt)
            self._failures.move_to_end(key)
            if len(self._failures) > _MAX_REMEMBERED:
                self._failures.popitem(last=False)


class RequestRecorder:
    """What every transport shares: choosing the attempt and recording the outcome.

    `not_read` is the library's `RequestNotRead`, raised when a streamed body is hashed.
    """

    def __init__(self, manager: OtelEventManager, not_read: type[Exception]) -> None:
        self._manager = manager
        self._counter = _AttemptCounter(not_read)

    @property
    def enabled(self) -> bool:
        return self._manager.recording

    def chat(self, request: _Request, attempt: int) -> Any:
        """The attempt's `chat` span (a no-op without traces); the request carries its
        `traceparent`/`tracestate`."""
        chat = self._manager.chat_span(attempt, method=request.method, url=str(request.url))
        headers = chat.headers()
        if headers:
            request.headers.update(headers)
        return chat

    def begin(self, request: _Request) -> tuple[int, _Key | None]:
        """The attempt of this send, and the key to settle it under (None: caller-given)."""
        given = request.extensions.get(ATTEMPT_EXTENSION)
        if given is not None:
            try:
                if isinstance(given, bool) or not isinstance(given, int):
                    raise TypeError(
                        f"request extension {ATTEMPT_EXTENSION!r} must be an int, "
                        f"got {type(given).__name__}"
                    )
                return given, None
            except TypeError as exc:
                report_internal_error(f"reading the {ATTEMPT_EXTENSION} extension", exc)
        try:
            key = self._counter.key(request)
            return self._counter.attempt(key), key
        except Exception as exc:
            report_internal_error("counting request attempts", exc)
            return 1, None

    def response(
        self,
        attempt: int,
        key: _Key | None,
        start_ns: int,
        response: _Response,
    ) -> None:
        duration = seconds_since(start_ns)
        try:
            status = response.status_code
            if key is not None:
                failed = status in _RETRYABLE or status >= 500
                self._counter.settle(key, attempt, failed)
            cf_ray = response.headers.get("cf-ray")
        except Exception as exc:
            report_internal_error("recording an HTTP response", exc)
            return
        self._manager.api_request(attempt, duration, status_code=status, cf_ray=cf_ray)

    def error(
        self,
        attempt: int,
        key: _Key | None,
        start_ns: int,
        error: BaseException,
    ) -> None:
        duration = seconds_since(start_ns)
        try:
            if key is not None:
                self._counter.settle(key, attempt, True)
            # An interruption is recorded by the same rule as everywhere (see `failure`).
            message = error_text(error)
        except Exception as exc:
            report_internal_error("recording an HTTP error", exc)
            return
        self._manager.api_request(attempt, duration, error=message)


R = TypeVar("R")


def send(
    recorder: RequestRecorder,
    request: Any,
    handle: Callable[[Any], R],
    ends_span: Callable[[Any, Any], Any],
) -> R:
    """One send through a sync transport, recorded: `codex.api_request`, and with traces on
    a `chat` span the request carries, ended with the response's body (`ends_span` wraps it).
    The response or exception reaches the caller unchanged."""
    if not recorder.enabled:  # nothing to record: not even a body hash
        return handle(request)
    attempt, key = recorder.begin(request)
    with recorder.chat(request, attempt) as chat:
        start = time.perf_counter_ns()
        try:
            response: Any = handle(request)
        except BaseException as exc:
            recorder.error(attempt, key, start, exc)
            raise
        recorder.response(attempt, key, start, response)
        if chat.recording:  # the span ends with the body, however the caller reads it
            response.stream = ends_span(response.stream, chat)
        chat.outcome = response
    return cast(R, response)


async def asend(
    recorder: RequestRecorder,
    request: Any,
    handle: Callable[[Any], Awaitable[R]],
    ends_span: Callable[[Any, Any], Any],
) -> R:
    """`send` through an async transport."""
    if not recorder.enabled:
        return await handle(request)
    attempt, key = recorder.begin(request)
    with recorder.chat(request, attempt) as chat:
        start = time.perf_counter_ns()
        try:
            response: Any = await handle(request)
        except BaseException as exc:
            recorder.error(attempt, key, start, exc)
            raise
        recorder.response(attempt, key, start, response)
        if chat.recording:
            response.stream = ends_span(response.stream, chat)
        chat.outcome = response
    return cast(R, response)


def _propagating(before: BaseException | None) -> BaseException | None:
    """The exception being handled where the body is closed: an SDK closes it in a `finally`
    as the stream's error (an Anthropic `error` event, ...) leaves, and a `with` closes it as
    an exception of its block does. Not one: the exception that was being handled already
    when the request was sent (a retry sent from an `except` block), nor a generator's
    closing (`break`)."""
    error = sys.exc_info()[1]
    if error is None or error is before or isinstance(error, _NOT_FAILURES):
        return None
    return error


_NOT_FAILURES = (GeneratorExit, StopIteration, StopAsyncIteration)


class _Ends:
    """What the sync and async span-ending bodies share."""

    def __init__(self, inner: Any, chat: Any) -> None:
        self._inner, self.chat = inner, chat
        # Exceptions cannot be weakly referenced: held until the body is closed.
        self._before: BaseException | None = sys.exc_info()[1]
        chat.bound = True

    def _closed(self) -> None:
        before, self._before = self._before, None
        self.chat.body_closed(_propagating(before))


def span_ending_streams(sync_base: type[Any], async_base: type[Any]) -> tuple[type[Any], type[Any]]:
    """One HTTP library's response-body classes that end their chat span when closed (read
    whole, or abandoned): the span of a streamed response lasts as long as its stream. A read
    that raised (a cut connection, a read timeout) marks the span failed first, since the
    library, or the SDK reading it, closes the body before the error reaches anyone else; so
    does a close while an exception is handled (see `_propagating`).

    `chat` is the span's `SpanScope`; `instrument_sse` finds it here (`.chat`)."""

    class EndsSpan(_Ends, sync_base):  # type: ignore[misc]
        def __iter__(self) -> Iterator[bytes]:
            try:
                yield from self._inner
            except GeneratorExit:  # the reader stopped early: not a failure
                raise
            except BaseException as exc:
                self.chat.fail(exc)
                raise

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                self._closed()

    class AsyncEndsSpan(_Ends, async_base):  # type: ignore[misc]
        async def __aiter__(self) -> AsyncIterator[bytes]:
            try:
                async for chunk in self._inner:
                    yield chunk
            except GeneratorExit:
                raise
            except BaseException as exc:
                self.chat.fail(exc)
                raise

        async def aclose(self) -> None:
            try:
                await self._inner.aclose()
            finally:
                self._closed()

    return EndsSpan, AsyncEndsSpan
