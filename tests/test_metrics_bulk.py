"""Measurements handed to the SDK in bulk export what the SDK's own per-value path exports.

Each test records the same measurements twice: through the public `add`/`record`, one call
per value, and through the bulk path (`_metrics._apply_group`, `DeferredMeasurements`), then
compares every data point whole (timestamps aside).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import (
    AlwaysOffExemplarFilter,
    Counter,
    Histogram,
    MeterProvider,
    TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View

from codex_otel import OtelEventManager, OtelProvider, load_config
from codex_otel._metrics import DeferredMeasurements, Target, _apply_group
from codex_otel.export import _private_sdk_metrics
from codex_otel.testing import Metric, OtlpReceiver
from tests.conftest import METADATA

BOUNDS = (0.0, 5.0, 10.0, 25.0, 100.0, 1000.0)
# Values on, between and past the bounds; floats whose sum depends on the order of adding;
# and values the SDK refuses with a warning (negative, not finite, not a number).
HISTOGRAM_VALUES: list[Any] = [0, 5, 5.0, 0.1, 7, 10, 0.2, 0.3, 1e16, 1.0, 1.0, 2500, 3, 99.99]
COUNTER_VALUES: list[Any] = [0.1, 1, 2, 0.5, 0.2, 0.3, 3, 1e16, 1.0, 1.0]
REFUSED: list[Any] = [-1, math.nan, math.inf, -math.inf]
ATTRIBUTE_SETS: list[dict[str, Any]] = [
    {"kind": "a", "success": "true"},
    {"kind": "b", "success": "false", "attempt": 2, "ratio": 0.5, "retried": True},
    {"kind": "a", "success": "false"},
    {},
    # Not kept as they are by the SDK's cleaning (a sequence becomes a tuple): public path.
    {"kind": "c", "tags": ["x", "y"]},
]
TEMPORALITIES = {
    "delta": AggregationTemporality.DELTA,
    "cumulative": AggregationTemporality.CUMULATIVE,
}


def _reader(temporality: str, *, exponential: bool = False) -> InMemoryMetricReader:
    chosen = TEMPORALITIES[temporality]
    return InMemoryMetricReader(
        preferred_temporality={Counter: chosen, Histogram: chosen},
        preferred_aggregation=(
            {Histogram: ExponentialBucketHistogramAggregation()} if exponential else None
        ),
    )


class Side:
    """One MeterProvider with the readers a user might add: delta, cumulative, and one that
    aggregates histograms its own way; views that rename, filter attributes and cap sets."""

    def __init__(self, exemplar_filter: Any = None) -> None:
        self.readers = {
            "delta": _reader("delta"),
            "cumulative": _reader("cumulative"),
            "exponential": _reader("cumulative", exponential=True),
        }
        self.provider = MeterProvider(
            metric_readers=list(self.readers.values()),
            shutdown_on_exit=False,
            exemplar_filter=exemplar_filter or AlwaysOffExemplarFilter(),
            views=[
                View(instrument_name="c"),
                View(instrument_name="h"),
                View(instrument_name="h", name="h.by_kind", attribute_keys={"kind"}),
                View(instrument_name="c", name="c.capped", aggregation_cardinality_limit=2),
            ],
        )
        meter = self.provider.get_meter("bulk-test")
        self.deferred = DeferredMeasurements()
        meter.create_observable_gauge("drain", callbacks=[self.deferred.on_collect])
        self.counter = meter.create_counter("c", unit="1", description="counted")
        self.histogram = meter.create_histogram(
            "h", unit="ms", description="timed", explicit_bucket_boundaries_advisory=BOUNDS
        )

    def collect(self) -> dict[str, list[dict[str, Any]]]:
        return {name: _shape(reader) for name, reader in self.readers.items()}

    def close(self) -> None:
        self.deferred.stop()
        self.provider.shutdown()


def _shape(reader: InMemoryMetricReader) -> list[dict[str, Any]]:
    """Every metric of one collection, each data point whole but for its timestamps."""
    data = reader.get_metrics_data()
    metrics = [
        metric
        for resource_metrics in (data.resource_metrics if data else ())
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
    ]
    shaped = []
    for metric in metrics:
        points = []
        for point in metric.data.data_points:
            fields = dataclasses.asdict(point)
            del fields["start_time_unix_nano"], fields["time_unix_nano"]
            fields["attributes"] = dict(point.attributes or {})
            points.append(fields)
        shaped.append(
            {
                "name": metric.name,
                "unit": metric.unit,
                "description": metric.description,
                "data": type(metric.data).__name__,
                "temporality": getattr(metric.data, "aggregation_temporality", None),
                "monotonic": getattr(metric.data, "is_monotonic", None),
                "points": sorted(points, key=repr),
            }
        )
    return sorted(shaped, key=lambda metric: str(metric["name"]))


@pytest.fixture
def sides() -> Iterator[tuple[Side, Side]]:
    plain, bulk = Side(), Side()
    yield plain, bulk
    plain.close()
    bulk.close()


def _record_plain(
    side: Side, attributes: dict[str, Any], counts: list[Any], times: list[Any]
) -> None:
    for value in counts:
        side.counter.add(value, attributes)
    for value in times:
        side.histogram.record(value, attributes)


def _record_bulk(
    side: Side, attributes: dict[str, Any], counts: list[Any], times: list[Any]
) -> None:
    _apply_group(side.counter, attributes, list(counts))
    _apply_group(side.histogram, attributes, list(times))


def test_bulk_and_per_value_paths_export_the_same_points_in_both_temporalities(
    sides: tuple[Side, Side],
) -> None:
    plain, bulk = sides
    assert _private_sdk_metrics._BulkPath.load() is not None  # the installed SDK is the copied one
    # Three collections: delta points restart, cumulative ones grow, new sets appear late.
    for round_ in range(3):
        for index, attributes in enumerate(ATTRIBUTE_SETS[: 3 + round_]):
            counts = COUNTER_VALUES[index:] + REFUSED[:round_]
            times = HISTOGRAM_VALUES[round_:] + REFUSED
            # In two batches: the second adds to what the first left in the aggregation.
            for part in (slice(0, 4), slice(4, None)):
                _record_plain(plain, attributes, counts[part], times[part])
                _record_bulk(bulk, attributes, counts[part], times[part])
        expected = plain.collect()
        assert bulk.collect() == expected
        assert expected["delta"] and expected["cumulative"] and expected["exponential"]
    # Nothing left over: the next delta collection is empty on both sides.
    assert bulk.collect()["delta"] == plain.collect()["delta"] == []


def test_the_cardinality_cap_overflows_alike(sides: tuple[Side, Side]) -> None:
    plain, bulk = sides
    for index in range(6):
        attributes = {"kind": f"k{index}"}
        _record_plain(plain, attributes, [index + 1], [index * 10])
        _record_bulk(bulk, attributes, [index + 1], [index * 10])
    expected = plain.collect()
    capped = [m for m in expected["cumulative"] if m["name"] == "c.capped"]
    assert {"otel.metric.overflow": True} in [p["attributes"] for p in capped[0]["points"]]
    assert bulk.collect() == expected


def _queue(side: Side, attributes: dict[str, str]) -> tuple[Target, Target]:
    return Target(side.counter, side.histogram, attributes), Target(
        None, side.histogram, attributes
    )


def test_measurements_queued_before_a_collection_are_in_it(sides: tuple[Side, Side]) -> None:
    plain, bulk = sides
    attributes = {"kind": "a", "success": "true"}
    timed, untimed = _queue(bulk, attributes)
    # Integers, as the recorder records (milliseconds, token counts): two targets with equal
    # attributes are handed over one after the other, which changes no integer sum.
    values = [round(value) for value in HISTOGRAM_VALUES]
    for value in values:
        bulk.deferred.add(timed, value)  # a counter add and a histogram record
        bulk.deferred.add(untimed, value * 2)  # a histogram record only
    bulk.deferred.add(timed, None)  # a counter add only
    for value in values:
        plain.counter.add(1, attributes)
        plain.histogram.record(value, attributes)
        plain.histogram.record(value * 2, attributes)
    plain.counter.add(1, attributes)
    # The collection's own callback hands the queue over before the instruments are read.
    assert bulk.collect() == plain.collect()


def test_measurements_arriving_during_collections_are_each_exported_once() -> None:
    plain, bulk = Side(), Side()
    attributes = {"kind": "a", "success": "true"}
    # Halves and integers: their sum is exact in any order of adding.
    rounds, batch = 400, [1, 2.5, 5, 10, 3000]
    timed = Target(bulk.counter, bulk.histogram, attributes)
    done = threading.Event()
    delta_counts: list[float] = []
    delta_buckets = [0] * (len(BOUNDS) + 1)

    def collect_delta() -> None:
        for metric in _shape(bulk.readers["delta"]):
            for point in metric["points"]:
                if metric["name"] == "c":
                    delta_counts.append(point["value"])
                elif metric["name"] == "h":
                    for index, count in enumerate(point["bucket_counts"]):
                        delta_buckets[index] += count

    def feed() -> None:
        # Straight to the SDK in bulk, and through the queue: its worker hands entries over
        # (every 512) while the collections' callback does too.
        try:
            for _ in range(rounds):
                _record_bulk(bulk, attributes, [1, 1], batch)
                for value in batch:
                    bulk.deferred.add(timed, value)
        finally:
            done.set()

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        collections = 0
        while not done.is_set() and collections < 10_000:
            collect_delta()
            collections += 1
    finally:
        feeder.join(timeout=60)
    assert not feeder.is_alive()
    collect_delta()
    for _ in range(rounds):
        _record_plain(plain, attributes, [1, 1], batch)
        _record_plain(plain, attributes, [1] * len(batch), batch)
    plain_delta = [m for m in _shape(plain.readers["delta"]) if m["name"] == "h"]
    assert sum(delta_counts) == (2 + len(batch)) * rounds
    assert tuple(delta_buckets) == plain_delta[0]["points"][0]["bucket_counts"]
    # Cumulative readers were only read at the end: the same as the per-value path's.
    assert _shape(bulk.readers["cumulative"]) == _shape(plain.readers["cumulative"])
    plain.close()
    bulk.close()


def test_an_sdk_other_than_the_copied_one_takes_the_public_path(
    monkeypatch: pytest.MonkeyPatch, sides: tuple[Side, Side]
) -> None:
    plain, bulk = sides
    monkeypatch.setattr(_private_sdk_metrics, "METRICS_BULK_SHA256", "not the installed one")
    _private_sdk_metrics._BulkPath.load.cache_clear()
    try:
        assert _private_sdk_metrics._BulkPath.load() is None
        values = list(HISTOGRAM_VALUES)
        assert (
            _private_sdk_metrics.aggregate_in_bulk(bulk.histogram, {"kind": "a"}, values) is values
        )
        for attributes in ATTRIBUTE_SETS:
            _record_plain(plain, attributes, COUNTER_VALUES, HISTOGRAM_VALUES + REFUSED)
            _record_bulk(bulk, attributes, COUNTER_VALUES, HISTOGRAM_VALUES + REFUSED)
        assert bulk.collect() == plain.collect()
    finally:
        _private_sdk_metrics._BulkPath.load.cache_clear()


def test_exemplars_or_unclean_attributes_take_the_public_path() -> None:
    sampled = Side(exemplar_filter=TraceBasedExemplarFilter())
    try:
        values = [1, 2]
        left = _private_sdk_metrics.aggregate_in_bulk(sampled.counter, {"kind": "a"}, values)
        assert left is values
    finally:
        sampled.close()
    plain = Side()
    try:
        for attributes in ({"tags": ["x"]}, {"": "empty key"}, {"none": None}):
            values = [1, 2]
            assert (
                _private_sdk_metrics.aggregate_in_bulk(plain.counter, attributes, values) is values
            )
        assert _private_sdk_metrics.aggregate_in_bulk(object(), {"kind": "a"}, values) is values
        # Values the SDK would refuse with a warning (or, an int past a float's range, with
        # an error) are left to it; the rest are taken.
        huge = 10**400
        left = _private_sdk_metrics.aggregate_in_bulk(
            plain.histogram, {"kind": "a"}, [1, -1, 2.5, math.nan, True, math.inf, huge, -0.0]
        )
        assert [repr(v) for v in left] == ["-1", "nan", "True", "inf", repr(huge)]
        bulk_add = _private_sdk_metrics.aggregate_in_bulk
        assert bulk_add(plain.counter, {}, [huge]) == [huge]
        assert bulk_add(plain.counter, {}, [0.5, huge]) == [huge]
        assert bulk_add(plain.counter, {}, [2**1023, 2.0**1023]) == []
        with pytest.raises(OverflowError):
            plain.counter.add(huge)
    finally:
        plain.close()


# -- end to end: the manager's metrics through OTLP, bulk against the per-value path ----------


def _run(receiver: OtlpReceiver, tmp_path: Any, temporality: str, version: str) -> None:
    path = tmp_path / f"{version}.toml"
    path.write_text(
        f'[otel]\nmetrics_temporality = "{temporality}"\n'
        f'[otel.metrics_exporter.otlp-http]\nendpoint = "{receiver.metrics_endpoint}"\n'
    )
    provider = OtelProvider.from_config(load_config(path, env={}), service_version=version)
    manager = OtelEventManager(provider, **METADATA)
    for index in range(300):
        manager.sse_event("response.output_text.delta", 0.0005 * index)
        manager.api_request(index, 0.01 * index, status_code=200 if index % 7 else 503)
        manager.tool_result("shell", "call", "ls", 0.2 * index, index % 3 != 0, "ok")
        if index % 50 == 0:
            manager.sse_event_completed(
                input_token_count=1000 + index,
                output_token_count=index,
                cached_token_count=index // 2,
                reasoning_token_count=None,
                tool_token_count=0,
            )
            provider.force_flush()  # a collection with measurements still arriving
    provider.shutdown()


def _by_version(metrics: list[Metric]) -> dict[str, list[tuple[Any, ...]]]:
    sides: dict[str, list[tuple[Any, ...]]] = {}
    for metric in metrics:
        points = sorted(
            repr(dataclasses.replace(point, start_time_unix_nano=0, time_unix_nano=0))
            for point in metric.points
        )
        row = (metric.name, metric.unit, metric.kind, metric.temporality, metric.monotonic, points)
        sides.setdefault(str(metric.resource["service.version"]), []).append(row)
    return {version: sorted(rows) for version, rows in sides.items()}


@pytest.mark.parametrize("temporality", ["delta", "cumulative"])
def test_the_managers_metrics_over_otlp_match_the_per_value_path(
    monkeypatch: pytest.MonkeyPatch, receiver: OtlpReceiver, tmp_path: Any, temporality: str
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(_private_sdk_metrics, "METRICS_BULK_SHA256", "not the installed one")
        _private_sdk_metrics._BulkPath.load.cache_clear()
        _run(receiver, tmp_path, temporality, "per-value")
    _private_sdk_metrics._BulkPath.load.cache_clear()
    assert _private_sdk_metrics._BulkPath.load() is not None
    _run(receiver, tmp_path, temporality, "bulk")
    sides = _by_version(receiver.metrics)
    assert sides.keys() == {"per-value", "bulk"}
    assert sides["bulk"] == sides["per-value"]
    assert len(sides["bulk"]) > 7  # every instrument, over several collections
    assert {row[3] for row in sides["bulk"]} == {temporality}
