"""One-line instrumentation: httpx transports, SSE streams and tool executors."""

from .._errors import SseIdleTimeout
from ._http import ATTEMPT_EXTENSION, AsyncInstrumentedTransport, InstrumentedTransport
from ._reader import MAX_READER_THREADS
from ._sse import ServerSentEventLike, instrument_sse
from ._tools import CALL_ID, ToolDecorator, adecide_tool, decide_tool, instrument_tool

__all__ = [
    "ATTEMPT_EXTENSION",
    "CALL_ID",
    "MAX_READER_THREADS",
    "AsyncInstrumentedTransport",
    "InstrumentedTransport",
    "ServerSentEventLike",
    "SseIdleTimeout",
    "ToolDecorator",
    "adecide_tool",
    "decide_tool",
    "instrument_sse",
    "instrument_tool",
]
