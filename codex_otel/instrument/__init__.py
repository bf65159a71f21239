"""One-line instrumentation: httpx/httpx2 transports, SSE and SDK streams, tool executors.

The transports are imported on first use, so that neither HTTP library is loaded by a
program that does not use its transport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import SseIdleTimeout
from .._lazy import lazy_exports
from ._http import ATTEMPT_EXTENSION
from ._reader import MAX_READER_THREADS
from ._sse import AsyncSseEvents, ServerSentEventLike, SseEvents, instrument_sse
from ._tools import CALL_ID, ToolDecorator, adecide_tool, decide_tool, instrument_tool

if TYPE_CHECKING:
    from ._httpx import AsyncInstrumentedTransport, InstrumentedTransport
    from ._httpx2 import AsyncHttpx2InstrumentedTransport, Httpx2InstrumentedTransport

__all__ = [
    "ATTEMPT_EXTENSION",
    "CALL_ID",
    "MAX_READER_THREADS",
    "AsyncHttpx2InstrumentedTransport",
    "AsyncInstrumentedTransport",
    "AsyncSseEvents",
    "Httpx2InstrumentedTransport",
    "InstrumentedTransport",
    "ServerSentEventLike",
    "SseEvents",
    "SseIdleTimeout",
    "ToolDecorator",
    "adecide_tool",
    "decide_tool",
    "instrument_sse",
    "instrument_tool",
]

# public name -> the private module defining it, imported when the name is first looked up
_LAZY = {
    "InstrumentedTransport": "._httpx",
    "AsyncInstrumentedTransport": "._httpx",
    "Httpx2InstrumentedTransport": "._httpx2",
    "AsyncHttpx2InstrumentedTransport": "._httpx2",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
