"""The batch queue between the caller and the exporter: batches by count and by schedule, in
order, a flush and a bounded shutdown, and the exporter's own calls kept out of telemetry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from opentelemetry.context import get_value

from codex_otel.export._batch import BatchQueue
from codex_otel.export._private_sdk_exporters import SUPPRESS_INSTRUMENTATION_KEY

GENEROUS = 10.0  # seconds: a bound on waits that normally end at once


class Exports:
    """What the queue exported: each batch as (items, sizes, instrumentation suppressed)."""

    def __init__(self, block: threading.Event | None = None) -> None:
        self.batches: list[tuple[list[object], list[int], bool]] = []
        self.arrived = threading.Condition()
        self._block = block

    def __call__(self, items: list[object], sizes: list[int]) -> None:
        if self._block is not None:
            self._block.wait(GENEROUS)
        with self.arrived:
            suppressed = get_value(SUPPRESS_INSTRUMENTATION_KEY) is True
            self.batches.append((items, sizes, suppressed))
            self.arrived.notify_all()

    def wait_for(self, count: int) -> list[tuple[list[object], list[int], bool]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.batches) >= count, GENEROUS)
            return list(self.batches)


@contextmanager
def queue(exports: Exports, *, delay_ms: float = 60_000, batch: int = 3) -> Iterator[BatchQueue]:
    running = BatchQueue(
        exports, schedule_delay_millis=delay_ms, max_export_batch_size=batch, name="test-queue"
    )
    try:
        yield running
    finally:
        running.shutdown(1000, then=lambda: None)


def test_a_full_batch_is_exported_at_once_without_waiting_for_the_delay() -> None:
    exports = Exports()
    with queue(exports) as running:
        for item in "abc":
            running.put(item, 10)
        assert exports.wait_for(1) == [(["a", "b", "c"], [10, 10, 10], True)]


def test_a_partial_batch_goes_out_on_the_schedule() -> None:
    exports = Exports()
    with queue(exports, delay_ms=20) as running:
        running.put("a", 7)
        assert exports.wait_for(1) == [(["a"], [7], True)]


def test_force_flush_exports_everything_in_order_in_batches_on_the_calling_thread() -> None:
    exports = Exports()
    with queue(exports, batch=100) as running:
        for number in range(5):
            running.put(number, number)
        running._batch_size = 2  # batches of 2 from now on: the flush cuts what is queued
        assert running.force_flush() is True
        # On this thread: the batches are there as soon as the flush returns.
        assert exports.batches == [
            ([0, 1], [0, 1], True),
            ([2, 3], [2, 3], True),
            ([4], [4], True),
        ]
        assert len(running) == 0


def test_shutdown_exports_what_is_queued_then_calls_then_and_takes_nothing_more() -> None:
    exports = Exports()
    called: list[str] = []
    running = BatchQueue(
        exports, schedule_delay_millis=60_000, max_export_batch_size=10, name="test-queue"
    )
    running.put("a", 1)
    running.put("b", 1)
    running.shutdown(int(GENEROUS * 1000), then=lambda: called.append("exporter shut down"))
    assert exports.batches == [(["a", "b"], [1, 1], True)]
    assert called == ["exporter shut down"]
    assert running.force_flush() is False


def test_shutdown_waits_no_longer_than_its_bound_for_a_stuck_export() -> None:
    release = threading.Event()
    exports = Exports(block=release)
    running = BatchQueue(
        exports, schedule_delay_millis=60_000, max_export_batch_size=1, name="test-queue"
    )
    try:
        running.put("stuck", 1)  # the worker takes it and blocks in the export
        running.put("never sent", 1)
        called: list[str] = []
        running.shutdown(100, then=lambda: called.append("then"))
        # Past the bound: `then` ran while the export was still stuck.
        assert called == ["then"]
        assert exports.batches == []
    finally:
        release.set()
    assert exports.wait_for(1) == [(["stuck"], [1], True)]
    running._worker.join(GENEROUS)
    assert not running._worker.is_alive()
    # Past the deadline the worker sent no further batch.
    assert exports.batches == [(["stuck"], [1], True)]


def test_an_export_that_raises_is_reported_once_and_the_worker_carries_on(
    lenient: None, caplog: pytest.LogCaptureFixture
) -> None:
    exports = Exports()
    calls: list[list[object]] = []

    def flaky(items: list[object], sizes: list[int]) -> None:
        calls.append(items)
        if len(calls) <= 2:
            raise RuntimeError("boom")
        exports(items, sizes)

    with queue(exports) as running:
        running._export_batch = flaky
        for item in "abcdefghi":
            running.put(item, 1)
        assert exports.wait_for(1) == [(["g", "h", "i"], [1, 1, 1], True)]
        assert running._worker.is_alive()
    assert calls == [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]]
    assert [r.getMessage() for r in caplog.records if r.name == "codex_otel"] == [
        "codex_otel: exporting a batch failed (RuntimeError: boom); telemetry carries on without it"
    ]
