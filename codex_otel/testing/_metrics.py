"""`InMemoryMetrics`: a metric reader for tests, its data as plain `Metric` values."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    InMemoryMetricReader,
    Sum,
)
from opentelemetry.sdk.metrics.export import Metric as SdkMetric

from .._config import MetricsTemporality
from ..export._factory import temporality_preference
from ._metric_data import Metric, MetricKind, MetricPoint, Temporality

__all__ = ["InMemoryMetrics"]


class InMemoryMetrics(InMemoryMetricReader):
    """An in-memory metric reader: pass it in `OtelProvider(..., metric_readers=[reader])`.

    Cumulative by default, so each read shows the totals so far; with `temporality="delta"`
    each read shows what happened since the previous one.
    """

    def __init__(self, *, temporality: MetricsTemporality = "cumulative") -> None:
        super().__init__(preferred_temporality=temporality_preference(temporality))

    def metrics(self) -> list[Metric]:
        """Collect now; every metric with at least one data point."""
        data = self.get_metrics_data()
        if data is None:
            return []
        return [
            _metric(metric, dict(resource_metrics.resource.attributes), scope_metrics.scope.name)
            for resource_metrics in data.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        ]

    def points(self, name: str) -> list[MetricPoint]:
        """Collect now; the data points of the metric called `name` (empty if none)."""
        return [
            point for metric in self.metrics() if metric.name == name for point in metric.points
        ]


_TEMPORALITY: dict[AggregationTemporality, Temporality] = {
    AggregationTemporality.DELTA: "delta",
    AggregationTemporality.CUMULATIVE: "cumulative",
}


def _metric(metric: SdkMetric, resource: dict[str, object], scope: str) -> Metric:
    data = metric.data
    kind: MetricKind
    temporality: Temporality | None = None
    monotonic: bool | None = None
    if isinstance(data, Histogram):
        kind, temporality = "histogram", _TEMPORALITY.get(data.aggregation_temporality)
        points = tuple(
            MetricPoint(
                attributes=dict(point.attributes or {}),
                count=point.count,
                sum=point.sum,
                min=point.min,
                max=point.max,
                bucket_counts=tuple(point.bucket_counts),
                explicit_bounds=tuple(point.explicit_bounds),
                start_time_unix_nano=point.start_time_unix_nano,
                time_unix_nano=point.time_unix_nano,
            )
            for point in data.data_points
        )
    elif isinstance(data, (Sum, Gauge)):
        if isinstance(data, Sum):
            kind, temporality = "sum", _TEMPORALITY.get(data.aggregation_temporality)
            monotonic = data.is_monotonic
        else:
            kind = "gauge"
        points = tuple(
            MetricPoint(
                attributes=dict(point.attributes or {}),
                value=point.value,
                start_time_unix_nano=point.start_time_unix_nano,
                time_unix_nano=point.time_unix_nano,
            )
            for point in data.data_points
        )
    else:
        raise TypeError(f"{metric.name}: {type(data).__name__} data is not used by codex_otel")
    return Metric(
        name=metric.name,
        unit=metric.unit or "",
        description=metric.description or "",
        kind=kind,
        temporality=temporality,
        monotonic=monotonic,
        points=points,
        resource=resource,
        scope_name=scope,
    )
