"""httpx transports that record every request they send as `codex.api_request` (and, with
traces on, as a `chat` span whose context the request carries)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from .._errors import report_internal_error
from .._values import seconds_since

if TYPE_CHECKING:
    from .._manager import OtelEventManager

__all__ = ["ATTEMPT_EXTENSION", "AsyncInstrumentedTransport", "InstrumentedTransport"]

ATTEMPT_EXTENSION = "codex_otel.attempt"

# Statuses a client retries: timeouts, conflicts, rate limits and server errors.
_RETRYABLE = frozenset({408, 409, 429})
# Requests remembered between a failure and its retry; the oldest is forgotten first.
_MAX_REMEMBERED = 1024


class _AttemptCounter:
    """attempt = 1 + the failed sends of an identical request just before this one.

    A request is identified by its method, URL and body (a streamed body is not read,
    so such requests are identified by method and URL). A success forgets the request,
    so sending the same request again later is attempt 1 again.
    """

    __slots__ = ("_failures", "_lock")

    def __init__(self) -> None:
        self._failures: OrderedDict[tuple[str, str, int | None], int] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(request: httpx.Request) -> tuple[str, str, int | None]:
        body: int | None
        try:
            body = hash(request.content)
        except httpx.RequestNotRead:
            body = None
        return request.method, str(request.url), body

    def attempt(self, key: tuple[str, str, int | None]) -> int:
        with self._lock:
            return self._failures.get(key, 0) + 1

    def settle(self, key: tuple[str, str, int | None], attempt: int, failed: bool) -> None:
        with self._lock:
            if not failed:
                self._failures.pop(key, None)
                return
            self._failures[key] = max(self._failures.get(key, 0), attempt)
            self._failures.move_to_end(key)
            if len(self._failures) > _MAX_REMEMBERED:
                self._failures.popitem(last=False)


class _RequestRecorder:
    """What both transports share: choosing the attempt and recording the outcome."""

    def __init__(self, manager: OtelEventManager) -> None:
        self._manager = manager
        self._counter = _AttemptCounter()

    @property
    def enabled(self) -> bool:
        return self._manager.recording

    def chat(self, request: httpx.Request, attempt: int) -> Any:
        """The attempt's `chat` span (a no-op without traces); the request carries its
        `traceparent`/`tracestate`."""
        chat = self._manager.chat_span(attempt, method=request.method, url=str(request.url))
        headers = chat.headers()
        if headers:
            request.headers.update(headers)
        return chat

    def begin(self, request: httpx.Request) -> tuple[int, tuple[str, str, int | None] | None]:
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
        key: tuple[str, str, int | None] | None,
        start_ns: int,
        response: httpx.Response,
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
        key: tuple[str, str, int | None] | None,
        start_ns: int,
        error: Exception,
    ) -> None:
        duration = seconds_since(start_ns)
        try:
            if key is not None:
                self._counter.settle(key, attempt, True)
            message = str(error) or type(error).__name__
        except Exception as exc:
            report_internal_error("recording an HTTP error", exc)
            return
        self._manager.api_request(attempt, duration, error=message)


class _EndsSpan(httpx.SyncByteStream):
    """A response body that ends its chat span when closed (read whole, or abandoned)."""

    def __init__(self, inner: Any, end: Callable[[], None]) -> None:
        self._inner, self._end = inner, end

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._inner)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._end()


class _AsyncEndsSpan(httpx.AsyncByteStream):
    def __init__(self, inner: Any, end: Callable[[], None]) -> None:
        self._inner, self._end = inner, end

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._inner.__aiter__()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._end()


class InstrumentedTransport(httpx.BaseTransport):
    """Wraps any httpx transport; every request sent emits `codex.api_request`.

    The duration is the time to the response headers: the body is left to the caller
    (streaming responses included), and the response or exception reaches the caller
    unchanged. The attempt is the request extension ``"codex_otel.attempt"`` when the
    caller gives it, else counted per request (see `_AttemptCounter`).
    """

    def __init__(self, manager: OtelEventManager, inner: httpx.BaseTransport | None = None) -> None:
        self._inner = inner if inner is not None else httpx.HTTPTransport()
        self._recorder = _RequestRecorder(manager)

    @property
    def inner(self) -> httpx.BaseTransport:
        return self._inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self._recorder.enabled:  # nothing to record: not even a body hash
            return self._inner.handle_request(request)
        attempt, key = self._recorder.begin(request)
        with self._recorder.chat(request, attempt) as chat:
            start = time.perf_counter_ns()
            try:
                response = self._inner.handle_request(request)
            except Exception as exc:
                self._recorder.error(attempt, key, start, exc)
                raise
            self._recorder.response(attempt, key, start, response)
            if chat.recording:  # the span ends with the body, however the caller reads it
                response.stream = _EndsSpan(response.stream, chat.end)
            chat.outcome = response
        return response

    def close(self) -> None:
        self._inner.close()


class AsyncInstrumentedTransport(httpx.AsyncBaseTransport):
    """`InstrumentedTransport` for `httpx.AsyncClient`."""

    def __init__(
        self, manager: OtelEventManager, inner: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self._recorder = _RequestRecorder(manager)

    @property
    def inner(self) -> httpx.AsyncBaseTransport:
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self._recorder.enabled:
            return await self._inner.handle_async_request(request)
        attempt, key = self._recorder.begin(request)
        with self._recorder.chat(request, attempt) as chat:
            start = time.perf_counter_ns()
            try:
                response = await self._inner.handle_async_request(request)
            except Exception as exc:
                self._recorder.error(attempt, key, start, exc)
                raise
            self._recorder.response(attempt, key, start, response)
            if chat.recording:
                response.stream = _AsyncEndsSpan(response.stream, chat.end)
            chat.outcome = response
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
