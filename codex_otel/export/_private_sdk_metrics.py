"""The private attributes of the OpenTelemetry metrics SDK this package touches.

The `export/_private_*.py` modules are the only place this package touches private
attributes of other libraries (`tests/test_layout_private.py` keeps it so): each names what it
touches, and its test (here `tests/test_private_sdk_metrics.py`) fails if a release inside
the pinned range renames one.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import importlib
import inspect
import math
import operator
import threading
import time
from collections.abc import Mapping
from typing import Any

__all__ = [
    "METRICS_BULK_SHA256",
    "aggregate_in_bulk",
    "fresh_metrics_locks",
    "metrics_bulk_fingerprint",
    "reader_exporter",
    "stop_reader_thread",
]

# `PeriodicExportingMetricReader._exporter` (its exporter, which every collection's export
# calls) and `._shutdown_event` (which ends the export thread the SDK restarts in a forked
# child, after one last collection).
READER_EXPORTER = "_exporter"
READER_SHUTDOWN_EVENT = "_shutdown_event"


def reader_exporter(reader: object) -> Any:
    """A periodic metric reader's exporter (None for other readers)."""
    return getattr(reader, READER_EXPORTER, None)


class _NoMetricExport:
    """A periodic reader's exporter in a forked child: takes every export, sends nothing."""

    def export(self, metrics_data: object, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
        from opentelemetry.sdk.metrics.export import MetricExportResult

        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def stop_reader_thread(reader: object) -> None:
    """End a periodic metric reader's export thread, without a call to its exporter: the
    thread (and the one the SDK restarts in a forked child) still runs one last collection
    when told to end, so the exporter is swapped for one that sends nothing first."""
    if hasattr(reader, READER_EXPORTER):
        setattr(reader, READER_EXPORTER, _NoMetricExport())
    event = getattr(reader, READER_SHUTDOWN_EVENT, None)
    if event is not None:
        event.set()


# Behaviour relied on, not an attribute: a metric collection runs the observable instruments'
# callbacks before it reads the synchronous instruments, and an observable instrument that
# observes nothing exports nothing. `_metrics.DeferredMeasurements` hands the measurements it
# queued to the SDK from such a callback, so each collection holds everything recorded before.


def fresh_metrics_locks(meter_provider: Any) -> None:
    """In a forked child: new locks throughout the SDK's metrics state.

    The SDK's reader thread holds its storage, instrument and aggregation locks while it
    collects, and its export lock while it exports; a fork at that moment leaves them held in
    the child for good, and the child's first measurement or its exit-time collection waits
    forever. The child is single-threaded here, so nothing else holds them. What they guard
    is left as it was (plain Python objects, consistent under the GIL), except what was
    measured and not yet collected: the parent exports that, and the child, exporting it too,
    would count it twice; the child's series start anew.
    """
    consumer = getattr(meter_provider, "_measurement_consumer", None)
    if consumer is None:
        return
    consumer._lock = threading.Lock()
    for reader, storage in getattr(consumer, "_reader_storages", {}).items():
        if hasattr(reader, "_export_lock"):
            reader._export_lock = threading.Lock()
        storage._lock = threading.RLock()
        for matches in storage._instrument_view_instrument_matches.values():
            for match in matches:
                match._lock = threading.Lock()
                # Measured before the fork, not yet collected: the parent exports those.
                match._attributes_aggregation = {}


# -- measurements handed to the metrics SDK in bulk ----------------------------------------
#
# `Counter.add` and `Histogram.record` each build a `Measurement` and walk, for every reader,
# the view matches of the instrument down to the aggregation kept for the attribute set.
# `aggregate_in_bulk` walks that path once for many values of one instrument and attribute
# set. It uses: the instrument's `_measurement_consumer` (a `SynchronousMeasurementConsumer`)
# and `_is_enabled()`; the consumer's `_sdk_config.exemplar_filter` and `_reader_storages`;
# each storage's `_get_or_init_view_instrument_match(instrument)`; each match's
# `_view._attribute_keys`, `_lock` and `_get_or_create_aggregation(key, attributes)`, the key
# being its module's `_hash_attributes(attributes)`; the sum and explicit-bucket histogram
# aggregations' `_lock`, `_value`, `_sum`, `_min`, `_max`, `_boundaries`, `_record_min_max`
# and `_get_empty_bucket_counts()`; and, for an aggregation of another kind (a reader's own
# choice), `aggregate(Measurement(...), False)` once per value.
# `METRICS_BULK_SHA256` fingerprints the SDK methods whose steps these copy; where the
# installed ones differ, every value takes the public `add` or `record`.
METRICS_BULK_SHA256 = "f1327d13360e02fcefde590a99850a95f7598e82cb7a47e36eb7e9730ea7ff34"
_METRICS_INTERNAL = "opentelemetry.sdk.metrics._internal"
_BULK_COPIED = (
    ("instrument", "Counter.add"),
    ("instrument", "Histogram.record"),
    ("measurement", "Measurement.__post_init__"),
    ("measurement_consumer", "SynchronousMeasurementConsumer.consume_measurement"),
    ("metric_reader_storage", "MetricReaderStorage.consume_measurement"),
    ("_view_instrument_match", "_ViewInstrumentMatch.consume_measurement"),
    ("_view_instrument_match", "_ViewInstrumentMatch._get_or_create_aggregation"),
    ("_view_instrument_match", "_ViewInstrumentMatch.collect"),
    ("aggregation", "_Aggregation._sample_exemplar"),
    ("aggregation", "_SumAggregation.aggregate"),
    ("aggregation", "_ExplicitBucketHistogramAggregation.aggregate"),
)


def metrics_bulk_fingerprint() -> str:
    """SHA-256 of the installed sources of the SDK methods `aggregate_in_bulk` copies."""
    digest = hashlib.sha256()
    for module_name, qualname in _BULK_COPIED:
        target: Any = importlib.import_module(f"{_METRICS_INTERNAL}.{module_name}")
        for part in qualname.split("."):
            target = getattr(target, part)
        digest.update(f"{module_name}:{qualname}\n".encode())
        digest.update(inspect.getsource(target).encode())
    return digest.hexdigest()


class _BulkPath:
    """The SDK's classes and functions the bulk path needs, loaded once and only when the
    installed SDK is the one copied (`load()` returns None otherwise)."""

    def __init__(self) -> None:
        from opentelemetry.context import get_current
        from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter
        from opentelemetry.sdk.metrics._internal import _view_instrument_match as matches
        from opentelemetry.sdk.metrics._internal import aggregation, instrument
        from opentelemetry.sdk.metrics._internal.measurement import Measurement
        from opentelemetry.sdk.metrics._internal.measurement_consumer import (
            SynchronousMeasurementConsumer,
        )
        from opentelemetry.sdk.metrics._internal.metric_reader_storage import (
            MetricReaderStorage,
        )

        self.counters = (instrument._Counter,)
        self.histograms = (instrument._Histogram,)
        self.instruments = self.counters + self.histograms
        self.consumer = SynchronousMeasurementConsumer
        self.storage = MetricReaderStorage
        self.match = matches._ViewInstrumentMatch
        self.hash_attributes = matches._hash_attributes
        self.always_off = AlwaysOffExemplarFilter
        self.sum = aggregation._SumAggregation
        self.histogram = aggregation._ExplicitBucketHistogramAggregation
        self.measurement = Measurement
        self.current_context = get_current

    @staticmethod
    @functools.cache
    def load() -> _BulkPath | None:
        try:
            if metrics_bulk_fingerprint() != METRICS_BULK_SHA256:
                return None
            return _BulkPath()
        except Exception:  # moved, renamed or shipped without source: not the copied SDK
            return None


_NUMBER_TYPES = frozenset((int, float))
# Attribute values the SDK's cleaning keeps as they are (keys: non-empty text).
_PLAIN_ATTRIBUTE_TYPES = (str, bool, int, float)


def aggregate_in_bulk(
    instrument: Any, attributes: Mapping[str, object], values: list[Any]
) -> list[Any]:
    """Aggregate `values` of one SDK counter or histogram and one attribute set, in order,
    as that many `add`/`record(value, attributes)` calls would, into every reader's data.

    Returns the values left for the public path: all of them where the SDK, the instrument
    or the attributes are not what the copied steps expect, and any value the SDK would
    check and warn about (not a finite, non-negative int or float). A measurement is either
    aggregated here or returned, never both.
    """
    bulk = _BulkPath.load()
    plan = None if bulk is None else _bulk_plan(bulk, instrument, attributes)
    if bulk is None or plan is None:
        return values
    if _all_taken(values):
        taken, left = values, []
    else:
        taken = [v for v in values if _takes(v)]
        left = [v for v in values if not _takes(v)]
    if taken:
        is_counter = type(instrument) in bulk.counters
        ordered: list[Any] | None = None
        for match, key, match_attributes in plan:
            # Held throughout, as the SDK holds it for delta readers: a collection sees all
            # of these values or none.
            with match._lock:
                aggregation = match._get_or_create_aggregation(key, match_attributes)
                kind = type(aggregation)
                if is_counter and kind is bulk.sum:
                    _add_to_sum(aggregation, taken)
                elif not is_counter and kind is bulk.histogram:
                    if ordered is None:
                        ordered = sorted(taken)
                    _add_to_histogram(aggregation, taken, ordered)
                else:
                    context = bulk.current_context()
                    now = time.time_ns()
                    for value in taken:
                        measurement = bulk.measurement(
                            value, now, instrument, context, match_attributes
                        )
                        aggregation.aggregate(measurement, False)
    return left


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int past a float's range: the SDK's own check raises on it
        return False


def _takes(value: Any) -> bool:
    """A value the SDK's `add`/`record` aggregates without a word: a finite, non-negative
    int or float (not a bool)."""
    return type(value) in _NUMBER_TYPES and _finite(value) and value >= 0


def _all_taken(values: list[Any]) -> bool:
    """`_takes` for every value, checked a whole list at a time."""
    kinds = set(map(type, values))
    if not values or not kinds <= _NUMBER_TYPES:
        return False
    try:
        # A NaN makes min() and max() unreliable, so it is looked for first.
        if float in kinds and any(map(math.isnan, values)):
            return False
        return min(values) >= 0 and math.isfinite(max(values))
    except OverflowError:  # an int past a float's range: see `_takes`
        return False


def _bulk_plan(
    bulk: _BulkPath, instrument: Any, attributes: Mapping[str, object]
) -> list[tuple[Any, Any, dict[str, Any]]] | None:
    """(view match, aggregation key, its attributes) for every reader and view the SDK would
    hand a measurement to; None where the bulk path does not apply."""
    # Exact types: an isinstance() check against these protocol classes is slow.
    if type(instrument) not in bulk.instruments:
        return None
    consumer = getattr(instrument, "_measurement_consumer", None)
    if type(consumer) is not bulk.consumer or not instrument._is_enabled():
        return None
    if type(consumer._sdk_config.exemplar_filter) is not bulk.always_off:
        return None  # exemplars need each measurement's own time and context
    if not isinstance(attributes, dict) or not all(
        type(k) is str and k and type(v) in _PLAIN_ATTRIBUTE_TYPES for k, v in attributes.items()
    ):
        return None
    plan = []
    for storage in consumer._reader_storages.values():
        if type(storage) is not bulk.storage:
            return None
        for match in storage._get_or_init_view_instrument_match(instrument):
            if type(match) is not bulk.match:
                return None
            keys = match._view._attribute_keys
            kept = (
                dict(attributes)
                if keys is None
                else {k: v for k, v in attributes.items() if k in keys}
            )
            plan.append((match, bulk.hash_attributes(kept), kept))
    return plan


def _add_to_sum(aggregation: Any, values: list[Any]) -> None:
    with aggregation._lock:
        start = 0 if aggregation._value is None else aggregation._value
        # Added one at a time, as the SDK adds: float sums round the same way.
        aggregation._value = functools.reduce(operator.add, values, start)


def _add_to_histogram(aggregation: Any, values: list[Any], ordered: list[Any]) -> None:
    bounds = aggregation._boundaries
    # A value v falls in bucket bisect_left(bounds, v), so the values up to and including
    # a bound (bisect_right in the sorted values) are those of the buckets up to its own.
    upto = [bisect.bisect_right(ordered, bound) for bound in bounds]
    upto.append(len(ordered))
    counts = list(map(operator.sub, upto, [0, *upto[:-1]]))
    with aggregation._lock:
        if aggregation._value is None:
            aggregation._value = aggregation._get_empty_bucket_counts()
        aggregation._sum = functools.reduce(operator.add, values, aggregation._sum)
        if aggregation._record_min_max:
            aggregation._min = min(aggregation._min, min(values))
            aggregation._max = max(aggregation._max, max(values))
        aggregation._value[:] = map(operator.add, aggregation._value, counts)
