"""httpx transports that record every request they send as `codex.api_request`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from ._http import RequestRecorder, asend, send, span_ending_streams

if TYPE_CHECKING:
    from .._manager import OtelEventManager

# Response bodies that end their chat span when closed.
_EndsSpan, _AsyncEndsSpan = span_ending_streams(httpx.SyncByteStream, httpx.AsyncByteStream)

__all__ = ["AsyncInstrumentedTransport", "InstrumentedTransport"]


class InstrumentedTransport(httpx.BaseTransport):
    """Wraps any httpx transport; every request sent emits `codex.api_request`.

    The duration is the time to the response headers: the body is left to the caller
    (streaming responses included), and the response or exception reaches the caller
    unchanged. The attempt is the request extension ``"codex_otel.attempt"`` when the
    caller gives it, else counted per request (an identical request right after a
    failed one is the next attempt).
    """

    def __init__(self, manager: OtelEventManager, inner: httpx.BaseTransport | None = None) -> None:
        self._inner = inner if inner is not None else httpx.HTTPTransport()
        self._recorder = RequestRecorder(manager, httpx.RequestNotRead)

    @property
    def inner(self) -> httpx.BaseTransport:
        return self._inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return send(self._recorder, request, self._inner.handle_request, _EndsSpan)

    def close(self) -> None:
        self._inner.close()


class AsyncInstrumentedTransport(httpx.AsyncBaseTransport):
    """`InstrumentedTransport` for `httpx.AsyncClient`."""

    def __init__(
        self, manager: OtelEventManager, inner: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self._recorder = RequestRecorder(manager, httpx.RequestNotRead)

    @property
    def inner(self) -> httpx.AsyncBaseTransport:
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await asend(
            self._recorder, request, self._inner.handle_async_request, _AsyncEndsSpan
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
