"""A blocking iterator read in a helper thread, so that each wait can have a timeout.

A blocked `next()` cannot be interrupted from Python. To give a sync stream an idle
timeout, the stream is read in one helper thread per stream; the consumer waits for
each event with a timeout. After a timeout the helper may stay blocked until the
underlying read returns (the HTTP client's read timeout bounds that), then it closes
the stream and ends. The number of helper threads alive at once is bounded.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from .._errors import internal_logger

__all__ = ["MAX_READER_THREADS", "ReaderIdle", "ThreadedReader", "close_iterator"]

T = TypeVar("T")

MAX_READER_THREADS = 32
_CLOSE_WAIT_SECONDS = 5.0  # closing an idle reader is immediate; this only bounds a bad close()
_OWNER_POLL_SECONDS = 5.0  # how often an idle helper checks that its consumer still exists

_slots = threading.BoundedSemaphore(MAX_READER_THREADS)
_NEXT, _CLOSE = "next", "close"
_EVENT, _END, _ERROR, _CLOSED = "event", "end", "error", "closed"


class ReaderIdle(Exception):
    """No item arrived within the timeout."""


def close_iterator(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


class ThreadedReader(Generic[T]):
    """One helper thread reading `iterator`; `next(timeout)` waits at most `timeout`."""

    def __init__(self, iterator: Iterator[T]) -> None:
        self._requests: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._blocked = False  # a read timed out and may still be running
        self._thread = threading.Thread(
            target=_read,
            args=(iterator, self._requests, self._results, weakref.ref(self)),
            name="codex-otel-sse-reader",
            daemon=True,  # a read stuck on a silent server must not block interpreter exit
        )

    @classmethod
    def start(cls, iterator: Iterator[T]) -> ThreadedReader[T] | None:
        """A running reader, or None when `MAX_READER_THREADS` helpers are alive already
        (or the system refuses another thread)."""
        if not _slots.acquire(blocking=False):
            return None
        try:
            reader = cls(iterator)
            reader._thread.start()
        except RuntimeError:  # "can't start new thread"
            _slots.release()
            return None
        return reader

    def next(self, timeout: float) -> T:
        """The next item; raises StopIteration at the end, ReaderIdle after `timeout`,
        or whatever the iterator raised."""
        self._requests.put(_NEXT)
        try:
            kind, value = self._results.get(timeout=timeout)
        except queue.Empty:
            self._blocked = True
            raise ReaderIdle from None
        if kind == _EVENT:
            item: T = value
            return item
        if kind == _END:
            raise StopIteration
        raise value

    def close(self) -> None:
        """Close the iterator in its thread: now if idle, else once the blocked read returns."""
        self._requests.put(_CLOSE)
        if self._blocked:
            return
        try:
            kind, error = self._results.get(timeout=_CLOSE_WAIT_SECONDS)
        except queue.Empty:
            internal_logger.warning(
                "codex_otel: closing an SSE stream took over %ss", _CLOSE_WAIT_SECONDS
            )
            return
        if kind == _CLOSED and error is not None:
            raise error


def _read(
    iterator: Iterator[Any],
    requests: queue.SimpleQueue[str],
    results: queue.SimpleQueue[tuple[str, Any]],
    owner: weakref.ref[ThreadedReader[Any]],
) -> None:
    try:
        while True:
            try:
                command = requests.get(timeout=_OWNER_POLL_SECONDS)
            except queue.Empty:
                if owner() is None:  # the consumer is gone without closing: stop anyway
                    break
                continue
            if command == _CLOSE:
                break
            try:
                results.put((_EVENT, next(iterator)))
            except StopIteration:
                results.put((_END, None))
            except BaseException as exc:  # handed to the consumer, who raises it
                results.put((_ERROR, exc))
        error: BaseException | None = None
        try:
            close_iterator(iterator)
        except BaseException as exc:
            error = exc
        results.put((_CLOSED, error))
    finally:
        _slots.release()
