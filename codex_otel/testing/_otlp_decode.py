"""OTLP export requests (protobuf or OTLP/JSON) -> flat Python values.

What the local receiver hands to the tests, the demo and the `receive` viewer.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from ._metric_data import Metric, MetricKind, MetricPoint, Temporality

__all__ = [
    "ReceivedLog",
    "ReceivedSpan",
    "decode_logs_request",
    "decode_metrics_request",
    "decode_traces_request",
    "otlp_json_into",
    "parse_otlp_json",
    "parse_otlp_json_into",
]


@dataclass(frozen=True)
class ReceivedLog:
    """One decoded OTLP LogRecord, with the context it arrived in."""

    transport: str  # "http/protobuf", "http/json" or "grpc"
    event_name: str
    severity_number: int
    severity_text: str
    body: object  # decoded AnyValue, None if unset
    attributes: dict[str, object]
    resource: dict[str, object]
    scope_name: str
    time_unix_nano: int
    observed_time_unix_nano: int
    headers: dict[str, str]  # HTTP headers / gRPC metadata, keys lower-cased
    trace_id: str = ""  # hex; "" when recorded outside any span
    span_id: str = ""


@dataclass(frozen=True)
class ReceivedSpan:
    """One decoded OTLP Span, with the context it arrived in."""

    transport: str  # "http/protobuf", "http/json" or "grpc"
    name: str
    kind: str  # "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER" (or "UNSPECIFIED")
    trace_id: str  # hex
    span_id: str
    parent_span_id: str  # "" for a root span
    trace_state: str
    attributes: dict[str, object]
    status_code: str  # "UNSET", "OK" or "ERROR"
    status_message: str
    resource: dict[str, object]
    scope_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    headers: dict[str, str]


def _any_value(value: AnyValue) -> object:
    """AnyValue -> python: str, int, float, bool, bytes, list, dict, or None if unset."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _key_values(value.kvlist_value.values)
    return getattr(value, kind)  # the scalar oneofs already have the right python type


def _key_values(items: Iterable[KeyValue]) -> dict[str, object]:
    return {item.key: _any_value(item.value) for item in items}


def decode_logs_request(
    request: ExportLogsServiceRequest, transport: str, headers: dict[str, str]
) -> list[ReceivedLog]:
    return [
        ReceivedLog(
            transport=transport,
            event_name=record.event_name,
            severity_number=int(record.severity_number),
            severity_text=record.severity_text,
            body=_any_value(record.body) if record.HasField("body") else None,
            attributes=_key_values(record.attributes),
            resource=_key_values(resource_logs.resource.attributes),
            scope_name=scope_logs.scope.name,
            time_unix_nano=record.time_unix_nano,
            observed_time_unix_nano=record.observed_time_unix_nano,
            headers=dict(headers),  # each record gets its own copy
            trace_id=record.trace_id.hex(),
            span_id=record.span_id.hex(),
        )
        for resource_logs in request.resource_logs
        for scope_logs in resource_logs.scope_logs
        for record in scope_logs.log_records
    ]


_SPAN_KINDS = {
    trace_pb2.Span.SPAN_KIND_UNSPECIFIED: "UNSPECIFIED",
    trace_pb2.Span.SPAN_KIND_INTERNAL: "INTERNAL",
    trace_pb2.Span.SPAN_KIND_SERVER: "SERVER",
    trace_pb2.Span.SPAN_KIND_CLIENT: "CLIENT",
    trace_pb2.Span.SPAN_KIND_PRODUCER: "PRODUCER",
    trace_pb2.Span.SPAN_KIND_CONSUMER: "CONSUMER",
}
_STATUS_CODES = {
    trace_pb2.Status.STATUS_CODE_UNSET: "UNSET",
    trace_pb2.Status.STATUS_CODE_OK: "OK",
    trace_pb2.Status.STATUS_CODE_ERROR: "ERROR",
}


def decode_traces_request(
    request: ExportTraceServiceRequest, transport: str, headers: dict[str, str]
) -> list[ReceivedSpan]:
    return [
        ReceivedSpan(
            transport=transport,
            name=span.name,
            kind=_SPAN_KINDS.get(span.kind, str(span.kind)),
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_span_id=span.parent_span_id.hex(),
            trace_state=span.trace_state,
            attributes=_key_values(span.attributes),
            status_code=_STATUS_CODES.get(span.status.code, str(span.status.code)),
            status_message=span.status.message,
            resource=_key_values(resource_spans.resource.attributes),
            scope_name=scope_spans.scope.name,
            start_time_unix_nano=span.start_time_unix_nano,
            end_time_unix_nano=span.end_time_unix_nano,
            headers=dict(headers),
        )
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def _hex_ids_to_base64(node: object) -> None:
    """OTLP/JSON sends traceId/spanId as hex; protobuf's JSON mapping expects base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                # Not hex? Leave it for Parse to accept (as base64) or reject.
                with contextlib.suppress(ValueError):
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            else:
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids_to_base64(item)


def parse_otlp_json(body: bytes) -> ExportLogsServiceRequest:
    """Decode an OTLP/JSON ExportLogsServiceRequest (ints and enums may be numbers or strings)."""
    return parse_otlp_json_into(body, ExportLogsServiceRequest())


_M = TypeVar("_M", bound=Message)


def parse_otlp_json_into(body: bytes, request: _M) -> _M:
    """Decode an OTLP/JSON request of any signal into `request`."""
    return otlp_json_into(json.loads(body), request)


def otlp_json_into(document: Any, request: _M) -> _M:
    """An OTLP/JSON request of any signal, parsed by `json`, into `request`."""
    _hex_ids_to_base64(document)
    # Unknown fields are ignored, as OTLP asks of receivers for forward compatibility.
    json_format.ParseDict(document, request, ignore_unknown_fields=True)
    return request


_TEMPORALITY: dict[int, Temporality] = {
    metrics_pb2.AGGREGATION_TEMPORALITY_DELTA: "delta",
    metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE: "cumulative",
}


def _number(point: Any) -> int | float:
    value: int | float = point.as_int if point.WhichOneof("value") == "as_int" else point.as_double
    return value


def _decode_metric(
    metric: Any,
) -> tuple[MetricKind, Temporality | None, bool | None, list[MetricPoint]]:
    """A proto Metric -> (kind, temporality, monotonic, points); other kinds are not used here."""
    kind = metric.WhichOneof("data")
    if kind in ("sum", "gauge"):
        data = getattr(metric, kind)
        points = [
            MetricPoint(
                attributes=_key_values(point.attributes),
                value=_number(point),
                start_time_unix_nano=point.start_time_unix_nano,
                time_unix_nano=point.time_unix_nano,
            )
            for point in data.data_points
        ]
        if kind == "gauge":
            return "gauge", None, None, points
        return "sum", _TEMPORALITY.get(data.aggregation_temporality), data.is_monotonic, points
    if kind == "histogram":
        data = metric.histogram
        points = [
            MetricPoint(
                attributes=_key_values(point.attributes),
                count=point.count,
                sum=point.sum if point.HasField("sum") else None,
                min=point.min if point.HasField("min") else None,
                max=point.max if point.HasField("max") else None,
                bucket_counts=tuple(point.bucket_counts),
                explicit_bounds=tuple(point.explicit_bounds),
                start_time_unix_nano=point.start_time_unix_nano,
                time_unix_nano=point.time_unix_nano,
            )
            for point in data.data_points
        ]
        return "histogram", _TEMPORALITY.get(data.aggregation_temporality), None, points
    raise ValueError(f"unsupported metric data {kind!r} in {metric.name!r}")


def decode_metrics_request(
    request: ExportMetricsServiceRequest, transport: str, headers: dict[str, str]
) -> list[Metric]:
    received = []
    for resource_metrics in request.resource_metrics:
        resource = _key_values(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind, temporality, monotonic, points = _decode_metric(metric)
                received.append(
                    Metric(
                        name=metric.name,
                        unit=metric.unit,
                        description=metric.description,
                        kind=kind,
                        temporality=temporality,
                        monotonic=monotonic,
                        points=tuple(points),
                        resource=dict(resource),
                        scope_name=scope_metrics.scope.name,
                        transport=transport,
                        headers=dict(headers),
                    )
                )
    return received
