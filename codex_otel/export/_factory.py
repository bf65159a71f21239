"""`[otel]` exporter config -> the SDK's OTLP exporter, for any signal: one factory.

Each exporter kind is a registry entry whose exporter module is imported only when used, so
`exporter = "none"` imports neither the HTTP stack nor grpc. Every signal's exporter is pinned
the same way: the export timeout, no compression, the table's headers only, and its TLS, so
no inherited `OTEL_EXPORTER_OTLP_*` variable changes or breaks what the table asked for.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from .._config import (
    ExporterConfig,
    MetricsTemporality,
    OtlpFileExporter,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    redact_url,
)
from ._fork import renew_http_connections_in_child
from ._grpc_setup import before_importing_grpc
from ._private_sdk_exporters import (
    grpc_log_exporter_ignoring_timeout_variable,
    import_tracing_sdk,
    pin_headers,
    watch_partial_success,
)
from ._private_sdk_log_export import (
    fast_file_log_export,
    fast_grpc_log_export,
    fast_http_log_export,
)
from ._tls import (
    certificate_failures_are_final,
    grpc_credentials,
    http_tls_files,
    pinned_ca_session,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import AggregationTemporality

__all__ = [
    "EXPORTER_FACTORIES",
    "EXPORT_TIMEOUT_SECONDS",
    "Signal",
    "build_exporter",
    "describe_exporter",
    "temporality_preference",
]

Signal = Literal["logs", "metrics", "traces"]
EXPORT_TIMEOUT_SECONDS = 10.0

# (module, class) of each transport's exporter, per signal.
_PROTO_HTTP: dict[Signal, tuple[str, str]] = {
    "logs": ("opentelemetry.exporter.otlp.proto.http._log_exporter", "OTLPLogExporter"),
    "metrics": ("opentelemetry.exporter.otlp.proto.http.metric_exporter", "OTLPMetricExporter"),
    "traces": ("opentelemetry.exporter.otlp.proto.http.trace_exporter", "OTLPSpanExporter"),
}
_JSON_HTTP: dict[Signal, tuple[str, str]] = {
    "logs": ("opentelemetry.exporter.otlp.json.http._log_exporter", "OTLPLogExporter"),
    "metrics": ("opentelemetry.exporter.otlp.json.http.metric_exporter", "OTLPMetricExporter"),
    "traces": ("opentelemetry.exporter.otlp.json.http.trace_exporter", "OTLPSpanExporter"),
}
_GRPC: dict[Signal, tuple[str, str]] = {
    "logs": ("opentelemetry.exporter.otlp.proto.grpc._log_exporter", "OTLPLogExporter"),
    "metrics": ("opentelemetry.exporter.otlp.proto.grpc.metric_exporter", "OTLPMetricExporter"),
    "traces": ("opentelemetry.exporter.otlp.proto.grpc.trace_exporter", "OTLPSpanExporter"),
}


def _exporter_class(table: dict[Signal, tuple[str, str]], signal: Signal) -> Any:
    module, name = table[signal]
    return getattr(importlib.import_module(module), name)


def temporality_preference(temporality: MetricsTemporality) -> dict[type, AggregationTemporality]:
    """Every instrument class named, so an inherited OTEL_* preference cannot change it."""
    # Imported here, as in `_signal_options`: only metrics need the metrics SDK.
    from opentelemetry.sdk import metrics as sdk_metrics
    from opentelemetry.sdk.metrics.export import AggregationTemporality

    chosen = (
        AggregationTemporality.DELTA
        if temporality == "delta"
        else AggregationTemporality.CUMULATIVE
    )
    cumulative = AggregationTemporality.CUMULATIVE
    return {
        sdk_metrics.Counter: chosen,
        sdk_metrics.Histogram: chosen,
        sdk_metrics.ObservableCounter: chosen,
        # Up-down counters and gauges are levels: cumulative whatever the preference.
        sdk_metrics.UpDownCounter: cumulative,
        sdk_metrics.ObservableUpDownCounter: cumulative,
        sdk_metrics.ObservableGauge: cumulative,
    }


def _signal_options(signal: Signal, temporality: MetricsTemporality) -> dict[str, Any]:
    if signal != "metrics":
        return {}
    from opentelemetry.sdk import metrics as sdk_metrics
    from opentelemetry.sdk.metrics.view import Aggregation, ExplicitBucketHistogramAggregation

    # Explicit buckets (our advisory bounds) even if OTEL_* asks for exponential ones.
    aggregation: dict[type, Aggregation] = {
        sdk_metrics.Histogram: ExplicitBucketHistogramAggregation()
    }
    return {
        "preferred_temporality": temporality_preference(temporality),
        "preferred_aggregation": aggregation,
    }


def _otlp_http(config: ExporterConfig, signal: Signal, options: dict[str, Any]) -> Any:
    assert isinstance(config, OtlpHttpExporter)
    tls = http_tls_files(config.tls)._asdict()
    if config.protocol == "json":
        from opentelemetry.exporter.otlp.common.http import Compression as JsonCompression

        exporter = _exporter_class(_JSON_HTTP, signal)(
            endpoint=config.endpoint,
            headers=dict(config.headers),
            timeout=EXPORT_TIMEOUT_SECONDS,
            compression=JsonCompression.NONE,
            **tls,
            **options,
        )
        _watch(exporter, signal)
    else:
        import requests
        from opentelemetry.exporter.otlp.proto.http import Compression

        # A session of our own, always: without one the exporter loads whatever an inherited
        # OTEL_PYTHON_EXPORTER_OTLP_HTTP_*CREDENTIAL_PROVIDER names (and fails on a bad one).
        session = pinned_ca_session(config.tls) or requests.Session()
        exporter = _exporter_class(_PROTO_HTTP, signal)(
            endpoint=config.endpoint,
            headers=dict(config.headers),
            timeout=EXPORT_TIMEOUT_SECONDS,
            compression=Compression.NoCompression,
            session=session,
            **tls,
            **options,
        )
        # The exporter fills what the table leaves unset from inherited
        # OTEL_EXPORTER_OTLP_*CERTIFICATE / *CLIENT_KEY (a client certificate that does not
        # exist fails every export, even over http://): only the table's TLS files apply.
        session.verify = tls["certificate_file"] or True
        client, key = tls["client_certificate_file"], tls["client_key_file"]
        session.cert = (client, key) if client and key else client
        _watch(exporter, signal, session)
        if signal == "logs":
            from ._encode import request_bytes

            fast_http_log_export(exporter, request_bytes)
    pin_headers(exporter, config.headers)
    renew_http_connections_in_child(exporter)
    certificate_failures_are_final(exporter)
    return exporter


def _otlp_grpc(config: ExporterConfig, signal: Signal, options: dict[str, Any]) -> Any:
    assert isinstance(config, OtlpGrpcExporter)
    before_importing_grpc()
    from grpc import Compression

    insecure = config.endpoint.startswith("http://")
    arguments: dict[str, Any] = {
        "endpoint": config.endpoint,
        # The scheme decides, not an inherited OTEL_EXPORTER_OTLP_INSECURE.
        "insecure": insecure,
        "credentials": None if insecure else grpc_credentials(config.tls),
        # gRPC metadata keys must be lower-case.
        "headers": tuple((name.lower(), value) for name, value in config.headers.items()),
        "timeout": EXPORT_TIMEOUT_SECONDS,
        "compression": Compression.NoCompression,
        # Explicit, so a garbage OTEL_PYTHON_EXPORTER_OTLP_GRPC_RETRYABLE_ERROR_CODES cannot raise.
        "retryable_error_codes": _grpc_retryable_codes(),
        **options,
    }
    try:
        exporter = _exporter_class(_GRPC, signal)(**arguments)
    except ValueError:
        # Garbage in the one variable the log exporter parses whatever it is given.
        if signal != "logs" or _GRPC_LOGS_TIMEOUT not in os.environ:
            raise
        exporter = grpc_log_exporter_ignoring_timeout_variable(arguments)
    if signal == "logs":
        from ._encode import request_bytes

        fast_grpc_log_export(exporter, request_bytes)
    _watch(exporter, signal)
    pin_headers(exporter, config.headers)
    certificate_failures_are_final(exporter)
    return exporter


# The answer type of each signal whose delivery counts records (metrics are exported by
# the SDK's periodic reader, outside that count).
_RESPONSES: dict[Signal, tuple[str, str]] = {
    "logs": (
        "opentelemetry.proto.collector.logs.v1.logs_service_pb2",
        "ExportLogsServiceResponse",
    ),
    "traces": (
        "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
        "ExportTraceServiceResponse",
    ),
}


def _watch(exporter: Any, signal: Signal, session: Any | None = None) -> None:
    """Read the collector's partial-success answers for a signal whose records are counted."""
    if signal in _RESPONSES:
        watch_partial_success(exporter, _exporter_class(_RESPONSES, signal), session)


_GRPC_LOGS_TIMEOUT = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"


def _grpc_retryable_codes() -> frozenset[Any]:
    """The SDK's default retryable gRPC codes, given explicitly."""
    from grpc import StatusCode

    return frozenset(
        {
            StatusCode.CANCELLED,
            StatusCode.DEADLINE_EXCEEDED,
            StatusCode.RESOURCE_EXHAUSTED,
            StatusCode.ABORTED,
            StatusCode.OUT_OF_RANGE,
            StatusCode.UNAVAILABLE,
            StatusCode.DATA_LOSS,
        }
    )


def _otlp_file(config: ExporterConfig, signal: Signal, options: dict[str, Any]) -> Any:
    assert isinstance(config, OtlpFileExporter)
    from ._file import build_file_exporter

    exporter = build_file_exporter(config.path, signal, options)
    if signal == "logs":
        from ._encode_json import encode_logs_line
        from ._records import readables

        fast_file_log_export(exporter, encode_logs_line, readables)
    return exporter


# Exporter kind -> factory; `none` has none.
EXPORTER_FACTORIES: dict[str, Callable[[ExporterConfig, Signal, dict[str, Any]], Any]] = {
    OtlpHttpExporter.kind: _otlp_http,
    OtlpGrpcExporter.kind: _otlp_grpc,
    OtlpFileExporter.kind: _otlp_file,
}


def build_exporter(
    signal: Signal,
    config: ExporterConfig,
    *,
    metrics_temporality: MetricsTemporality = "delta",
) -> Any:
    """The SDK exporter `config` asks for, for `signal`; None for `none`.

    Raises what the SDK raises when the exporter cannot be built (a missing TLS file, say):
    the provider's start reports that once and turns the signal off.
    """
    factory = EXPORTER_FACTORIES.get(config.kind)
    if factory is None:
        return None
    import_tracing_sdk()  # first, as every OTLP exporter's encoder imports it
    return factory(config, signal, _signal_options(signal, metrics_temporality))


def describe_exporter(config: ExporterConfig) -> str:
    """`otlp-http https://host/v1/logs` for messages, without any user:password in the URL."""
    if isinstance(config, OtlpFileExporter):
        return f"{config.kind} {config.path}"
    endpoint = getattr(config, "endpoint", "")
    return f"{config.kind} {redact_url(endpoint)}".rstrip()
