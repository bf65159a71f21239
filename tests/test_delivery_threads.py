"""Many threads offering at once to one counted delivery (the caller's path takes no lock):
every event is counted exactly once, whether it is queued, refused or comes during shutdown."""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, LogRecordExportResult

from codex_otel.export._delivery import CountedDelivery

THREADS = 16
GENEROUS = 10.0  # seconds: a bound on waits that normally end at once


class Gated(InMemoryLogRecordExporter):
    """Keeps what it got once `gate` is set (a unit test of counting, not of the wire)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()

    def export(self, batch: Any) -> LogRecordExportResult:
        self.gate.wait(GENEROUS)
        return super().export(batch)

    @property
    def items(self) -> list[Any]:
        return list(self.get_finished_logs())


def delivery(exporter: Gated, *, max_queue_size: int = 100_000) -> CountedDelivery:
    return CountedDelivery(
        exporter,
        success=LogRecordExportResult.SUCCESS,
        max_queue_size=max_queue_size,
        max_queue_bytes=1 << 30,
        max_export_batch_size=64,
        schedule_delay_millis=1,
        max_request_bytes=1 << 30,
        shutdown_timeout=GENEROUS,
        target="memory",
    )


def offer_from_threads(
    queue: CountedDelivery, per_thread: int, started: threading.Barrier | None = None
) -> list[threading.Thread]:
    def work(thread: int) -> None:
        if started is not None:
            started.wait(GENEROUS)
        for index in range(per_thread):
            queue.offer((thread, index), 10)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    return threads


def test_events_from_many_threads_are_all_exported_each_once() -> None:
    exporter = Gated()
    queue = delivery(exporter)
    for thread in offer_from_threads(queue, 2_000):
        thread.join(GENEROUS)
    queue.shutdown()
    stats = queue.stats()
    assert (stats.offered, stats.accepted, stats.exported, stats.dropped) == (
        32_000,
        32_000,
        32_000,
        0,
    )
    assert sorted(exporter.items) == [(t, i) for t in range(THREADS) for i in range(2_000)]


def test_a_full_queue_refuses_events_from_many_threads_and_counts_each() -> None:
    exporter = Gated()
    exporter.gate.clear()  # nothing leaves the queue until every thread is done
    queue = delivery(exporter, max_queue_size=500)
    for thread in offer_from_threads(queue, 1_000):
        thread.join(GENEROUS)
    exporter.gate.set()
    queue.shutdown()
    stats = queue.stats()
    # One batch may have left the queue (and waits at the gate) before it filled up.
    assert 500 <= stats.accepted <= 500 + 64
    assert (stats.offered, stats.exported, stats.queue_full, stats.pending) == (
        16_000,
        stats.accepted,
        16_000 - stats.accepted,
        0,
    )
    assert len(exporter.items) == stats.exported


def test_events_offered_from_many_threads_during_shutdown_are_each_counted_once() -> None:
    for _ in range(3):  # a caller racing the shutdown: see the test below for the exact case
        exporter = Gated()
        queue = delivery(exporter)
        started = threading.Barrier(THREADS + 1)
        threads = offer_from_threads(queue, 3_000, started)
        started.wait(GENEROUS)
        queue.shutdown()
        for thread in threads:
            thread.join(GENEROUS)
        stats = queue.stats()
        assert stats.offered == 48_000
        assert stats.pending == 0
        assert stats.accepted == stats.exported + stats.unsent_at_shutdown
        assert len(exporter.items) == stats.exported


def test_an_event_queued_as_a_shutdown_ends_is_taken_back_and_counted_after_shutdown() -> None:
    exporter = Gated()
    queue = delivery(exporter)
    queue.offer("before", 10)
    put = queue.batch.put

    def put_once_shut_down(item: object, size: int) -> None:
        # The caller passed the shutdown check, then the whole shutdown ran before it queued.
        queue.shutdown()
        put(item, size)

    queue.batch.put = put_once_shut_down  # type: ignore[method-assign]
    caller = threading.Thread(target=queue.offer, args=("late", 10), daemon=True)
    caller.start()
    caller.join(GENEROUS)
    assert not caller.is_alive()
    stats = queue.stats()
    assert (stats.offered, stats.accepted, stats.exported, stats.after_shutdown) == (2, 1, 1, 1)
    assert (stats.pending, exporter.items, list(queue.batch.items)) == (0, ["before"], [])
