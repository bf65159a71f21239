"""httpx2 transports that record every request they send as `codex.api_request`.

httpx2 is what the OpenAI (3.x) and Anthropic (2.x) SDKs are built on: pass
`http_client=httpx2.Client(transport=Httpx2InstrumentedTransport(manager))`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx2

from ._http import RequestRecorder, asend, send, span_ending_streams

if TYPE_CHECKING:
    from .._manager import OtelEventManager

# Response bodies that end their chat span when closed.
_EndsSpan, _AsyncEndsSpan = span_ending_streams(httpx2.SyncByteStream, httpx2.AsyncByteStream)

__all__ = ["AsyncHttpx2InstrumentedTransport", "Httpx2InstrumentedTransport"]


class Httpx2InstrumentedTransport(httpx2.BaseTransport):
    """Wraps any httpx2 transport; every request sent emits `codex.api_request`.

    The duration is the time to the response headers: the body is left to the caller
    (streaming responses included), and the response or exception reaches the caller
    unchanged. The attempt is the request extension ``"codex_otel.attempt"`` when the
    caller gives it, else counted per request (an identical request right after a
    failed one is the next attempt).
    """

    def __init__(
        self, manager: OtelEventManager, inner: httpx2.BaseTransport | None = None
    ) -> None:
        self._inner = inner if inner is not None else httpx2.HTTPTransport()
        self._recorder = RequestRecorder(manager, httpx2.RequestNotRead)

    @property
    def inner(self) -> httpx2.BaseTransport:
        return self._inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return send(self._recorder, request, self._inner.handle_request, _EndsSpan)

    def close(self) -> None:
        self._inner.close()


class AsyncHttpx2InstrumentedTransport(httpx2.AsyncBaseTransport):
    """`Httpx2InstrumentedTransport` for `httpx2.AsyncClient`."""

    def __init__(
        self, manager: OtelEventManager, inner: httpx2.AsyncBaseTransport | None = None
    ) -> None:
        self._inner = inner if inner is not None else httpx2.AsyncHTTPTransport()
        self._recorder = RequestRecorder(manager, httpx2.RequestNotRead)

    @property
    def inner(self) -> httpx2.AsyncBaseTransport:
        return self._inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await asend(
            self._recorder, request, self._inner.handle_async_request, _AsyncEndsSpan
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
