"""Plain values for exported metrics: what the receiver decodes and `codex_otel.testing` reads.

Protobuf from the wire (`_receiver`) and the SDK's in-memory data (`testing`) both become these,
so a test compares the same shapes whichever way the metrics travelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Metric", "MetricKind", "MetricPoint", "Temporality"]

MetricKind = Literal["sum", "gauge", "histogram"]
Temporality = Literal["delta", "cumulative"]


@dataclass(frozen=True)
class MetricPoint:
    """One data point: a number (sum, gauge) or a histogram's summary and buckets."""

    attributes: dict[str, object]
    value: int | float | None = None
    """The number of a sum or gauge point; None for a histogram."""
    count: int | None = None
    """Histogram only: how many values were recorded."""
    sum: int | float | None = None
    """Histogram only: their sum."""
    min: float | None = None
    max: float | None = None
    bucket_counts: tuple[int, ...] = ()
    explicit_bounds: tuple[float, ...] = ()
    start_time_unix_nano: int = field(default=0, compare=False)
    time_unix_nano: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Metric:
    """One metric of one export, with the context it arrived in."""

    name: str
    unit: str
    description: str
    kind: MetricKind
    temporality: Temporality | None
    """None for a gauge, which has none."""
    monotonic: bool | None
    """Sums only: True for a counter."""
    points: tuple[MetricPoint, ...]
    resource: dict[str, object]
    scope_name: str
    transport: str = "memory"
    """`http/protobuf`, `http/json`, `grpc`, or `memory` for `codex_otel.testing`."""
    headers: dict[str, str] = field(default_factory=dict)
    """HTTP headers / gRPC metadata, keys lower-cased (empty in memory)."""
