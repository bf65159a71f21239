"""`codex-otel config check`: one bounded test export that says plainly how it went.

The SDK exporters only report success or failure (the reason goes to a log line),
so the check sends its own single-record OTLP request with the configured
endpoint, protocol and headers, and classifies the outcome.
"""

from __future__ import annotations

import math
import os
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._config import (
    ExporterConfig,
    OtlpFileExporter,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    redact_url,
)
from .._config_load import OtelConfig
from .._version import package_version
from ..catalog import DEFAULT_SERVICE_NAME, SCOPE_NAME
from ..export._grpc_setup import before_importing_grpc
from ..export._tls import grpc_credentials

__all__ = ["CHECK_NAME", "CheckResult", "check_exports", "describe_config"]

CHECK_NAME = "codex.config_check"

_CONTENT_TYPES = {"binary": "application/x-protobuf", "json": "application/json"}


@dataclass(frozen=True)
class CheckResult:
    """How the test export went: `outcome` is accepted, refused, timed out, rejected or tls;
    for a file, writable or not writable."""

    outcome: str
    detail: str

    @property
    def accepted(self) -> bool:
        return self.outcome in ("accepted", "writable")


def _label(name: str) -> str:
    return f"{name + ':':<18}"


def _exporter_lines(exporter: ExporterConfig, prefix: str = "") -> list[str]:
    """An exporter's settings, header values masked; `prefix` names the signal."""
    if isinstance(exporter, OtlpFileExporter):
        return [_label(f"{prefix}path") + str(exporter.path)]
    if not isinstance(exporter, OtlpHttpExporter | OtlpGrpcExporter):
        return []
    lines = [_label(f"{prefix}endpoint") + redact_url(exporter.endpoint)]
    if isinstance(exporter, OtlpHttpExporter):
        lines.append(_label(f"{prefix}protocol") + exporter.protocol)
    masked = ", ".join(f"{name}=***" for name in exporter.headers) or "(none)"
    lines.append(_label(f"{prefix}headers") + masked)
    if exporter.tls is not None:
        tls = exporter.tls
        files = [("ca", tls.ca_certificate), ("client", tls.client_certificate)]
        lines.append(
            _label(f"{prefix}tls") + ", ".join(f"{n}={p}" for n, p in files if p is not None)
        )
    return lines


def describe_config(config: OtelConfig) -> list[str]:
    """The resolved config, header values masked; the metrics and trace exporters when set."""
    lines = [
        _label("config") + config.source,
        _label("environment") + config.environment,
        _label("log_user_prompt") + str(config.log_user_prompt).lower(),
        _label("exporter") + config.exporter.kind,
        *_exporter_lines(config.exporter),
    ]
    if config.metrics_exporter.kind != "none":
        lines.append(_label("metrics_exporter") + config.metrics_exporter.kind)
        lines += _exporter_lines(config.metrics_exporter, "metrics ")
    if config.trace_exporter.kind != "none":
        lines.append(_label("trace_exporter") + config.trace_exporter.kind)
        lines += _exporter_lines(config.trace_exporter, "traces ")
    if config.service_name != DEFAULT_SERVICE_NAME:
        lines.append(_label("service_name") + config.service_name)
    for switch in ("log_agent_responses", "log_guardian_assessments"):
        if getattr(config, switch):
            lines.append(_label(switch) + "true")
    # What was dropped as Codex drops it: the file is named once, on the first line.
    prefix = f"{config.source}: "
    lines += [_label("warning") + line.removeprefix(prefix) for line in config.warnings]
    return lines


def _resource(config: OtelConfig) -> tuple[Any, Any]:
    """The resource and scope a test export carries, as the provider's would."""
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    resource = Resource(
        attributes=[
            KeyValue(key=key, value=AnyValue(string_value=value))
            for key, value in (
                *config.resource_attributes.items(),
                ("service.name", config.service_name),
                ("service.version", package_version()),
                ("env", config.environment),
            )
        ]
    )
    return resource, InstrumentationScope(name=SCOPE_NAME, version=package_version())


def _logs_request(config: OtelConfig) -> Any:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import (
        LogRecord,
        ResourceLogs,
        ScopeLogs,
        SeverityNumber,
    )

    now = time.time_ns()
    record = LogRecord(
        time_unix_nano=now,
        observed_time_unix_nano=now,
        severity_number=SeverityNumber.SEVERITY_NUMBER_INFO,
        severity_text="INFO",
        event_name=CHECK_NAME,
        body=AnyValue(string_value=CHECK_NAME),
        attributes=[KeyValue(key="event.name", value=AnyValue(string_value=CHECK_NAME))],
    )
    resource, scope = _resource(config)
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=resource, scope_logs=[ScopeLogs(scope=scope, log_records=[record])]
            )
        ]
    )


def _traces_request(config: OtelConfig) -> Any:
    import os

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    now = time.time_ns()
    span = Span(
        trace_id=os.urandom(16),
        span_id=os.urandom(8),
        name=CHECK_NAME,
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=now,
        end_time_unix_nano=now,
    )
    resource, scope = _resource(config)
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(resource=resource, scope_spans=[ScopeSpans(scope=scope, spans=[span])])
        ]
    )


def _metrics_request(config: OtelConfig) -> Any:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )
    from opentelemetry.proto.metrics.v1 import metrics_pb2

    now = time.time_ns()
    metric = metrics_pb2.Metric(
        name=CHECK_NAME,
        unit="{check}",
        description="codex-otel config check",
        sum=metrics_pb2.Sum(
            data_points=[
                metrics_pb2.NumberDataPoint(start_time_unix_nano=now, time_unix_nano=now, as_int=1)
            ],
            aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_DELTA,
            is_monotonic=True,
        ),
    )
    resource, scope = _resource(config)
    return ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                resource=resource,
                scope_metrics=[metrics_pb2.ScopeMetrics(scope=scope, metrics=[metric])],
            )
        ]
    )


def check_exports(config: OtelConfig, *, timeout: float = 5.0) -> dict[str, CheckResult | None]:
    """One test export per signal: `logs` always (None when its exporter is `none`), and
    `metrics` and `traces` (one span) when their exporters are set. Returns within `timeout`
    seconds (> 0, finite).

    The exports run side by side on daemon threads, joined up to one deadline: an HTTP
    client's timeout bounds each read, not a collector that trickles its answer a byte at a
    time. An export still running at the deadline is reported `timed out` and left to end
    on its own.
    """
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout: expected seconds > 0, got {timeout!r}")
    deadline = time.monotonic() + timeout
    signals = {"logs": (config.exporter, _logs_request)}
    if config.metrics_exporter.kind != "none":
        signals["metrics"] = (config.metrics_exporter, _metrics_request)
    if config.trace_exporter.kind != "none":
        signals["traces"] = (config.trace_exporter, _traces_request)
    running: dict[str, tuple[threading.Thread, list[CheckResult | BaseException | None]]] = {}
    for signal, (exporter, build) in signals.items():
        box: list[CheckResult | BaseException | None] = []
        thread = threading.Thread(
            target=_run_into,
            args=(box, exporter, build, config, timeout, signal),
            name=f"codex-otel-check-{signal}",
            daemon=True,
        )
        thread.start()
        running[signal] = (thread, box)
    results: dict[str, CheckResult | None] = {}
    for signal, (thread, box) in running.items():
        thread.join(max(0.0, deadline - time.monotonic()))
        if not box:
            exporter = signals[signal][0]
            results[signal] = CheckResult(
                "timed out", f"no answer from {_shown(exporter)} within {timeout:g} s"
            )
        elif isinstance(box[0], BaseException):
            raise box[0]
        else:
            results[signal] = box[0]  # None: exporter none, nothing sent
    return results


def _run_into(
    box: list[CheckResult | BaseException | None],
    exporter: ExporterConfig,
    build: Callable[[OtelConfig], Any],
    config: OtelConfig,
    timeout: float,
    signal: str,
) -> None:
    try:
        box.append(_check_signal(exporter, build, config, timeout, signal))
    except BaseException as exc:  # handed to the caller's thread, which raises it
        box.append(exc)


def _shown(exporter: ExporterConfig) -> str:
    """Where a check went, as its messages say it: no user:password."""
    endpoint = getattr(exporter, "endpoint", "")
    if isinstance(exporter, OtlpGrpcExporter):
        return urlsplit(endpoint).netloc.rpartition("@")[2]
    return redact_url(endpoint)


def _plain(exc: BaseException) -> str:
    """An error's message in words: without the "[Errno 111] " prefix of an OSError."""
    return _ERRNO.sub("", str(exc))


_ERRNO = re.compile(r"\[Errno -?\d+\] ")


def _check_signal(
    exporter: ExporterConfig,
    build: Callable[[OtelConfig], Any],
    config: OtelConfig,
    timeout: float,
    signal: str,
) -> CheckResult | None:
    if isinstance(exporter, OtlpHttpExporter):
        return _check_http(exporter, build(config), timeout)
    if isinstance(exporter, OtlpGrpcExporter):
        return _check_grpc(exporter, build(config), timeout, signal)
    if isinstance(exporter, OtlpFileExporter):
        return check_file(exporter.path)
    return None


def check_file(path: Path) -> CheckResult:
    """Whether the exporter could append to `path`, without writing to it (nor creating any
    folder): the file itself if it exists, else the nearest folder that does."""
    if path.is_dir():
        return CheckResult("not writable", f"{path} is a folder")
    if path.exists():
        if os.access(path, os.W_OK):
            return CheckResult(
                "writable", f"{path} exists ({path.stat().st_size} bytes): appending"
            )
        return CheckResult("not writable", f"{path}: permission denied")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return CheckResult("not writable", f"{folder} is not a folder, so {path} cannot be created")
    if not os.access(folder, os.W_OK | os.X_OK):
        return CheckResult("not writable", f"cannot create {path}: {folder} is not writable")
    created = "" if folder == path.parent else f" (creating {path.parent})"
    return CheckResult("writable", f"{path} will be created{created}")


def _is_tls_error(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, ssl.SSLError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _ssl_context(exporter: OtlpHttpExporter) -> ssl.SSLContext | bool:
    """The configured `tls` as httpx2 takes it (True: the system's roots)."""
    tls = exporter.tls
    if tls is None:
        return True
    context = ssl.create_default_context(
        cafile=str(tls.ca_certificate) if tls.ca_certificate else None
    )
    if tls.client_certificate is not None and tls.client_private_key is not None:
        context.load_cert_chain(str(tls.client_certificate), str(tls.client_private_key))
    return context


def _check_http(exporter: OtlpHttpExporter, request: object, timeout: float) -> CheckResult:
    import httpx2
    from google.protobuf import json_format

    if exporter.protocol == "json":
        body = json_format.MessageToJson(request, use_integers_for_enums=True).encode()
    else:
        body = request.SerializeToString()  # type: ignore[attr-defined]
    headers = {**exporter.headers, "content-type": _CONTENT_TYPES[exporter.protocol]}
    shown = redact_url(exporter.endpoint)
    try:
        verify = _ssl_context(exporter)
    except (OSError, ssl.SSLError) as exc:
        return CheckResult("tls", f"cannot use the TLS files: {_plain(exc)}")
    start = time.perf_counter()
    try:
        response = httpx2.post(
            exporter.endpoint, content=body, headers=headers, timeout=timeout, verify=verify
        )
    except httpx2.TimeoutException:
        return CheckResult("timed out", f"no answer from {shown} within {timeout:g} s")
    except httpx2.HTTPError as exc:
        if _is_tls_error(exc):
            return CheckResult("tls", f"TLS handshake with {shown} failed: {_plain(exc)}")
        return CheckResult("refused", f"could not connect to {shown}: {_plain(exc)}")
    millis = (time.perf_counter() - start) * 1000
    status = response.status_code
    if 200 <= status < 300:
        return CheckResult("accepted", f"HTTP {status} from {shown} in {millis:.0f} ms")
    hint = " (authentication: check the headers)" if status in (401, 403) else ""
    reason = response.text.strip().replace("\n", " ")[:200]
    return CheckResult(
        "rejected",
        f"HTTP {status} from {shown}{hint}" + (f": {reason}" if reason else ""),
    )


def _check_grpc(
    exporter: OtlpGrpcExporter, request: object, timeout: float, signal: str
) -> CheckResult:
    before_importing_grpc()
    import grpc
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc import LogsServiceStub
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2_grpc import (
        MetricsServiceStub,
    )
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

    url = urlsplit(exporter.endpoint)
    target = url.netloc.rpartition("@")[2]  # a user:password is not part of a gRPC target
    if url.scheme == "https":
        try:
            credentials = grpc_credentials(exporter.tls)
        except OSError as exc:
            return CheckResult("tls", f"cannot use the TLS files: {_plain(exc)}")
        channel = grpc.secure_channel(target, credentials)
    else:
        channel = grpc.insecure_channel(target)
    metadata = [(name.lower(), value) for name, value in exporter.headers.items()]
    start = time.perf_counter()
    try:
        stubs = {"metrics": MetricsServiceStub, "traces": TraceServiceStub}
        stub_class: Any = stubs.get(signal, LogsServiceStub)
        stub = stub_class(channel)
        stub.Export(request, metadata=metadata, timeout=timeout)
    except grpc.RpcError as exc:
        code = exc.code()
        details = (exc.details() or "").replace("\n", " ")[:200]
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return CheckResult("timed out", f"no answer from {target} within {timeout:g} s")
        if code == grpc.StatusCode.UNAVAILABLE:
            lowered = details.lower()
            if "ssl" in lowered or "handshake" in lowered or "certificate" in lowered:
                return CheckResult("tls", f"TLS handshake with {target} failed: {details}")
            return CheckResult("refused", f"could not reach {target} (UNAVAILABLE: {details})")
        hint = (
            " (authentication: check the headers)"
            if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
            else ""
        )
        return CheckResult("rejected", f"gRPC {code.name} from {target}{hint}: {details}")
    finally:
        channel.close()
    millis = (time.perf_counter() - start) * 1000
    return CheckResult("accepted", f"gRPC OK from {target} in {millis:.0f} ms")
