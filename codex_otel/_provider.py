"""Config -> LoggerProvider + batch processor + exporter, chosen through a registry."""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from importlib import metadata
from types import TracebackType
from typing import TYPE_CHECKING

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.resources import Resource

from ._config import (
    BatchConfig,
    ExporterConfig,
    OtelConfig,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    ToolResultConfig,
)
from ._delivery import BoundedBatchProcessor, DeliveryStats
from ._errors import internal_logger, report_internal_error
from ._tls import grpc_credentials, http_tls_files, pinned_ca_session

if TYPE_CHECKING:
    from opentelemetry._logs import Logger

__all__ = ["EXPORTER_FACTORIES", "OtelProvider", "package_version"]

SCOPE_NAME = "codex_otel"
EXPORT_TIMEOUT_SECONDS = 10.0


def package_version() -> str:
    try:
        return metadata.version("codex-otel")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def _otlp_http(config: ExporterConfig) -> LogRecordExporter:
    assert isinstance(config, OtlpHttpExporter)
    if config.protocol == "json":
        from opentelemetry.exporter.otlp.common.http import Compression as JsonCompression
        from opentelemetry.exporter.otlp.json.http._log_exporter import (
            OTLPLogExporter as JsonExporter,
        )

        return JsonExporter(
            endpoint=config.endpoint,
            headers=dict(config.headers),
            timeout=EXPORT_TIMEOUT_SECONDS,
            # Explicit, so an inherited OTEL_EXPORTER_OTLP_*_COMPRESSION does not apply.
            compression=JsonCompression.NONE,
            **http_tls_files(config.tls)._asdict(),
        )
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    return OTLPLogExporter(
        endpoint=config.endpoint,
        headers=dict(config.headers),
        timeout=EXPORT_TIMEOUT_SECONDS,
        compression=Compression.NoCompression,
        session=pinned_ca_session(config.tls),
        **http_tls_files(config.tls)._asdict(),
    )


def _otlp_grpc(config: ExporterConfig) -> LogRecordExporter:
    assert isinstance(config, OtlpGrpcExporter)
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

    insecure = config.endpoint.startswith("http://")
    return OTLPLogExporter(
        endpoint=config.endpoint,
        # The scheme decides, not an inherited OTEL_EXPORTER_OTLP_INSECURE.
        insecure=insecure,
        credentials=None if insecure else grpc_credentials(config.tls),
        # gRPC metadata keys must be lower-case.
        headers=tuple((name.lower(), value) for name, value in config.headers.items()),
        timeout=EXPORT_TIMEOUT_SECONDS,
        # Explicit, so an invalid inherited OTEL_EXPORTER_OTLP_*_COMPRESSION cannot raise.
        compression=Compression.NoCompression,
    )


# Exporter kind -> factory. Each factory imports its exporter lazily, so the
# default `none` imports neither the HTTP stack nor grpc.
EXPORTER_FACTORIES: dict[str, Callable[[ExporterConfig], LogRecordExporter]] = {
    OtlpHttpExporter.kind: _otlp_http,
    OtlpGrpcExporter.kind: _otlp_grpc,
}


def _describe(config: ExporterConfig) -> str:
    """`otlp-http https://host/v1/logs` for messages, without any user:password in the URL."""
    endpoint = getattr(config, "endpoint", "")
    scheme, sep, rest = endpoint.partition("://")
    userinfo, at, host = rest.partition("@")
    if at and "/" not in userinfo:
        endpoint = f"{scheme}{sep}{host}"
    return f"{config.kind} {endpoint}"


class OtelProvider:
    """Owns the OpenTelemetry pipeline the event manager writes to.

    The LoggerProvider is private to this object (never installed globally), so
    only this package's events reach the exporter: stdlib logging, the host's
    structlog and other OpenTelemetry loggers in the process never do.
    """

    def __init__(
        self,
        exporter: LogRecordExporter | None,
        *,
        environment: str = "dev",
        service_name: str = "codex-cli",
        service_version: str | None = None,
        shutdown_timeout: float = 3.0,
        batch: BatchConfig | None = None,
        target: str | None = None,
        tool_result: ToolResultConfig | None = None,
    ) -> None:
        """`target` names the destination in messages (`from_config`: kind and endpoint)."""
        self._exporter = exporter
        self.tool_result = tool_result or ToolResultConfig()
        """What managers over this provider keep of tool arguments and output."""
        self._shut_down = False
        self._resource = Resource.create(
            {
                "service.name": service_name,
                "service.version": service_version or package_version(),
                "env": environment,
            }
        )
        self._logger_provider: LoggerProvider | None = None
        self._logger: Logger | None = None
        self._processor: BoundedBatchProcessor | None = None
        if exporter is not None:
            # Our own exit hook (below) replaces the SDK's, so exit runs one bounded flush.
            self._logger_provider = LoggerProvider(resource=self._resource, shutdown_on_exit=False)
            batch = batch or BatchConfig()
            self._processor = BoundedBatchProcessor(
                exporter,
                max_queue_size=batch.max_queue_size,
                max_export_batch_size=batch.max_export_batch_size,
                schedule_delay_millis=batch.schedule_delay_ms,
                export_timeout_millis=int(EXPORT_TIMEOUT_SECONDS * 1000),
                shutdown_timeout=shutdown_timeout,
                target=target or type(exporter).__name__,
            )
            self._logger_provider.add_log_record_processor(self._processor)
            self._logger = self._logger_provider.get_logger(SCOPE_NAME, package_version())
            atexit.register(self.shutdown)

    @classmethod
    def from_config(
        cls,
        config: OtelConfig,
        *,
        service_name: str = "codex-cli",
        service_version: str | None = None,
    ) -> OtelProvider:
        """Build the pipeline an `[otel]` table asks for.

        Starting is best effort: if the exporter cannot be built (an invalid
        inherited `OTEL_*` variable, say), that is said once and events are
        dropped; the host carries on.
        """
        exporter: LogRecordExporter | None = None
        factory = EXPORTER_FACTORIES.get(config.exporter.kind)
        if factory is not None:
            try:
                exporter = factory(config.exporter)
            except Exception as exc:
                # Name (never the values of) inherited OTEL_* variables: the usual culprits.
                inherited = sorted(name for name in os.environ if name.startswith("OTEL_"))
                hint = f" with {', '.join(inherited)} set" if inherited else ""
                report_internal_error(f"starting the {config.exporter.kind} exporter{hint}", exc)
        return cls(
            exporter,
            environment=config.environment,
            service_name=service_name,
            service_version=service_version,
            shutdown_timeout=config.shutdown_timeout,
            batch=config.batch,
            target=_describe(config.exporter),
            tool_result=config.tool_result,
        )

    @property
    def resource(self) -> Resource:
        return self._resource

    @property
    def enabled(self) -> bool:
        """True when events go somewhere: the event manager skips all work otherwise."""
        return self._logger is not None and not self._shut_down

    @property
    def logger(self) -> Logger | None:
        """The OpenTelemetry logger events are emitted to (None with no exporter)."""
        return self._logger

    def stats(self) -> DeliveryStats:
        """Events accepted, exported and dropped (by reason) so far; all zero with no exporter."""
        if self._processor is None:
            return DeliveryStats()
        return self._processor.stats()

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        """Export what is queued; True when everything went out in time."""
        if self._logger_provider is None or self._shut_down:
            return True
        try:
            return self._logger_provider.force_flush(timeout_millis)
        except Exception as exc:
            report_internal_error("flushing telemetry", exc)
            return False

    def shutdown(self) -> None:
        """Flush what is queued, then stop the worker, within `shutdown_timeout` even when
        the collector is down; what could not be sent is counted and said in one warning.
        Safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        atexit.unregister(self.shutdown)
        if self._logger_provider is None:
            return
        try:
            self._logger_provider.shutdown()
        except Exception as exc:
            report_internal_error("shutting telemetry down", exc)
        internal_logger.debug("codex_otel: telemetry shut down")

    def __enter__(self) -> OtelProvider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        exporter = type(self._exporter).__name__ if self._exporter is not None else "none"
        return f"OtelProvider(exporter={exporter}, enabled={self.enabled})"
