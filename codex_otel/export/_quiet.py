"""The SDK exporters' own log lines about the exports this package runs: kept, not printed.

While the collector is down, the SDK's exporters log a line per retry ("Transient error …
retrying in 0.96s", "Shutdown in progress, aborting retry") on the host's stderr. For the
exports this package runs, those lines are captured instead, and the first becomes the
reason in the package's one warning. The filter drops only records logged on a thread while
it runs one of our exports, so OpenTelemetry logging the host itself uses is untouched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["capturing_sdk_logs", "quiet_sdk_loggers"]

# Where the exporters and the SDK's batch processor log.
_PREFIXES = ("opentelemetry.exporter", "opentelemetry.sdk._shared_internal")
_KEPT = 3  # the first few lines of one export say why; the rest repeat it
_state = threading.local()


class _CaptureOurExports(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        sink: list[str] | None = getattr(_state, "sink", None)
        if sink is None:
            return True
        if len(sink) < _KEPT:
            try:
                sink.append(record.getMessage())
            except Exception:  # a record whose arguments do not format: its template then
                sink.append(str(record.msg))
        return False


_FILTER = _CaptureOurExports()
_lock = threading.Lock()

# The SDK's periodic metric reader starts its timer thread before the meter provider has
# registered it: on a busy machine with a short interval the first tick comes first, and
# the SDK says so on the host's stderr. Nothing is lost (the next tick collects).
_READER_LOGGER = "opentelemetry.sdk.metrics._internal.export"
_NOT_REGISTERED_YET = "Cannot call collect on a MetricReader until it is registered"


class _ReaderNotRegisteredYet(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_NOT_REGISTERED_YET)


_READER_FILTER = _ReaderNotRegisteredYet()


def quiet_sdk_loggers() -> None:
    """Put the filter on every SDK exporter logger that exists (call after building one)."""
    with _lock:
        reader_logger = logging.getLogger(_READER_LOGGER)
        if _READER_FILTER not in reader_logger.filters:
            reader_logger.addFilter(_READER_FILTER)
        for name, logger in list(logging.root.manager.loggerDict.items()):
            ours = name.startswith(_PREFIXES) and isinstance(logger, logging.Logger)
            if ours and _FILTER not in logger.filters:  # type: ignore[union-attr]
                # First, before the SDK's own DuplicateFilter: that drops a line whose
                # template repeats within 20 s, so a second exporter's first failure (events
                # and spans failing together) would otherwise be heard without its reason.
                logger.filters.insert(0, _FILTER)  # type: ignore[union-attr]


@contextmanager
def capturing_sdk_logs() -> Iterator[list[str]]:
    """What the SDK logs on this thread inside the block: captured into the yielded list."""
    sink: list[str] = []
    _state.sink = sink
    try:
        yield sink
    finally:
        _state.sink = None
