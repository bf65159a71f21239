"""The metrics SDK internals that `codex_otel.export._private_sdk_metrics` names are still
there, in the form used.

If a release inside the pinned range renames one, this fails first, naming it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from codex_otel.export import _private_sdk_metrics as private


def test_a_stopped_periodic_reader_never_calls_its_exporter_again() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        InMemoryMetricReader,
        MetricExporter,
        MetricExportResult,
        PeriodicExportingMetricReader,
    )

    class Recording(MetricExporter):
        def __init__(self) -> None:
            super().__init__()
            self.exports = 0

        def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
            self.exports += 1
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            pass

    exporter = Recording()
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader, InMemoryMetricReader()])
    try:
        provider.get_meter("m").create_counter("c").add(1)
        assert private.reader_exporter(reader) is exporter
        private.stop_reader_thread(reader)
        reader._daemon_thread.join(10)  # it ends after one last collection
        assert not reader._daemon_thread.is_alive()
        # What the SDK does in a forked child: a new thread, which sees the event set at once.
        reader._at_fork_reinit()  # type: ignore[no-untyped-call]
        reader._daemon_thread.join(10)
        assert not reader._daemon_thread.is_alive()
        assert exporter.exports == 0
        assert private.reader_exporter(reader) is not exporter
    finally:
        provider.shutdown()
    assert exporter.exports == 0


def test_a_collection_runs_observable_callbacks_before_reading_synchronous_instruments() -> None:
    from opentelemetry.metrics import CallbackOptions, Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    meter = provider.get_meter("test")
    counter = meter.create_counter("counted")

    def late(options: CallbackOptions) -> list[Observation]:
        counter.add(2, {"from": "callback"})
        return []

    meter.create_observable_gauge("observes.nothing", callbacks=[late])
    data = reader.get_metrics_data()
    assert data is not None
    metrics = [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
    assert [
        (m.name, [(dict(p.attributes or {}), p.value) for p in m.data.data_points]) for m in metrics
    ] == [("counted", [({"from": "callback"}, 2)])]
    provider.shutdown()


def test_the_metrics_sdk_methods_the_bulk_path_copies_are_the_installed_ones() -> None:
    assert private.metrics_bulk_fingerprint() == private.METRICS_BULK_SHA256
    assert private._BulkPath.load() is not None


def test_the_metrics_sdk_internals_the_bulk_path_reads_are_there() -> None:
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    bulk = private._BulkPath()
    provider = MeterProvider(
        metric_readers=[InMemoryMetricReader()],
        shutdown_on_exit=False,
        exemplar_filter=AlwaysOffExemplarFilter(),
    )
    meter = provider.get_meter("test")
    counter = meter.create_counter("c")
    histogram = meter.create_histogram("h", explicit_bucket_boundaries_advisory=[1.0, 2.0])
    try:
        assert isinstance(counter, bulk.counters) and isinstance(histogram, bulk.histograms)
        assert counter._is_enabled() is True
        consumer = counter._measurement_consumer
        assert type(consumer) is bulk.consumer
        assert type(consumer._sdk_config.exemplar_filter) is bulk.always_off
        (storage,) = consumer._reader_storages.values()
        assert type(storage) is bulk.storage
        for instrument, kind in ((counter, bulk.sum), (histogram, bulk.histogram)):
            (match,) = storage._get_or_init_view_instrument_match(instrument)
            assert type(match) is bulk.match
            assert match._view._attribute_keys is None
            key = bulk.hash_attributes({"a": "x"})
            with match._lock:
                aggregation = match._get_or_create_aggregation(key, {"a": "x"})
            assert type(aggregation) is kind
            assert (aggregation._value, type(aggregation._lock)) == (None, type(match._lock))
        assert (aggregation._boundaries, aggregation._record_min_max) == ((1.0, 2.0), True)
        assert (aggregation._sum, aggregation._min, aggregation._max) == (0, math.inf, -math.inf)
        assert aggregation._get_empty_bucket_counts() == [0, 0, 0]
        measurement = bulk.measurement(1, 0, histogram, bulk.current_context(), {"a": "x"})
        aggregation.aggregate(measurement, False)
        assert (aggregation._value, aggregation._sum) == ([1, 0, 0], 1)
    finally:
        provider.shutdown()


def test_a_changed_metrics_sdk_keeps_every_value_on_the_public_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    monkeypatch.setattr(private, "METRICS_BULK_SHA256", "not the installed one")
    private._BulkPath.load.cache_clear()
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        shutdown_on_exit=False,
        exemplar_filter=AlwaysOffExemplarFilter(),
    )
    try:
        counter = provider.get_meter("test").create_counter("c")
        values = [1, 2, 3]
        assert private.aggregate_in_bulk(counter, {"a": "x"}, values) is values
        assert reader.get_metrics_data() is None  # nothing was aggregated
    finally:
        provider.shutdown()
        private._BulkPath.load.cache_clear()


def _metrics_locks(provider: Any, reader: Any) -> list[object]:
    consumer = provider._measurement_consumer
    locks = [consumer._lock, reader._export_lock]
    for storage in consumer._reader_storages.values():
        locks.append(storage._lock)
        for matches in storage._instrument_view_instrument_matches.values():
            for match in matches:
                locks.append(match._lock)
                locks.extend(agg._lock for agg in match._attributes_aggregation.values())
    return locks


def test_a_forked_childs_metrics_reset_renews_every_lock_of_the_sdk() -> None:
    import io

    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )

    reader = PeriodicExportingMetricReader(
        ConsoleMetricExporter(out=io.StringIO()), export_interval_millis=3_600_000
    )
    provider = MeterProvider(metric_readers=[reader])
    try:
        provider.get_meter("m").create_counter("c").add(1, {"k": "v"})
        provider.get_meter("m").create_histogram("h").record(1.0)
        before = _metrics_locks(provider, reader)
        assert len(before) >= 6  # consumer, export, storage, 2 matches, 2 aggregations
        private.fresh_metrics_locks(provider)
        after = _metrics_locks(provider, reader)
        assert len(after) == len(before)
        assert [a is b for a, b in zip(after, before, strict=True)] == [False] * len(before)
    finally:
        provider.shutdown()
