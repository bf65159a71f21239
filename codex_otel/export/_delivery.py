"""Bounded, counted delivery: what the SDK's batch processors do, without four faults they have.

`CountedDelivery` admits, counts and queues the items of any signal (its queue and worker are
`_batch.BatchQueue`); `BoundedBatchProcessor` is the events' log record processor built on it,
and `BoundedSpanProcessor` the spans' one. Where the SDK's `BatchLogRecordProcessor` and
`BatchSpanProcessor` fall short for a host that must never be hurt by its telemetry:

- a full queue silently drops the oldest event and logs a warning per drop (which also costs
  the caller time); here the new event is refused, and counted, and the queue is bounded in
  bytes too;
- `shutdown()` joins its worker for a fixed 30 s; here it waits the configured bound;
- `force_flush()` ignores its timeout, exporting on the caller's thread, and returns True even
  when nothing was delivered; here it runs on a daemon thread the caller stops waiting for at
  the timeout, and returns False when an export failed or events are still pending;
- nothing says what was lost; here every event not delivered is counted by reason, readable
  through `stats()`, and summed up in one warning line at shutdown.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Sized
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.resources import Resource

from .._config import BatchConfig
from .._errors import internal_logger
from ._batch import BatchQueue
from ._fork import reset_in_forked_child
from ._partial import probe_of
from ._quiet import capturing_sdk_logs, quiet_sdk_loggers
from ._sizes import log_record_size, span_size, split_by_size
from ._stats import DeliveryStats

__all__ = ["BoundedBatchProcessor", "BoundedSpanProcessor", "CountedDelivery", "queue_options"]


class _Counts:
    """The mutable tallies behind `DeliveryStats`, under the queue's lock (`BatchQueue.lock`),
    which the caller's path does not take: an accepted item is one queued (`BatchQueue`'s
    deque takes it atomically) or handed, so `accepted` is read, not counted."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.handed = 0  # taken off the queue and given to the exporter
        self.exported = 0
        self.queue_full = 0
        self.export_failed = 0
        self.after_shutdown = 0
        self.unsent_at_shutdown = 0
        self.rejected = 0
        self.too_large = 0
        self.in_flight_at_shutdown = 0
        # Estimated wire size of what is queued, for the bound: added to by callers without
        # the lock (an update may be lost when two collide), so each batch taken subtracts
        # its own and an empty queue starts it afresh.
        self.queued_bytes = 0
        # Once shutdown has reported, results of exports it stopped waiting for are ignored,
        # so the numbers the host read stay true.
        self.final = False

    def settled(self) -> int:
        """Accepted items with an outcome."""
        return self.exported + self.export_failed + self.rejected + self.too_large

    def snapshot(self, queued: Sized) -> DeliveryStats:
        """The tallies, `queued` being the queue (read under the lock)."""
        with self.lock:
            return DeliveryStats(
                accepted=self.handed + len(queued),
                exported=self.exported,
                queue_full=self.queue_full,
                export_failed=self.export_failed,
                after_shutdown=self.after_shutdown,
                unsent_at_shutdown=self.unsent_at_shutdown,
                rejected=self.rejected,
                too_large=self.too_large,
                in_flight_at_shutdown=self.in_flight_at_shutdown,
            )


class _CountingExporter:
    """Wraps any signal's SDK exporter: cuts each batch to the request size limit, counts
    each item's outcome, and says the first failure of each kind once."""

    def __init__(
        self,
        exporter: Any,
        success: object,
        counts: _Counts,
        target: str,
        max_request_bytes: int,
        noun: str = "events",
        prepare: Callable[[list[Any]], list[Any]] | None = None,
    ) -> None:
        self._noun = noun
        self._prepare = prepare
        self._exporter = exporter
        self._probe = probe_of(exporter)
        self._success = success
        self.counts = counts
        self._target = target
        self._max_request_bytes = max_request_bytes
        self._said: set[str] = set()
        # Set once shutdown has reported: late failures are not announced after the summary.
        self.closing = threading.Event()

    def export(self, batch: list[Any], sizes: list[int]) -> Any:
        """Export one batch from the queue; `sizes` are its items' wire sizes."""
        counts = self.counts
        chunks, too_large = split_by_size(batch, sizes, self._max_request_bytes)
        if too_large:
            with counts.lock:
                if not counts.final:
                    counts.too_large += len(too_large)
            self._say_once(
                "too_large",
                "codex_otel: %d telemetry %s bigger than one export request may be "
                "(%d bytes) were dropped; each is counted in provider.stats().too_large",
                len(too_large),
                self._noun,
                self._max_request_bytes,
            )
        result = self._success
        for chunk in chunks:
            outcome = self._export_chunk(chunk)
            if outcome is not self._success:
                result = outcome
        return result

    def _export_chunk(self, chunk: list[Any]) -> Any:
        counts, size = self.counts, len(chunk)
        if self._prepare is not None:
            try:
                chunk = self._prepare(chunk)
            except Exception as exc:
                with counts.lock:
                    if not counts.final:
                        counts.export_failed += size
                self._say_once("failed", "codex_otel: preparing telemetry failed (%r)", exc)
                return None
        probe = self._probe
        if probe is not None:
            probe.start()
        with capturing_sdk_logs() as sdk_said:
            try:
                result = self._exporter.export(chunk)
            except Exception as exc:
                # The SDK exporters catch their own errors; a foreign one may not.
                result = None
                sdk_said.append(f"{type(exc).__name__}: {exc}")
        ok = result is self._success
        rejected, message = probe.take() if ok and probe is not None else (0, "")
        rejected = min(rejected, size)
        with counts.lock:
            if not counts.final:
                if ok:
                    counts.exported += size - rejected
                    counts.rejected += rejected
                else:
                    counts.export_failed += size
        if rejected:
            self._say_once(
                "rejected",
                "codex_otel: the collector at %s accepted an export but rejected %d of its "
                "%d %s: %s. Rejected %s are counted in provider.stats().rejected",
                self._target,
                rejected,
                size,
                self._noun,
                message or "(no reason given)",
                self._noun,
            )
        if not ok:
            self._say_once(
                "failed",
                "codex_otel: exporting telemetry to %s failed (%s). %s not delivered are "
                "counted in provider.stats(); later failures are only counted",
                self._target,
                "; ".join(sdk_said) or "the exporter gave no reason",
                self._noun.capitalize(),
            )
        return result

    def _say_once(self, kind: str, message: str, *args: object) -> None:
        if kind in self._said or self.closing.is_set():
            return
        self._said.add(kind)  # once; later ones are only counted (and summed at shutdown)
        internal_logger.warning(message, *args)

    def shutdown(self) -> None:
        # Called once, by the queue's own shutdown.
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self._exporter.force_flush(timeout_millis))


class CountedDelivery:
    """The signal-independent part: admission, counting, the queue, bounded flush and
    shutdown. A signal's processor adapts it to the SDK's processor interface."""

    def __init__(
        self,
        exporter: Any,
        *,
        success: object,
        max_queue_size: int,
        max_queue_bytes: int,
        max_export_batch_size: int,
        schedule_delay_millis: float,
        max_request_bytes: int,
        shutdown_timeout: float,
        target: str,
        noun: str = "events",
        prepare: Callable[[list[Any]], list[Any]] | None = None,
    ) -> None:
        """`success` is the signal's export result that means delivered; each item's wire
        size (given to `offer`) bounds the queue (`max_queue_bytes`) and each export request.
        `prepare(chunk)`, if given, turns a chunk into what the exporter takes."""
        self._counts = _Counts(threading.Lock())  # the queue's lock, once it is built
        self._noun = noun
        self._exporter = _CountingExporter(
            exporter, success, self._counts, target, max_request_bytes, noun, prepare
        )
        quiet_sdk_loggers()  # the exporter's modules are loaded by now
        self._max_queue_size = max_queue_size
        self._max_queue_bytes = max_queue_bytes
        self._shutdown_timeout = shutdown_timeout
        self._shut_down = False
        self._flusher: threading.Thread | None = None
        self._flusher_lock = threading.Lock()
        self.batch = BatchQueue(
            self._exporter.export,
            schedule_delay_millis=schedule_delay_millis,
            max_export_batch_size=max_export_batch_size,
            name=f"codex-otel-{noun}",
            taken=self._taken,
        )
        self._counts.lock = self.batch.lock
        self._queue = self.batch.items
        # The queue empties in a forked child (the parent sends those items); the child's
        # tallies start from zero alike (the queue's own reset has run by then: hooks run in
        # the order they were registered).
        reset_in_forked_child(self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        self._counts = _Counts(self.batch.lock)
        self._exporter.counts = self._counts
        self._flusher_lock = threading.Lock()
        self._flusher = None

    def stats(self) -> DeliveryStats:
        return self._counts.snapshot(self._queue)

    def _taken(self, sizes: list[int]) -> None:
        """A batch left the queue (under the queue's lock)."""
        counts = self._counts
        counts.handed += len(sizes)
        counts.queued_bytes = counts.queued_bytes - sum(sizes) if self._queue else 0

    def abandon(self) -> None:
        """Stop for good without touching the exporter (in a forked child whose exporter
        cannot work): what comes later is counted `after_shutdown`, nothing is sent.

        Called from a fork hook, where the child runs one thread: no lock is taken, as a
        parent's thread may have held it at the fork (and nobody would release it here).
        """
        self._shut_down = True
        self.batch.abandon()

    def offer(self, item: object, size: int) -> None:
        """Count one item offered, of `size` bytes on the wire, and queue it if there is room.

        Without a lock: callers on many threads would queue up behind one another on it (a
        thread preempted while holding it stalls every other), and an item is counted
        accepted by being queued. Only a refusal takes the lock, to count it.
        """
        counts = self._counts
        if self._shut_down:
            with counts.lock:
                counts.after_shutdown += 1
            return
        if (
            len(self._queue) >= self._max_queue_size
            or counts.queued_bytes + size > self._max_queue_bytes
        ):
            with counts.lock:
                counts.queue_full += 1
            return
        counts.queued_bytes += size
        self.batch.put(item, size)
        if self._shut_down:
            self._queued_during_shutdown(item, size)

    def _queued_during_shutdown(self, item: object, size: int) -> None:
        """An item was queued while shutdown began: once shutdown has counted what it left
        unsent, the item is taken back and counted `after_shutdown`; before that, shutdown
        sends or counts it with the rest."""
        counts = self._counts
        with counts.lock:
            if not counts.final:
                return
            try:
                self._queue.remove((item, size))
            except ValueError:  # not there (taken by an export that began before)
                return
            counts.after_shutdown += 1

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export what is queued; True only if every item accepted before the call went out.

        False if an export failed during the flush, or items are still pending at the
        timeout (their export carries on in the background and is counted as it ends).
        """
        if self._shut_down:
            return False
        counts = self._counts
        with counts.lock:
            accepted = counts.handed + len(self._queue)
            failed = counts.export_failed + counts.rejected
        with self._flusher_lock:
            # One flush at a time: against a hanging collector, repeated calls wait on the
            # same attempt instead of piling up threads.
            if self._flusher is None or not self._flusher.is_alive():
                try:
                    self._flusher = _daemon(self.batch.force_flush, "codex-otel-flush")
                except RuntimeError:  # no new threads at interpreter exit (Python 3.12)
                    return False
            flusher = self._flusher
        flusher.join(max(timeout_millis, 0) / 1000)
        if flusher.is_alive():
            return False
        with counts.lock:
            # The queue is first in, first out: once as many items as were accepted before
            # the call have an outcome, each of those has one.
            settled = counts.settled() >= accepted
            return settled and counts.export_failed + counts.rejected == failed

    def shutdown(self) -> None:
        """Export what is queued within the shutdown bound, then count what is left."""
        with self._counts.lock:
            if self._shut_down:
                return
            self._shut_down = True
        # Past the bound the worker sends no further batch, and the exporter's shutdown ends
        # any retry wait; an export stuck in the network is left to its own timeout on the
        # daemon worker nobody waits for. No thread is started here: at interpreter exit
        # (Python 3.12) that is no longer allowed.
        self.batch.shutdown(int(self._shutdown_timeout * 1000), then=self._exporter.shutdown)
        self._exporter.closing.set()
        counts = self._counts
        with counts.lock:
            # Never handed to the exporter: unsent. Handed without an answer yet: in flight,
            # its outcome unknown (a late answer is not counted: the numbers said stay true).
            counts.unsent_at_shutdown = len(self._queue)
            counts.in_flight_at_shutdown = counts.handed - counts.settled()
            counts.final = True
        stats = self.stats()
        if stats.dropped:
            internal_logger.warning("%s", stats.shutdown_message(self._noun))


def queue_options(batch: BatchConfig, *, shutdown_timeout: float, json: bool) -> dict[str, Any]:
    """A counted processor's queue settings from `[otel.batch]`; `json`: the exporter speaks
    OTLP/JSON, about twice the protobuf size on the wire, so a request carries half as much."""
    return {
        "max_queue_size": batch.max_queue_size,
        "max_export_batch_size": batch.max_export_batch_size,
        "schedule_delay_millis": batch.schedule_delay_ms,
        "shutdown_timeout": shutdown_timeout,
        "max_queue_bytes": batch.max_queue_bytes,
        "max_request_bytes": batch.max_export_bytes // (2 if json else 1),
    }


class _CountedProcessor:
    """What both signals' processors do alike: everything but taking one item in."""

    _delivery: CountedDelivery

    def stats(self) -> DeliveryStats:
        return self._delivery.stats()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._delivery.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._delivery.shutdown()

    def abandon(self) -> None:
        self._delivery.abandon()


class BoundedBatchProcessor(_CountedProcessor, LogRecordProcessor):
    """The events' log record processor: bounded, counted delivery of SDK records (the ones a
    host emits itself, or every event once another processor is on the LoggerProvider), and
    `offer` for the events' direct path."""

    def __init__(
        self,
        exporter: LogRecordExporter,
        *,
        target: str = "the collector",
        prepare: Callable[[list[Any]], list[Any]] | None = None,
        **queue: Any,
    ) -> None:
        """`queue`: `max_queue_size`, `max_export_batch_size`, `schedule_delay_millis`,
        `shutdown_timeout`, `max_queue_bytes`, `max_request_bytes`. `prepare`: as
        `CountedDelivery`'s (the events' direct path queues its own records)."""
        self._delivery = CountedDelivery(
            exporter,
            success=LogRecordExportResult.SUCCESS,
            noun="events",
            target=target,
            prepare=prepare,
            **queue,
        )
        self.offer = self._delivery.offer

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        # As the SDK's batch processor keeps it: a shallow copy of the API record without its
        # context (which may be large), the original left intact for other processors.
        api_record = copy.copy(log_record.log_record)
        api_record.context = Context()
        readable = ReadableLogRecord(
            log_record=api_record,
            # Set by the SDK's Logger; the SDK's processor also falls back to an empty one.
            resource=log_record.resource or Resource.create({}),
            instrumentation_scope=log_record.instrumentation_scope,
            limits=log_record.limits,
        )
        self._delivery.offer(readable, log_record_size(readable))


class BoundedSpanProcessor(_CountedProcessor):
    """The spans' processor, in place of the SDK's `BatchSpanProcessor`: ended spans on the
    same bounded, counted `CountedDelivery` as events.

    The tracing SDK is imported here, when a span processor is built, so exporter settings
    without traces never load it.
    """

    def __init__(self, exporter: Any, *, target: str = "the collector", **queue: Any) -> None:
        """`queue`: as `BoundedBatchProcessor`'s."""
        from opentelemetry.sdk.trace.export import SpanExportResult

        self._delivery = CountedDelivery(
            exporter, success=SpanExportResult.SUCCESS, noun="spans", target=target, **queue
        )

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        pass

    def _on_ending(self, span: Any) -> None:
        pass

    def on_end(self, span: Any) -> None:
        # As the SDK's processor, unsampled spans are skipped: neither offered nor counted.
        if span.context.trace_flags.sampled:
            self._delivery.offer(span, span_size(span))


def _daemon(target: Callable[[], object], name: str) -> threading.Thread:
    """Start `target` on a daemon thread: interpreter exit never waits for it."""

    def run() -> None:
        try:
            target()
        except Exception as exc:
            internal_logger.debug("codex_otel: %s failed: %r", name, exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
