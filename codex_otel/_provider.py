"""Config -> LoggerProvider + batch processor + exporter, chosen through a registry."""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
from opentelemetry.sdk.resources import Resource

from ._config import (
    BatchConfig,
    ExporterConfig,
    OtelConfig,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    ToolResultConfig,
    redact_url,
)
from ._errors import internal_logger, report_internal_error
from ._stats import DeliveryStats
from ._tls import grpc_credentials, http_tls_files, pinned_ca_session

if TYPE_CHECKING:
    from opentelemetry._logs import Logger
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.metrics.export import MetricReader

    from ._delivery import BoundedBatchProcessor
    from ._metrics import MetricsPipeline

__all__ = ["EXPORTER_FACTORIES", "OtelProvider", "package_version"]

SCOPE_NAME = "codex_otel"
EXPORT_TIMEOUT_SECONDS = 10.0
# One bound (`[otel].shutdown_timeout`) covers the whole shutdown; with metrics on, their last
# export gets this share of it and the events the rest.
METRICS_SHUTDOWN_SHARE = 1 / 3


def package_version() -> str:
    # Imported here: importlib.metadata costs a few ms to import, and only version lookups need it.
    from importlib import metadata

    try:
        return metadata.version("codex-otel")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def only_configured_headers(exporter: object, headers: Mapping[str, str]) -> None:
    """Drop the headers an SDK exporter took from inherited `OTEL_EXPORTER_OTLP_*HEADERS`.

    The exporters merge those into every export even when given headers of their own, so a
    token the host set for some other backend would be sent to this collector. Only the
    `[otel]` table's headers (and the exporter's content-type and user-agent) remain.
    """
    ours = {name.lower(): value for name, value in headers.items()}
    client = getattr(exporter, "_client", None)
    current = getattr(client, "_headers", None)
    if isinstance(current, dict):  # OTLP/HTTP, protobuf and JSON
        transport = {k: v for k, v in current.items() if k in ("content-type", "user-agent")}
        client._headers = {**transport, **ours}  # type: ignore[union-attr]
    elif isinstance(getattr(exporter, "_headers", None), tuple):  # OTLP/gRPC
        exporter._headers = tuple(ours.items())  # type: ignore[attr-defined]


def _otlp_http(config: ExporterConfig) -> LogRecordExporter:
    assert isinstance(config, OtlpHttpExporter)
    if config.protocol == "json":
        from opentelemetry.exporter.otlp.common.http import Compression as JsonCompression
        from opentelemetry.exporter.otlp.json.http._log_exporter import (
            OTLPLogExporter as JsonExporter,
        )

        json_exporter = JsonExporter(
            endpoint=config.endpoint,
            headers=dict(config.headers),
            timeout=EXPORT_TIMEOUT_SECONDS,
            # Explicit, so an inherited OTEL_EXPORTER_OTLP_*_COMPRESSION does not apply.
            compression=JsonCompression.NONE,
            **http_tls_files(config.tls)._asdict(),
        )
        only_configured_headers(json_exporter, config.headers)
        return json_exporter
    import requests
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    # A session of our own, always: without one the exporter loads whatever an inherited
    # OTEL_PYTHON_EXPORTER_OTLP_HTTP_*CREDENTIAL_PROVIDER names (and fails to start on a bad one).
    session = pinned_ca_session(config.tls) or requests.Session()
    files = http_tls_files(config.tls)
    exporter = OTLPLogExporter(
        endpoint=config.endpoint,
        headers=dict(config.headers),
        timeout=EXPORT_TIMEOUT_SECONDS,
        compression=Compression.NoCompression,
        session=session,
        **files._asdict(),
    )
    only_configured_headers(exporter, config.headers)
    # The exporter fills what the table leaves unset from inherited
    # OTEL_EXPORTER_OTLP_*CERTIFICATE / *CLIENT_KEY (a client certificate that does not exist
    # fails every export, even over http://): only the table's TLS files apply.
    session.verify = files.certificate_file or True
    client = files.client_certificate_file
    session.cert = (client, files.client_key_file) if client and files.client_key_file else client
    return exporter


def _otlp_grpc(config: ExporterConfig) -> LogRecordExporter:
    assert isinstance(config, OtlpGrpcExporter)
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

    insecure = config.endpoint.startswith("http://")
    options: dict[str, Any] = {
        "endpoint": config.endpoint,
        # The scheme decides, not an inherited OTEL_EXPORTER_OTLP_INSECURE.
        "insecure": insecure,
        "credentials": None if insecure else grpc_credentials(config.tls),
        # gRPC metadata keys must be lower-case.
        "headers": tuple((name.lower(), value) for name, value in config.headers.items()),
        "timeout": EXPORT_TIMEOUT_SECONDS,
        # Explicit, so an invalid inherited OTEL_EXPORTER_OTLP_*_COMPRESSION cannot raise.
        "compression": Compression.NoCompression,
        # Explicit, so a garbage OTEL_PYTHON_EXPORTER_OTLP_GRPC_RETRYABLE_ERROR_CODES cannot.
        "retryable_error_codes": grpc_retryable_codes(),
    }
    exporter: LogRecordExporter
    try:
        exporter = OTLPLogExporter(**options)
    except ValueError:
        if _TIMEOUT_VARIABLE not in os.environ:
            raise
        exporter = _grpc_exporter_without_timeout_variable(OTLPLogExporter, options)
    only_configured_headers(exporter, config.headers)
    return exporter


_TIMEOUT_VARIABLE = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"


def grpc_retryable_codes() -> frozenset[Any]:
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


def _grpc_exporter_without_timeout_variable(
    exporter_class: type[LogRecordExporter], options: dict[str, Any]
) -> LogRecordExporter:
    """The gRPC log exporter parses OTEL_EXPORTER_OTLP_LOGS_TIMEOUT with float() even when given
    a timeout, so garbage there raises. Its own __init__ only reads such variables before
    handing every value to the shared OTLP mixin; with every value given, the mixin is it."""
    from opentelemetry.exporter.otlp.proto.grpc.exporter import OTLPExporterMixin
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc import LogsServiceStub
    from opentelemetry.sdk._logs.export import LogRecordExportResult
    from opentelemetry.semconv._incubating.attributes.otel_attributes import (
        OtelComponentTypeValues,
    )

    exporter = object.__new__(exporter_class)
    mixin: Any = OTLPExporterMixin  # its generic typing cannot express this call
    mixin.__init__(
        exporter,
        stub=LogsServiceStub,
        result=LogRecordExportResult,
        component_type=OtelComponentTypeValues.OTLP_GRPC_LOG_EXPORTER,
        signal="logs",
        **options,
    )
    return exporter


# Exporter kind -> factory. Each factory imports its exporter lazily, so the
# default `none` imports neither the HTTP stack nor grpc.
EXPORTER_FACTORIES: dict[str, Callable[[ExporterConfig], LogRecordExporter]] = {
    OtlpHttpExporter.kind: _otlp_http,
    OtlpGrpcExporter.kind: _otlp_grpc,
}


def _sdk_disabled(events: bool, metrics: bool) -> bool:
    """True when `OTEL_SDK_DISABLED=true` turns the configured signals off; said once then.

    The SDK's kill switch would make its providers drop everything silently: honour it, but
    say so, and let the managers skip all work.
    """
    if not (events or metrics):
        return False
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true":
        return False
    signals = " and ".join(name for name, on in (("events", events), ("metrics", metrics)) if on)
    internal_logger.warning(
        "codex_otel: OTEL_SDK_DISABLED=true is set: %s are not exported", signals
    )
    return True


def _close(
    logger_provider: LoggerProvider | None,
    metrics: MetricsPipeline | None,
    metrics_shutdown_s: float,
) -> None:
    """Flush and stop a provider's pipeline, within its bound."""
    if metrics is not None:
        # Bounded: the last export runs on the reader's thread, joined with this timeout.
        metrics.shutdown(int(metrics_shutdown_s * 1000))
    if logger_provider is None:
        return
    try:
        logger_provider.shutdown()
    except Exception as exc:
        report_internal_error("shutting telemetry down", exc)
    internal_logger.debug("codex_otel: telemetry shut down")


def _close_in_background(
    logger_provider: LoggerProvider | None,
    metrics: MetricsPipeline | None,
    metrics_shutdown_s: float,
    shutdown_timeout: float,
) -> None:
    """A provider dropped without `shutdown()`: its worker threads and queue must not outlive
    it. Closed on a daemon thread, so what it queued is still sent within its bound without
    making whoever dropped it (or the garbage collector) wait."""
    closing = threading.Thread(
        target=_close,
        args=(logger_provider, metrics, metrics_shutdown_s),
        name="codex-otel-close",
        daemon=True,
    )
    try:
        closing.start()
    except RuntimeError:  # no new threads at interpreter exit (Python 3.12): close here
        _close(logger_provider, metrics, metrics_shutdown_s)
        return
    # Exit waits for it (within its bound): a daemon thread would otherwise die with the
    # interpreter, and the events it was sending would be lost without a word.
    with _closing_lock:
        for done in [thread for thread in _closing if not thread.is_alive()]:
            del _closing[done]
        # The close is bounded by `shutdown_timeout` itself; the grace lets it say what it
        # could not send before the interpreter (and this daemon thread) goes.
        _closing[closing] = time.monotonic() + shutdown_timeout + _CLOSE_GRACE_SECONDS


_CLOSE_GRACE_SECONDS = 0.5
_said_traces_ignored = threading.Event()
# Background closes still running, with the time each must be done by.
_closing: dict[threading.Thread, float] = {}
_closing_lock = threading.Lock()


# Providers with a pipeline not shut down yet, held weakly: one a host drops is collected.
_live: weakref.WeakSet[OtelProvider] = weakref.WeakSet()


def _shut_down_live_providers() -> None:
    """At interpreter exit: flush and stop each provider still alive, each within its bound,
    and let the closes of dropped providers finish, each within its own."""
    for provider in list(_live):
        provider.shutdown()
    with _closing_lock:
        closing = list(_closing.items())
        _closing.clear()
    for thread, deadline in closing:
        thread.join(max(0.0, deadline - time.monotonic()))


def _catalog_limits() -> LogRecordLimits:
    """Explicit limits, so inherited OTEL_*ATTRIBUTE* variables neither truncate the catalog
    (`OTEL_ATTRIBUTE_COUNT_LIMIT=3` would keep 3 of an event's attributes) nor, set to
    garbage, stop the start. Text sizes are this package's own caps, not the SDK's."""
    unset = LogRecordLimits.UNSET
    return LogRecordLimits(
        max_attributes=_MAX_ATTRIBUTES,
        max_attribute_length=unset,
        max_log_record_attributes=_MAX_ATTRIBUTES,
        max_log_record_attribute_length=unset,
    )


# The SDK's default; the largest event of the catalog carries fewer than 20 attributes.
_MAX_ATTRIBUTES = 128


def _describe(config: ExporterConfig) -> str:
    """`otlp-http https://host/v1/logs` for messages, without any user:password in the URL."""
    return f"{config.kind} {redact_url(getattr(config, 'endpoint', ''))}"


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
        metric_readers: Sequence[MetricReader] = (),
        metrics_conversation_id: bool = False,
        shutdown_timeout: float = 3.0,
        batch: BatchConfig | None = None,
        target: str | None = None,
        tool_result: ToolResultConfig | None = None,
    ) -> None:
        """`target` names the destination in messages (`from_config`: kind and endpoint)."""
        self._exporter = exporter
        self._shutdown_timeout = shutdown_timeout
        self.tool_result = tool_result or ToolResultConfig()
        """What managers over this provider keep of tool arguments and output."""
        self._shut_down = False
        self._resource_attributes = {
            "service.name": service_name,
            "service.version": service_version,
            "env": environment,
        }
        self._resource: Resource | None = None
        self._logger_provider: LoggerProvider | None = None
        self._logger: Logger | None = None
        self._processor: BoundedBatchProcessor | None = None
        self._finalizer: weakref.finalize[Any, OtelProvider] | None = None
        if _sdk_disabled(exporter is not None, bool(metric_readers)):
            exporter, metric_readers = None, ()
        self._metrics_shutdown_s = (
            shutdown_timeout * METRICS_SHUTDOWN_SHARE if metric_readers else 0
        )
        if exporter is not None:
            # Imported here: with exporter none the export module (~2 ms) is never needed.
            from ._delivery import BoundedBatchProcessor

            # Our own exit hook (below) replaces the SDK's, so exit runs one bounded flush.
            self._logger_provider = LoggerProvider(
                resource=self.resource,
                shutdown_on_exit=False,
                log_record_limits=_catalog_limits(),
            )
            batch = batch or BatchConfig()
            self._processor = BoundedBatchProcessor(
                exporter,
                max_queue_size=batch.max_queue_size,
                max_export_batch_size=batch.max_export_batch_size,
                schedule_delay_millis=batch.schedule_delay_ms,
                export_timeout_millis=int(EXPORT_TIMEOUT_SECONDS * 1000),
                shutdown_timeout=shutdown_timeout - self._metrics_shutdown_s,
                target=target or type(exporter).__name__,
            )
            self._logger_provider.add_log_record_processor(self._processor)
            self._logger = self._logger_provider.get_logger(SCOPE_NAME, package_version())
        self._metrics = self._start_metrics(metric_readers, metrics_conversation_id)
        if self._logger_provider is not None or self._metrics is not None:
            self._register_for_exit()

    def _register_for_exit(self) -> None:
        # Only weak references: a provider the host drops is collected, and closed then.
        self._finalizer = weakref.finalize(
            self,
            _close_in_background,
            self._logger_provider,
            self._metrics,
            self._metrics_shutdown_s,
            self._shutdown_timeout,
        )
        # At exit, live providers shut down in the foreground instead: _shut_down_live_providers.
        self._finalizer.atexit = False
        _live.add(self)
        # Re-registered last, so exit flushes before the exit hooks registered before this
        # provider, as a hook of its own would.
        atexit.unregister(_shut_down_live_providers)
        atexit.register(_shut_down_live_providers)

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
        if config.trace_exporter.kind != "none" and not _said_traces_ignored.is_set():
            _said_traces_ignored.set()  # once per process, however many providers
            internal_logger.warning(
                "codex_otel: trace_exporter is set but this version exports no traces; "
                "it is ignored"
            )
        events = config.exporter.kind != "none"
        metrics = config.metrics_exporter.kind != "none"
        if _sdk_disabled(events, metrics):
            events = metrics = False  # nothing built: a metric reader would start a thread
        exporter: LogRecordExporter | None = None
        readers: list[MetricReader] = []
        if metrics:
            from ._metrics import reader_from_config  # lazily: metrics off imports nothing

            reader = reader_from_config(config)
            readers += [reader] if reader is not None else []
        factory = EXPORTER_FACTORIES.get(config.exporter.kind) if events else None
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
            metric_readers=readers,
            metrics_conversation_id=config.metrics_conversation_id,
            shutdown_timeout=config.shutdown_timeout,
            batch=config.batch,
            target=_describe(config.exporter),
            tool_result=config.tool_result,
        )

    def _start_metrics(
        self, readers: Sequence[MetricReader], conversation_id: bool
    ) -> MetricsPipeline | None:
        if not readers:
            return None
        from ._metrics import MetricsPipeline

        try:
            return MetricsPipeline(readers, self.resource, conversation_id=conversation_id)
        except Exception as exc:
            report_internal_error("starting metrics", exc)
            return None

    @property
    def metrics(self) -> MetricsPipeline | None:
        """The metrics pipeline (None with no metric reader, or after shutdown)."""
        metrics = self._metrics
        return metrics if metrics is not None and not metrics.closed else None

    @property
    def resource(self) -> Resource:
        # Built on first use: with exporter none nothing needs it, and the default version
        # (package metadata) costs ~10 ms at start-up.
        if self._resource is None:
            attributes = dict(self._resource_attributes)
            attributes["service.version"] = attributes["service.version"] or package_version()
            self._resource = Resource.create(attributes)
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
        """Export what is queued, events and metrics side by side, within `timeout_millis`.

        True when everything went out in time; False if an event export failed, or an
        export of either was still running at the deadline (it carries on in the background).
        """
        deadline = time.monotonic() + max(timeout_millis, 0) / 1000
        metrics = self.metrics
        # The metrics flush on a thread of their own meanwhile: neither signal waits for the other.
        metrics_flush = metrics.start_flush(timeout_millis) if metrics is not None else None
        flushed = metrics is None or metrics_flush is not None
        if self._logger_provider is not None and not self._shut_down:
            try:
                flushed = self._logger_provider.force_flush(timeout_millis) and flushed
            except Exception as exc:
                report_internal_error("flushing telemetry", exc)
                flushed = False
        if metrics_flush is not None:
            flushed = metrics_flush.wait(deadline - time.monotonic()) and flushed
        return flushed

    def shutdown(self) -> None:
        """Flush what is queued, then stop the worker, within `shutdown_timeout` even when
        the collector is down; what could not be sent is counted and said in one warning.
        Safe to call twice. Without it, a provider still alive at interpreter exit is shut
        down then, and one the host drops is shut down in the background when collected."""
        if self._shut_down:
            return
        self._shut_down = True
        _live.discard(self)
        if self._finalizer is not None:
            self._finalizer.detach()
        _close(self._logger_provider, self._metrics, self._metrics_shutdown_s)

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
