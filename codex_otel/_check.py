"""`codex-otel config check`: one bounded test export that says plainly how it went.

The SDK exporters only report success or failure (the reason goes to a log line),
so the check sends its own single-record OTLP request with the configured
endpoint, protocol and headers, and classifies the outcome.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ._config import (
    ExporterConfig,
    OtelConfig,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    redact_url,
)
from ._provider import package_version
from ._tls import grpc_credentials

__all__ = ["CheckResult", "check_export", "describe_config"]

_CONTENT_TYPES = {"binary": "application/x-protobuf", "json": "application/json"}


@dataclass(frozen=True)
class CheckResult:
    """How the test export went: `outcome` is accepted, refused, timed out, rejected or tls."""

    outcome: str
    detail: str

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"


def describe_config(config: OtelConfig) -> list[str]:
    """The resolved config, header values masked."""
    exporter = config.exporter
    lines = [
        f"config:           {config.source}",
        f"environment:      {config.environment}",
        f"log_user_prompt:  {str(config.log_user_prompt).lower()}",
        f"exporter:         {exporter.kind}",
    ]
    if isinstance(exporter, OtlpHttpExporter | OtlpGrpcExporter):
        lines.append(f"endpoint:         {redact_url(exporter.endpoint)}")
        if isinstance(exporter, OtlpHttpExporter):
            lines.append(f"protocol:         {exporter.protocol}")
        masked = ", ".join(f"{name}=***" for name in exporter.headers) or "(none)"
        lines.append(f"headers:          {masked}")
        if exporter.tls is not None:
            tls = exporter.tls
            files = [("ca", tls.ca_certificate), ("client", tls.client_certificate)]
            lines.append(
                "tls:              " + ", ".join(f"{n}={p}" for n, p in files if p is not None)
            )
    return lines


def _request(config: OtelConfig) -> object:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import (
        LogRecord,
        ResourceLogs,
        ScopeLogs,
        SeverityNumber,
    )
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource

    def kv(key: str, value: str) -> KeyValue:
        return KeyValue(key=key, value=AnyValue(string_value=value))

    now = time.time_ns()
    record = LogRecord(
        time_unix_nano=now,
        observed_time_unix_nano=now,
        severity_number=SeverityNumber.SEVERITY_NUMBER_INFO,
        severity_text="INFO",
        event_name="codex.config_check",
        body=AnyValue(string_value="codex.config_check"),
        attributes=[kv("event.name", "codex.config_check")],
    )
    resource = Resource(
        attributes=[
            kv("service.name", "codex-cli"),
            kv("service.version", package_version()),
            kv("env", config.environment),
        ]
    )
    scope = InstrumentationScope(name="codex_otel", version=package_version())
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=resource, scope_logs=[ScopeLogs(scope=scope, log_records=[record])]
            )
        ]
    )


def check_export(config: OtelConfig, *, timeout: float = 5.0) -> CheckResult | None:
    """Send one record to the configured exporter; None when the exporter is `none`."""
    exporter: ExporterConfig = config.exporter
    if isinstance(exporter, OtlpHttpExporter):
        return _check_http(exporter, _request(config), timeout)
    if isinstance(exporter, OtlpGrpcExporter):
        return _check_grpc(exporter, _request(config), timeout)
    return None


def _is_tls_error(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, ssl.SSLError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _ssl_context(exporter: OtlpHttpExporter) -> ssl.SSLContext | bool:
    """The configured `tls` as httpx takes it (True: the system's roots)."""
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
    import httpx
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
        return CheckResult("tls", f"cannot use the TLS files: {exc}")
    start = time.perf_counter()
    try:
        response = httpx.post(
            exporter.endpoint, content=body, headers=headers, timeout=timeout, verify=verify
        )
    except httpx.TimeoutException:
        return CheckResult("timed out", f"no answer from {shown} within {timeout:g} s")
    except httpx.HTTPError as exc:
        if _is_tls_error(exc):
            return CheckResult("tls", f"TLS handshake with {shown} failed: {exc}")
        return CheckResult("refused", f"could not connect to {shown}: {exc}")
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


def _check_grpc(exporter: OtlpGrpcExporter, request: object, timeout: float) -> CheckResult:
    import grpc
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc import LogsServiceStub

    url = urlsplit(exporter.endpoint)
    target = url.netloc.rpartition("@")[2]  # a user:password is not part of a gRPC target
    if url.scheme == "https":
        try:
            credentials = grpc_credentials(exporter.tls)
        except OSError as exc:
            return CheckResult("tls", f"cannot use the TLS files: {exc}")
        channel = grpc.secure_channel(target, credentials)
    else:
        channel = grpc.insecure_channel(target)
    metadata = [(name.lower(), value) for name, value in exporter.headers.items()]
    start = time.perf_counter()
    try:
        stub = LogsServiceStub(channel)  # type: ignore[no-untyped-call]
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
