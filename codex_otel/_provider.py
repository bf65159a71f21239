"""The resource and the lifecycle of every signal: start, flush, shutdown, exit and fork.

Each signal's pipeline lives in its own module (`_logs`, `_metrics`, `_traces`), built on `export/`;
this module chooses which to start from the `[otel]` table and owns them together.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry.sdk.resources import Resource

from ._config import BatchConfig, ToolResultConfig
from ._config_load import OtelConfig
from ._errors import internal_logger, report_internal_error
from ._version import package_version
from .catalog import DEFAULT_SERVICE_NAME, ENVIRONMENT_KEY
from .export import DeliveryStats

if TYPE_CHECKING:
    from opentelemetry._logs import Logger
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.metrics.export import MetricReader

    from ._logs import DirectLogs, LogsPipeline
    from ._metrics import MetricsPipeline
    from ._traces import TracesPipeline

__all__ = ["OtelProvider"]

# One bound (`[otel].shutdown_timeout`) covers the whole shutdown; with metrics on, their last
# export gets this share of it, and events and spans split the rest.
METRICS_SHUTDOWN_SHARE = 1 / 3


def _sdk_disabled(events: bool, metrics: bool, traces: bool = False) -> bool:
    """True when `OTEL_SDK_DISABLED=true` turns the configured signals off; said once then.

    The SDK's kill switch would make its providers drop everything silently: honour it, but
    say so, and let the managers skip all work.
    """
    if not (events or metrics or traces):
        return False
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() != "true":
        return False
    on = [name for name, on in (("events", events), ("metrics", metrics), ("spans", traces)) if on]
    signals = " and ".join(on)
    internal_logger.warning(
        "codex_otel: OTEL_SDK_DISABLED=true is set: %s are not exported", signals
    )
    return True


def _close(
    logs: LogsPipeline | None,
    metrics: MetricsPipeline | None,
    metrics_shutdown_s: float,
    traces: TracesPipeline | None = None,
) -> None:
    """Flush and stop a provider's pipelines, within its bound (each has its share)."""
    if traces is not None:
        # First: ending the spans still open for a stream, before their events' last export.
        traces.shutdown()
    if metrics is not None:
        # Bounded: the last export runs on the reader's thread, joined with this timeout.
        metrics.shutdown(int(metrics_shutdown_s * 1000))
    if logs is None:
        return
    logs.shutdown()
    internal_logger.debug("codex_otel: telemetry shut down")


def _close_in_background(
    logs: LogsPipeline | None,
    metrics: MetricsPipeline | None,
    metrics_shutdown_s: float,
    shutdown_timeout: float,
    traces: TracesPipeline | None = None,
) -> None:
    """A provider dropped without `shutdown()`: its worker threads and queue must not outlive
    it. Closed on a daemon thread, so what it queued is still sent within its bound without
    making whoever dropped it (or the garbage collector) wait."""
    closing = threading.Thread(
        target=_close,
        args=(logs, metrics, metrics_shutdown_s, traces),
        name="codex-otel-close",
        daemon=True,
    )
    try:
        closing.start()
    except RuntimeError:  # no new threads at interpreter exit (Python 3.12): close here
        _close(logs, metrics, metrics_shutdown_s, traces)
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
# Background closes still running, with the time each must be done by.
_closing: dict[threading.Thread, float] = {}
_closing_lock = threading.Lock()


# Providers with a pipeline not shut down yet, held weakly: one a host drops is collected.
_live: weakref.WeakSet[OtelProvider] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """gRPC cannot be used in a forked child (its threads are gone, its state half-copied:
    a call hangs or aborts the process). Every live provider's gRPC pipelines stop here,
    without a call into gRPC: what the child records through them is counted
    `after_shutdown`, and said once. Pipelines over HTTP or to a file carry on."""
    stopped = [provider._abandon_grpc() for provider in list(_live)]
    if any(stopped):
        internal_logger.warning(
            "codex_otel: this process was forked from one exporting over gRPC, which cannot "
            "be used after a fork: the inherited provider exports nothing over gRPC here "
            "(counted as after_shutdown). Build an OtelProvider in the child, with an "
            "otlp-http exporter, to export from it"
        )


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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


def _host_resource() -> Resource:
    """`host.name`, on the log resource as Codex's carries it (empty when unknown)."""
    try:
        import socket

        return Resource({"host.name": socket.gethostname()})
    except Exception as exc:
        report_internal_error("reading the host name", exc)
        return Resource.get_empty()


def _target(config: OtelConfig) -> str:
    """The events' destination for messages; imports no export code with exporter none."""
    if config.exporter.kind == "none":
        return "none"
    from .export._factory import describe_exporter

    return describe_exporter(config.exporter)


class OtelProvider:
    """Owns the OpenTelemetry pipelines the event manager writes to: events, metrics, spans.

    The LoggerProvider (and the MeterProvider and TracerProvider) are private to this object
    (never installed globally), so only this package's telemetry reaches the exporters:
    stdlib logging, the host's structlog and other OpenTelemetry loggers never do.
    """

    def __init__(
        self,
        exporter: LogRecordExporter | None,
        *,
        environment: str = "dev",
        service_name: str = DEFAULT_SERVICE_NAME,
        service_version: str | None = None,
        metric_readers: Sequence[MetricReader] = (),
        metrics_conversation_id: bool = False,
        shutdown_timeout: float = 3.0,
        batch: BatchConfig | None = None,
        target: str | None = None,
        tool_result: ToolResultConfig | None = None,
        log_user_prompt: bool = False,
        json: bool = False,
        span_exporter: Any | None = None,
        span_attributes: Mapping[str, Any] | None = None,
        tracestate: Mapping[str, str] | None = None,
        resource_attributes: Mapping[str, str] | None = None,
        span_target: str | None = None,
        span_json: bool = False,
        originator: str | None = None,
        log_agent_responses: bool = False,
        log_guardian_assessments: bool = False,
    ) -> None:
        """`target` names the destination in messages (`from_config`: kind and endpoint);
        `json`: the exporter speaks OTLP/JSON (its requests are sized accordingly).

        `span_exporter` (an SDK `SpanExporter`) turns spans on; `span_attributes` are stamped
        on every span and `tracestate` merged into what requests carry. `resource_attributes`
        go on every signal's resource, under `service_name`, `service_version` and
        `environment`, over inherited `OTEL_RESOURCE_ATTRIBUTES`.

        `originator` (the client, e.g. `codex_cli_rs`) is stamped on every event and metric
        point of managers over this provider; as in Codex, it is `service.name` unless a
        service name is given (and the service name is the originator without one). The
        log resource also carries `host.name`, as Codex's does.
        """
        self._exporter = exporter
        self._shutdown_timeout = shutdown_timeout
        self.tool_result = tool_result or ToolResultConfig()
        """What managers over this provider keep of tool arguments and output."""
        self.log_user_prompt = log_user_prompt
        """Whether managers over this provider export prompt text (else `[REDACTED]`)."""
        self.log_agent_responses = log_agent_responses
        """Whether managers over this provider record `codex.agent_response`."""
        self.log_guardian_assessments = log_guardian_assessments
        """Whether managers over this provider record `codex.guardian_assessment`."""
        if originator is not None and service_name == DEFAULT_SERVICE_NAME:
            service_name = originator
        self.configured_service_name = (
            service_name if service_name not in (DEFAULT_SERVICE_NAME, originator) else None
        )
        """The service name set besides the originator (the `service_name` metric tag)."""
        self.originator = originator or service_name
        """The `originator` of managers over this provider that name none."""
        self._shut_down = False
        self._resource_attributes = {
            **(resource_attributes or {}),
            "service.name": service_name,
            "service.version": service_version,
            ENVIRONMENT_KEY: environment,
        }
        self._resource: Resource | None = None
        self._logs: LogsPipeline | None = None
        self._finalizer: weakref.finalize[Any, OtelProvider] | None = None
        self._traces: TracesPipeline | None = None
        if _sdk_disabled(exporter is not None, bool(metric_readers), span_exporter is not None):
            exporter, metric_readers, span_exporter = None, (), None
        self._metrics_shutdown_s = (
            shutdown_timeout * METRICS_SHUTDOWN_SHARE if metric_readers else 0
        )
        # Events and spans split what metrics leave of the one bound.
        queues = (exporter is not None) + (span_exporter is not None)
        queue_shutdown_s = (shutdown_timeout - self._metrics_shutdown_s) / max(queues, 1)
        if exporter is not None:
            from ._logs import LogsPipeline

            self._logs = LogsPipeline(
                exporter,
                self.resource.merge(_host_resource()),
                batch=batch or BatchConfig(),
                shutdown_timeout=queue_shutdown_s,
                target=target or type(exporter).__name__,
                json=json,
            )
        self._metrics = self._start_metrics(metric_readers, metrics_conversation_id)
        if span_exporter is not None:
            self._traces = self._start_traces(
                span_exporter,
                batch=batch or BatchConfig(),
                shutdown_timeout=queue_shutdown_s,
                target=span_target or type(span_exporter).__name__,
                span_attributes=span_attributes,
                tracestate=tracestate,
                json=span_json,
            )
        if self._logs is not None or self._metrics is not None or self._traces is not None:
            self._register_for_exit()

    def _register_for_exit(self) -> None:
        # Only weak references: a provider the host drops is collected, and closed then.
        self._finalizer = weakref.finalize(
            self,
            _close_in_background,
            self._logs,
            self._metrics,
            self._metrics_shutdown_s,
            self._shutdown_timeout,
            self._traces,
        )
        # At exit, live providers shut down in the foreground instead: _shut_down_live_providers.
        self._finalizer.atexit = False
        _live.add(self)
        # Re-registered last, so exit flushes before the exit hooks registered before this
        # provider, as a hook of its own would.
        atexit.unregister(_shut_down_live_providers)
        atexit.register(_shut_down_live_providers)

    def _abandon_grpc(self) -> bool:
        """In a forked child: stop the gRPC pipelines without a call into gRPC."""
        stopped = False
        for pipeline in (self._logs, self._metrics, self._traces):
            if pipeline is not None:
                try:
                    stopped = pipeline.abandon_if_grpc() or stopped
                except Exception as exc:
                    report_internal_error("stopping gRPC in a forked child", exc)
        return stopped

    @classmethod
    def from_config(
        cls,
        config: OtelConfig,
        *,
        service_name: str | None = None,
        service_version: str | None = None,
        originator: str | None = None,
    ) -> OtelProvider:
        """Build the pipelines an `[otel]` table asks for (`originator`: see `__init__`).

        `service_name` given here wins over the table's (code over config, as for every
        resource attribute). Starting is best effort: if an exporter cannot be built (an
        invalid inherited `OTEL_*` variable, say), that is said once and that signal is
        dropped; the host carries on.
        """
        # What the table dropped as Codex drops it, said as telemetry starts.
        for line in config.warnings:
            internal_logger.warning("codex_otel: %s", line)
        events = config.exporter.kind != "none"
        metrics = config.metrics_exporter.kind != "none"
        traces = config.trace_exporter.kind != "none"
        if _sdk_disabled(events, metrics, traces):
            # Nothing built: a metric reader would start a thread.
            events = metrics = traces = False
        exporter: LogRecordExporter | None = None
        readers: list[MetricReader] = []
        if metrics:
            from ._metrics import reader_from_config  # lazily: metrics off imports nothing

            reader = reader_from_config(config)
            readers += [reader] if reader is not None else []
        if events:
            from .export._factory import build_exporter

            try:
                exporter = build_exporter("logs", config.exporter)
            except Exception as exc:
                # Name (never the values of) inherited OTEL_* variables: the usual culprits.
                inherited = sorted(name for name in os.environ if name.startswith("OTEL_"))
                hint = f" with {', '.join(inherited)} set" if inherited else ""
                kind = config.exporter.kind
                report_internal_error(f"starting the {kind} exporter{hint}", exc)
        span_exporter: Any = None
        if traces:
            from .export._factory import build_exporter, describe_exporter

            try:
                span_exporter = build_exporter("traces", config.trace_exporter)
            except Exception as exc:
                report_internal_error(
                    f"starting the {config.trace_exporter.kind} span exporter", exc
                )
        return cls(
            exporter,
            environment=config.environment,
            service_name=service_name if service_name is not None else config.service_name,
            service_version=service_version,
            originator=originator,
            metric_readers=readers,
            metrics_conversation_id=config.metrics_conversation_id,
            shutdown_timeout=config.shutdown_timeout,
            batch=config.batch,
            target=_target(config),
            tool_result=config.tool_result,
            log_user_prompt=config.log_user_prompt,
            log_agent_responses=config.log_agent_responses,
            log_guardian_assessments=config.log_guardian_assessments,
            json=getattr(config.exporter, "protocol", None) == "json",
            span_json=getattr(config.trace_exporter, "protocol", None) == "json",
            span_exporter=span_exporter,
            span_attributes=config.span_attributes,
            tracestate=config.tracestate,
            resource_attributes=config.resource_attributes,
            span_target=describe_exporter(config.trace_exporter) if traces else None,
        )

    def _start_traces(self, exporter: Any, **options: Any) -> TracesPipeline | None:
        # Imported here: with trace_exporter none no tracing SDK module is ever loaded.
        try:
            from .export._private_sdk_exporters import import_tracing_sdk

            import_tracing_sdk()
            from ._traces import TracesPipeline

            return TracesPipeline(exporter, self.resource, **options)
        except Exception as exc:
            report_internal_error("starting traces", exc)
            return None

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
        return self._logs is not None and not self._shut_down

    @property
    def traces(self) -> TracesPipeline | None:
        """The spans' pipeline (None with no span exporter, or after shutdown)."""
        return self._traces if not self._shut_down else None

    @property
    def logger(self) -> Logger | None:
        """The OpenTelemetry logger events are emitted to (None with no exporter)."""
        return self._logs.logger if self._logs is not None else None

    @property
    def _direct_logs(self) -> DirectLogs | None:
        """The events' direct path past `logger` (for the event manager; None without one)."""
        return self._logs.direct if self._logs is not None else None

    def stats(self, signal: Literal["events", "spans"] = "events") -> DeliveryStats:
        """Events (or, with `"spans"`, spans) accepted, exported and dropped (by reason) so
        far; all zero when that signal is off. Metrics are aggregated, not queued: they have
        no such counts."""
        if signal == "spans":
            return self._traces.stats() if self._traces is not None else DeliveryStats()
        if self._logs is None:
            return DeliveryStats()
        return self._logs.stats()

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
        if self._traces is not None and not self._shut_down:
            # Spans first: a flush is bounded by its own deadline, which they share.
            flushed = self._traces.force_flush(timeout_millis) and flushed
        if self._logs is not None and not self._shut_down:
            left = max(0, int((deadline - time.monotonic()) * 1000))
            flushed = self._logs.force_flush(left) and flushed
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
        _close(self._logs, self._metrics, self._metrics_shutdown_s, self._traces)

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
