"""The queue between the caller's thread and the exporter: items in, batches out on one worker.

What the SDK's `BatchProcessor` does (a schedule delay, batches of a set size, an export as soon
as a batch is full, suppressed instrumentation around each export, a fresh worker in a forked
child), owned here so that `CountedDelivery` admits, counts and sizes each item once, and the
events' direct path can queue what it builds without an SDK record in between. Nothing is
dropped here: the queue takes what `CountedDelivery` admitted, which bounds it.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

from opentelemetry.context import attach, detach, set_value

from .._errors import report_internal_error
from ._fork import reset_in_forked_child
from ._private_sdk_exporters import SUPPRESS_INSTRUMENTATION_KEY

__all__ = ["BatchQueue"]

# export(items, sizes): one batch, in the order the items were queued.
Export = Callable[[list[object], list[int]], object]


class BatchQueue:
    """Items and their wire sizes, exported in batches of `max_export_batch_size` by a daemon
    worker: when a batch is full, every `schedule_delay_millis`, on `force_flush`, and at
    `shutdown` within its bound."""

    def __init__(
        self,
        export: Export,
        *,
        schedule_delay_millis: float,
        max_export_batch_size: int,
        name: str,
        taken: Callable[[list[int]], object] | None = None,
    ) -> None:
        """`taken(sizes)`, if given, is told of each batch as it leaves the queue, under
        `lock`: whoever holds `lock` sees every item either queued or taken."""
        self._export_batch = export
        self._taken = taken
        self.lock = threading.Lock()
        self._delay = schedule_delay_millis / 1000
        self._batch_size = max_export_batch_size
        self._name = name
        # deque's append and popleft are atomic: the caller never waits for the worker.
        self.items: collections.deque[tuple[object, int]] = collections.deque()
        self._shutdown = False
        self._past_deadline = False
        self._start_worker()
        reset_in_forked_child(self._after_fork_in_child)

    def _start_worker(self) -> None:
        self._export_lock = threading.Lock()
        self._wake = threading.Event()
        self._worker = threading.Thread(target=self._work, name=self._name, daemon=True)
        self._worker.start()

    def _after_fork_in_child(self) -> None:
        # The parent sends what it queued; the child's worker did not survive the fork, and
        # a parent's thread may have held the lock at the fork.
        self.items.clear()
        self.lock = threading.Lock()
        if not self._shutdown:  # abandoned in the child by now, or shut down before the fork
            self._start_worker()

    def abandon(self) -> None:
        """Stop for good, sending nothing (in a forked child whose exporter cannot work)."""
        self._shutdown = True
        self._past_deadline = True
        self.items.clear()

    def put(self, item: object, size: int) -> None:
        """Queue one item (already admitted); wakes the worker once a batch is full."""
        queue = self.items
        queue.append((item, size))
        if len(queue) >= self._batch_size and not self._wake.is_set():
            self._wake.set()

    def __len__(self) -> int:
        return len(self.items)

    def _work(self) -> None:
        while not self._shutdown:
            woken = self._wake.wait(self._delay)
            if self._shutdown:
                break
            # Woken by a full batch: export while full batches wait. On the delay: at least one.
            self._export(everything=False, at_least_one=not woken)
            self._wake.clear()
        self._export(everything=True, at_least_one=True)

    def _export(self, *, everything: bool, at_least_one: bool) -> None:
        queue, batch_size = self.items, self._batch_size
        with self._export_lock:
            first = True
            while queue and not self._past_deadline:
                if not (len(queue) >= batch_size or everything or (at_least_one and first)):
                    return
                first = False
                items: list[object] = []
                sizes: list[int] = []
                with self.lock:
                    for _ in range(min(batch_size, len(queue))):
                        item, size = queue.popleft()
                        items.append(item)
                        sizes.append(size)
                    if self._taken is not None:
                        self._taken(sizes)
                # The exporter's own requests are not telemetry to record (an instrumented
                # HTTP library in the host would otherwise trace them).
                token = attach(set_value(SUPPRESS_INSTRUMENTATION_KEY, True))
                try:
                    self._export_batch(items, sizes)
                except Exception as exc:
                    # The exporter counts its own failures; this keeps the worker alive should
                    # anything else go wrong (what was taken is then counted unsent at shutdown).
                    report_internal_error("exporting a batch", exc)
                finally:
                    detach(token)

    def force_flush(self) -> bool:
        """Export everything queued now, on the calling thread; False once shut down."""
        if self._shutdown:
            return False
        self._export(everything=True, at_least_one=True)
        return True

    def shutdown(self, timeout_millis: int, then: Callable[[], object]) -> None:
        """Stop taking batches out after exporting what is queued, waiting at most
        `timeout_millis` for that; then call `then` (the exporter's shutdown, which ends any
        retry wait of an export still running on the worker)."""
        if self._shutdown:
            return
        self._shutdown = True
        self._wake.set()
        self._worker.join(max(timeout_millis, 0) / 1000)
        # Past the bound the worker sends no further batch; one in the network is left to
        # its own timeout on the daemon thread.
        self._past_deadline = True
        then()
