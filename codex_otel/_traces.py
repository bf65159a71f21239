"""The traces' signal: a private TracerProvider (never global), its bounded, counted batch
processor, the tracer, and W3C Trace Context in and out.

Imported only when `trace_exporter` is set: with it none, no tracing SDK module is loaded.
Every choice the SDK would take from inherited `OTEL_*` variables is made here explicitly
(sampler, limits, propagator), so such a variable can neither break the start nor drop spans.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import TraceState

from ._config import BatchConfig
from ._errors import report_internal_error
from ._version import package_version
from .catalog import SCOPE_NAME, SpanAttr
from .export._pipeline import CountedPipeline

if TYPE_CHECKING:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.trace import Span, Tracer

__all__ = [
    "CLIENT",
    "INTERNAL",
    "TracesPipeline",
    "end_span",
    "error_type",
]

CLIENT = SpanKind.CLIENT
INTERNAL = SpanKind.INTERNAL

# Generous, and fixed: inherited OTEL_*_LIMIT variables (a 0, or garbage) do not apply.
_LIMITS = {
    "max_attributes": 128,
    "max_events": 128,
    "max_links": 128,
    "max_span_attributes": 128,
    "max_event_attributes": 128,
    "max_link_attributes": 128,
    "max_attribute_length": SpanLimits.UNSET,
    "max_span_attribute_length": SpanLimits.UNSET,
}
# W3C Trace Context only, whatever OTEL_PROPAGATORS names (the global propagator is never
# consulted: a bad OTEL_PROPAGATORS makes importing it raise).
_W3C = TraceContextTextMapPropagator()
# Chat spans held open for their streams at once: past this, the oldest is ended (a program
# that leaves responses unclosed keeps memory bounded; the span is still exported).
MAX_HELD = 4096


class Held(Protocol):
    """A span left open for its stream (a chat's `SpanScope`): ended once, by whoever is first."""

    def end(self, error: BaseException | int | str | None = None) -> None: ...


class TracesPipeline(CountedPipeline):
    """Spans -> the SDK's TracerProvider -> `BoundedSpanProcessor` -> the exporter."""

    client = CLIENT
    internal = INTERNAL

    def __init__(
        self,
        exporter: Any,
        resource: Resource,
        *,
        batch: BatchConfig,
        shutdown_timeout: float,
        target: str,
        span_attributes: Mapping[str, Any] | None = None,
        tracestate: Mapping[str, str] | None = None,
        environ: Mapping[str, str] = os.environ,
        json: bool = False,
    ) -> None:
        from .export._delivery import BoundedSpanProcessor, queue_options

        self._exporter = exporter
        self._signal = "spans"
        self._provider = TracerProvider(
            sampler=ALWAYS_ON,  # every span is exported: no inherited sampler drops one
            resource=resource,
            shutdown_on_exit=False,  # the OtelProvider's exit hook runs one bounded flush
            span_limits=SpanLimits(**_LIMITS),
            # The SDK's own span metrics stay out of the host's global MeterProvider.
            meter_provider=NoOpMeterProvider(),
        )
        self._processor = BoundedSpanProcessor(
            exporter,
            target=target,
            **queue_options(batch, shutdown_timeout=shutdown_timeout, json=json),
        )
        self._provider.add_span_processor(self._processor)
        self.tracer: Tracer = self._provider.get_tracer(SCOPE_NAME, package_version())
        self.span_attributes: dict[str, Any] = dict(span_attributes or {})
        self._tracestate = list((tracestate or {}).items())
        self.inherited = inherited_context(environ)
        """The context of `TRACEPARENT`/`TRACESTATE` at start (None without a valid one)."""
        # Chat spans left open for their stream, held (not weakly: an abandoned response must
        # not lose its span) until ended, at the latest at shutdown; insertion-ordered.
        self._open: dict[Held, None] = {}
        self._open_lock = threading.Lock()

    def start(
        self, name: str, kind: SpanKind, attributes: dict[str, Any], parent: Context | None
    ) -> Span:
        """A started span: `[otel].span_attributes` first, the span's own attributes over them."""
        stamped = {**self.span_attributes, **attributes} if self.span_attributes else attributes
        return self.tracer.start_span(
            name,
            context=parent,
            kind=kind,
            attributes=stamped,
            record_exception=False,
            set_status_on_exception=False,
        )

    @staticmethod
    def end(span: Span, error: BaseException | int | str | None = None, ok: bool = False) -> None:
        end_span(span, error, ok)

    def child_context(self, span: Span, parent: Context | None) -> Context:
        """The context children of `span` (and events recorded in it) start from."""
        return trace_api.set_span_in_context(span, parent)

    @staticmethod
    def attach(context: Context) -> object:
        """Make `context` current, so the host's own instrumentation nests under it."""
        return otel_context.attach(context)

    @staticmethod
    def detach(token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]

    def current_parent(self) -> Context | None:
        """The parent of a span opened outside this package's own: the active span of the
        current context if there is one, else the inherited `TRACEPARENT`, else none (a root)."""
        if trace_api.get_current_span().get_span_context().is_valid:
            return None  # the SDK takes the current context itself
        return self.inherited

    def hold(self, held: Held) -> None:
        with self._open_lock:
            self._open[held] = None
            oldest = next(iter(self._open)) if len(self._open) > MAX_HELD else None
        if oldest is not None:
            oldest.end()  # releases it

    def release(self, held: Held) -> None:
        with self._open_lock:
            self._open.pop(held, None)

    def headers(self, span: Span) -> dict[str, str]:
        """`traceparent` and `tracestate` of `span`: the configured entries over its own."""
        carrier: dict[str, str] = {}
        context = span.get_span_context()
        if self._tracestate:
            context = trace_api.SpanContext(
                context.trace_id,
                context.span_id,
                context.is_remote,
                context.trace_flags,
                _merged(self._tracestate, context.trace_state),
            )
        _W3C.inject(carrier, trace_api.set_span_in_context(trace_api.NonRecordingSpan(context)))
        return carrier

    def shutdown(self) -> None:
        """End the spans still open for a stream, export what is queued within the processor's
        bound, then stop."""
        with self._open_lock:
            still_open = list(self._open)
            self._open.clear()
        for held in still_open:
            held.end()
        self._stop_provider()


def _merged(configured: list[tuple[str, str]], inherited: TraceState) -> TraceState:
    """The configured entries first (W3C: changed keys move to the front), then the rest."""
    keys = {key for key, _ in configured}
    return TraceState([*configured, *((k, v) for k, v in inherited.items() if k not in keys)][:32])


def inherited_context(environ: Mapping[str, str]) -> Context | None:
    """The parent named by `TRACEPARENT` (and `TRACESTATE`); malformed values give None."""
    traceparent = environ.get("TRACEPARENT")
    if not traceparent:
        return None
    carrier = {"traceparent": traceparent.strip()}
    tracestate = environ.get("TRACESTATE")
    if tracestate:
        carrier["tracestate"] = tracestate
    try:
        context = _W3C.extract(carrier)
    except Exception:  # never raised for an inherited value; only the parent is lost
        return None
    return context if trace_api.get_current_span(context).get_span_context().is_valid else None


def error_type(error: BaseException | int | str) -> str:
    """`error.type`: the exception's qualified class name, an HTTP status code, or the kind
    of the event a stream failed with (`response.failed`)."""
    if isinstance(error, (int, str)):
        return str(error)
    kind = type(error)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def end_span(span: Span, error: BaseException | int | str | None = None, ok: bool = False) -> None:
    """End `span`; with `error`, status ERROR and `error.type` (no message: spans carry no
    content); else status OK when `ok`, UNSET otherwise."""
    try:
        if error is not None:
            span.set_attribute(SpanAttr.ERROR_TYPE, error_type(error))
            span.set_status(Status(StatusCode.ERROR))
        elif ok:
            span.set_status(Status(StatusCode.OK))
        span.end()
    except Exception as exc:
        report_internal_error("ending a span", exc)
