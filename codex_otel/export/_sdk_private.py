"""Every private attribute of the OpenTelemetry SDK this package touches, named in one place.

`tests/test_sdk_private.py` fails if an SDK release inside the pinned range renames one.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import importlib
import inspect
import math
import operator
import os
import sys
import time
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.sdk._logs import Logger as SdkLogger
from opentelemetry.sdk._logs import ReadWriteLogRecord

from ._partial import PROBE_ATTRIBUTE, PartialSuccessProbe, rejected_in

if TYPE_CHECKING:
    from opentelemetry.context import Context

__all__ = [
    "ATTRIBUTES_DICT",
    "GRPC_CLIENT",
    "GRPC_LOG_EXPORTER_MIXIN",
    "GRPC_RETRY_INFO",
    "GRPC_STUB",
    "HTTP_TRANSPORT",
    "LOGGER_LIMITS",
    "SUPPRESS_INSTRUMENTATION_KEY",
    "CleanRecords",
    "SizedAttributes",
    "aggregate_in_bulk",
    "clean_attributes",
    "encoded_by_us",
    "fast_grpc_log_export",
    "fast_http_log_export",
    "final_grpc_error",
    "grpc_log_exporter_ignoring_timeout_variable",
    "http_transport",
    "import_tracing_sdk",
    "pin_headers",
    "reader_exporter",
    "retry_connection_errors_unless",
    "stop_reader_thread",
    "uses_grpc",
    "watch_partial_success",
    "wrap_grpc_stub",
]

# The API's context key (value "suppress_instrumentation") that instrumentations check before
# recording; the SDK's batch processors set it around each export, and so does `BatchQueue`.
SUPPRESS_INSTRUMENTATION_KEY: str = _SUPPRESS_INSTRUMENTATION_KEY
# OTLP/HTTP exporters (protobuf and JSON): `_client._headers`, the dict sent on every export.
HTTP_CLIENT = "_client"
HTTP_HEADERS = "_headers"
# OTLP/gRPC exporters: `_headers`, the metadata tuple sent on every export.
GRPC_HEADERS = "_headers"
# OTLP/gRPC exporters: `_client`, the service stub whose `Export` returns the collector's
# answer (which the exporter drops), and `_stub`, the stub class it is rebuilt from on
# reconnection.
GRPC_CLIENT = "_client"
GRPC_STUB = "_stub"
# OTLP/JSON exporters: `_client._transport`, whose `request()` returns the HTTP result.
HTTP_TRANSPORT = "_transport"
# The gRPC log exporter's base: `OTLPExporterMixin.__init__(stub=, result=, component_type=,
# signal=, ...)` takes every value the exporter's own `__init__` would have read from OTEL_*.
GRPC_LOG_EXPORTER_MIXIN = "opentelemetry.exporter.otlp.proto.grpc.exporter.OTLPExporterMixin"
# What the OTLP/HTTP exporters send besides the user's headers, kept when pinning.
_TRANSPORT_HEADERS = ("content-type", "user-agent")


def pin_headers(exporter: object, headers: Mapping[str, str]) -> None:
    """Drop the headers an SDK exporter took from inherited `OTEL_EXPORTER_OTLP_*HEADERS`.

    The exporters merge those into every export even when given headers of their own, so a
    token the host set for some other backend would be sent to this collector. Only the
    `[otel]` table's headers (and the exporter's content-type and user-agent) remain.
    """
    ours = {name.lower(): value for name, value in headers.items()}
    client = getattr(exporter, HTTP_CLIENT, None)
    current = getattr(client, HTTP_HEADERS, None)
    if isinstance(current, dict):  # OTLP/HTTP, protobuf and JSON
        transport = {k: v for k, v in current.items() if k in _TRANSPORT_HEADERS}
        setattr(client, HTTP_HEADERS, {**transport, **ours})
    elif isinstance(getattr(exporter, GRPC_HEADERS, None), tuple):  # OTLP/gRPC
        setattr(exporter, GRPC_HEADERS, tuple(ours.items()))
    else:
        raise TypeError(f"{type(exporter).__name__}: no header field to pin")


def grpc_log_exporter_ignoring_timeout_variable(options: dict[str, Any]) -> Any:
    """The gRPC log exporter, built without reading OTEL_EXPORTER_OTLP_LOGS_TIMEOUT.

    Its `__init__` parses that variable with float() even when given a timeout, so garbage
    there raises. That `__init__` only reads such variables before handing every value to the
    shared OTLP mixin; with every value given (`options`), the mixin is all it does.
    """
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.exporter import OTLPExporterMixin
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc import LogsServiceStub
    from opentelemetry.sdk._logs.export import LogRecordExportResult
    from opentelemetry.semconv._incubating.attributes.otel_attributes import (
        OtelComponentTypeValues,
    )

    exporter = object.__new__(OTLPLogExporter)
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


class _ProbedStub:
    """A gRPC service stub that hands each answer's partial success to the probe."""

    def __init__(self, stub: Any, probe: PartialSuccessProbe) -> None:
        self._stub = stub
        self._probe = probe

    def Export(self, *args: Any, **kwargs: Any) -> Any:
        response = self._stub.Export(*args, **kwargs)
        self._probe.record(*rejected_in(response))
        return response


class _ProbedTransport:
    """An OTLP/JSON HTTP transport that hands each answer's partial success to the probe."""

    def __init__(self, transport: Any, probe: PartialSuccessProbe) -> None:
        self._transport = transport
        self._probe = probe

    def request(self, *args: Any, **kwargs: Any) -> Any:
        result = self._transport.request(*args, **kwargs)
        if result.status_code == 200:
            with contextlib.suppress(Exception):  # an answer without a body is a full success
                partial = result.json().get("partialSuccess") or {}
                rejected = sum(
                    int(partial.get(key) or 0)
                    for key in ("rejectedLogRecords", "rejectedSpans", "rejectedDataPoints")
                )
                self._probe.record(rejected, str(partial.get("errorMessage") or ""))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def watch_partial_success(
    exporter: Any, response_type: Any, session: Any | None = None
) -> PartialSuccessProbe:
    """Hook a probe onto an OTLP exporter this package built, and put it on the exporter.

    `response_type` decodes an OTLP/HTTP protobuf answer; `session` is the `requests`
    session of such an exporter (hooked through the public `requests` response hooks).
    """
    probe = PartialSuccessProbe()
    if session is not None:

        def on_response(response: Any, *args: Any, **kwargs: Any) -> Any:
            if response.status_code == 200 and response.content:
                with contextlib.suppress(Exception):
                    probe.record(*rejected_in(response_type.FromString(response.content)))
            return response

        session.hooks["response"].append(on_response)
    elif hasattr(exporter, GRPC_STUB) and hasattr(exporter, GRPC_CLIENT):
        wrap_grpc_stub(exporter, lambda stub: _ProbedStub(stub, probe))
    else:
        client = getattr(exporter, HTTP_CLIENT)
        setattr(client, HTTP_TRANSPORT, _ProbedTransport(getattr(client, HTTP_TRANSPORT), probe))
    setattr(exporter, PROBE_ATTRIBUTE, probe)
    return probe


def wrap_grpc_stub(exporter: Any, wrap: Callable[[Any], Any]) -> None:
    """Have an OTLP/gRPC exporter call `Export` on `wrap(stub)`, now and on every channel
    it builds anew (it does after an UNAVAILABLE answer)."""
    stub_class = getattr(exporter, GRPC_STUB)
    setattr(exporter, GRPC_STUB, lambda channel: wrap(stub_class(channel)))
    setattr(exporter, GRPC_CLIENT, wrap(getattr(exporter, GRPC_CLIENT)))


# Behaviour relied on, not an attribute: the OTLP/gRPC exporters wait before a retry for the
# delay an error's trailing `google.rpc.retryinfo-bin` asks for (a collector's throttling
# answer, in the OTLP specification), and give up at once when that is longer than the
# export has left. `final_grpc_error` asks for a delay no export has.
GRPC_RETRY_INFO = "google.rpc.retryinfo-bin"
_NEVER_SECONDS = 10**9  # about 32 years


@functools.cache
def _final_grpc_error_type() -> type[Exception]:
    import grpc
    from google.rpc.error_details_pb2 import RetryInfo

    retry_info = RetryInfo()
    retry_info.retry_delay.seconds = _NEVER_SECONDS
    never = (GRPC_RETRY_INFO, retry_info.SerializeToString())

    class FinalRpcError(grpc.RpcError):  # type: ignore[misc]  # grpc ships no types
        """A gRPC error, with its code, that the OTLP/gRPC exporters do not retry."""

        def __init__(self, error: Any, reason: str) -> None:
            super().__init__(f"{reason}: {error.details()}")
            self._error = error
            self._reason = reason

        def code(self) -> Any:
            return self._error.code()

        def details(self) -> str:
            return f"{self._reason}: {self._error.details()}"

        def trailing_metadata(self) -> Any:
            return (*(self._error.trailing_metadata() or ()), never)

    return FinalRpcError


def final_grpc_error(error: Any, reason: str) -> Exception:
    """`error` (a `grpc.RpcError` from a call) as one the OTLP/gRPC exporters fail the export
    on at once, its details led by `reason`."""
    return _final_grpc_error_type()(error, reason)


def http_transport(exporter: object) -> Any:
    """An OTLP/HTTP exporter's HTTP transport, `_client._transport` (None for others)."""
    return getattr(getattr(exporter, HTTP_CLIENT, None), HTTP_TRANSPORT, None)


def retry_connection_errors_unless(exporter: object, final: Callable[[Any], bool]) -> None:
    """Have an OTLP/HTTP exporter retry a connection error only when `final(error)` is
    false. Its transport decides what it retries with `is_connection_error(error)`."""
    transport = http_transport(exporter)
    is_connection_error = getattr(transport, "is_connection_error", None)
    if transport is None or is_connection_error is None:
        return

    def retry_unless_final(error: Exception | None) -> bool:
        return bool(is_connection_error(error)) and not final(error)

    transport.is_connection_error = retry_unless_final


# Read by `opentelemetry.sdk.trace` when imported, for a module constant kept for backward
# compatibility: a value that is not a non-negative integer makes the import raise.
_SPAN_ATTRIBUTE_COUNT_LIMIT = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"
_TRACING_SDK = "opentelemetry.sdk.trace"


def import_tracing_sdk() -> None:
    """Import the tracing SDK even under an invalid inherited `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`.

    Every OTLP exporter imports it (their encoders do, for spans), so such a value would
    stop events and metrics too. The variable is hidden for the import only; the traces
    pipeline passes explicit limits, so it never applies anyway.
    """
    if _TRACING_SDK in sys.modules:
        return
    value = os.environ.get(_SPAN_ATTRIBUTE_COUNT_LIMIT)
    try:
        valid = value is None or int(value) >= 0
    except ValueError:
        valid = False
    if valid or value is None:
        importlib.import_module(_TRACING_SDK)
        return
    del os.environ[_SPAN_ATTRIBUTE_COUNT_LIMIT]
    try:
        importlib.import_module(_TRACING_SDK)
    finally:
        os.environ[_SPAN_ATTRIBUTE_COUNT_LIMIT] = value


# `PeriodicExportingMetricReader._exporter` (its exporter, which every collection's export
# calls) and `._shutdown_event` (which ends the export thread the SDK restarts in a forked
# child, after one last collection).
READER_EXPORTER = "_exporter"
READER_SHUTDOWN_EVENT = "_shutdown_event"
_GRPC_EXPORTERS = "opentelemetry.exporter.otlp.proto.grpc"


def reader_exporter(reader: object) -> Any:
    """A periodic metric reader's exporter (None for other readers)."""
    return getattr(reader, READER_EXPORTER, None)


class _NoMetricExport:
    """A periodic reader's exporter in a forked child: takes every export, sends nothing."""

    def export(self, metrics_data: object, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
        from opentelemetry.sdk.metrics.export import MetricExportResult

        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def stop_reader_thread(reader: object) -> None:
    """End a periodic metric reader's export thread, without a call to its exporter: the
    thread (and the one the SDK restarts in a forked child) still runs one last collection
    when told to end, so the exporter is swapped for one that sends nothing first."""
    if hasattr(reader, READER_EXPORTER):
        setattr(reader, READER_EXPORTER, _NoMetricExport())
    event = getattr(reader, READER_SHUTDOWN_EVENT, None)
    if event is not None:
        event.set()


def uses_grpc(exporter: object) -> bool:
    """True for the SDK's OTLP/gRPC exporters: gRPC cannot be used in a forked child."""
    return type(exporter).__module__.startswith(_GRPC_EXPORTERS)


# `BoundedAttributes._dict`, the plain dict behind one. The SDK's own `__deepcopy__` fills it
# directly so that values already clean are not cleaned again; `CleanRecords` does the same.
ATTRIBUTES_DICT = "_dict"
# `Logger._log_record_limits`: the limits the SDK's Logger gives every record it builds.
LOGGER_LIMITS = "_log_record_limits"


class SizedAttributes(BoundedAttributes):
    """A record's attributes, made clean by this package, with their estimated wire size
    (`wire_size`, None once a processor changes them: the size is then estimated anew)."""

    wire_size: int | None

    def __setitem__(self, key: str, value: Any) -> None:
        self.wire_size = None
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.wire_size = None
        super().__delitem__(key)


def clean_attributes(
    attributes: dict[str, Any], max_attributes: int | None, wire_size: int | None
) -> SizedAttributes:
    """A record's attributes holding `attributes` as they are (text, numbers and booleans only,
    at most `max_attributes`): what the SDK builds from them, without cleaning them again."""
    clean = SizedAttributes(maxlen=max_attributes, immutable=False, max_value_len=None)
    setattr(clean, ATTRIBUTES_DICT, attributes)
    clean.wire_size = wire_size
    return clean


class CleanRecords:
    """Builds the SDK log records `Logger.emit` would build, for attributes this package made
    clean (text and numbers only, within the limits), without the SDK cleaning them again.

    `Logger.emit(record)` takes a `ReadWriteLogRecord` as it is: processors, users' own
    included, and exporters see an ordinary SDK record. `for_logger` returns None where the
    shortcut would not build the same record (not an SDK Logger, or limits that cut values).
    """

    __slots__ = ("limits", "logger", "max_attributes")

    def __init__(self, logger: SdkLogger, limits: Any) -> None:
        self.logger = logger
        self.limits = limits
        self.max_attributes: int | None = limits.max_log_record_attributes

    @classmethod
    def for_logger(cls, logger: object) -> CleanRecords | None:
        if type(logger) is not SdkLogger:
            return None
        limits = getattr(logger, LOGGER_LIMITS, None)
        if limits is None or limits.max_log_record_attribute_length is not None:
            return None
        return cls(logger, limits)

    def emit(
        self,
        *,
        timestamp: int,
        context: Context | None,
        severity_number: SeverityNumber,
        severity_text: str,
        event_name: str,
        attributes: dict[str, Any],
        attributes_size: int,
    ) -> None:
        """`Logger.emit` of one record whose body is `event_name`; `attributes` is handed
        over (not copied): text, numbers and booleans only, at most `max_attributes`."""
        logger = self.logger
        # The API record reads the trace and span ids from `context` (None: the current one).
        log_record = LogRecord(
            timestamp=timestamp,
            observed_timestamp=timestamp,
            context=context,
            severity_number=severity_number,
            severity_text=severity_text,
            body=event_name,
            event_name=event_name,
        )
        # Built without attributes, `__post_init__` has nothing to clean; ours go in after.
        record = ReadWriteLogRecord(
            log_record=log_record,
            resource=logger.resource,
            instrumentation_scope=logger.instrumentation_scope,
            limits=self.limits,
        )
        log_record.attributes = clean_attributes(attributes, self.max_attributes, attributes_size)
        # Typed for API records; the SDK's Logger takes its own ReadWriteLogRecord as it is.
        logger.emit(record)  # type: ignore[arg-type]


# Behaviour relied on, not an attribute: a metric collection runs the observable instruments'
# callbacks before it reads the synchronous instruments, and an observable instrument that
# observes nothing exports nothing. `_metrics.DeferredMeasurements` hands the measurements it
# queued to the SDK from such a callback, so each collection holds everything recorded before.


# Log exporters whose requests this package encodes (so they take its `DirectRecord`s too).
_ENCODED_BY_US: weakref.WeakSet[object] = weakref.WeakSet()

# The OTLP/HTTP protobuf log exporter's `export` encodes with the SDK's encoder inline; it is
# replaced on our exporter's instance by `_FastHttpLogExport`, the same steps with our encoder.
# It uses the exporter's `_shutdown`, `_metrics.export_operation(count)`, `_max_request_size`
# and `_client.export(bytes)`, and its module's `_is_request_too_large`,
# `RequestPayloadTooLargeError`, `HTTP_RESPONSE_STATUS_CODE` and `_logger`.
# `HTTP_LOG_EXPORT_SHA256` fingerprints the SDK's `export` these steps copy.
HTTP_LOG_EXPORTER = "opentelemetry.exporter.otlp.proto.http._log_exporter"
GRPC_LOG_EXPORTER = "opentelemetry.exporter.otlp.proto.grpc._log_exporter"
HTTP_LOG_EXPORT_SHA256 = "c3f79a48d091f8870f5f6fb2e342bae9d42458b540787580fccd826070befbec"


class _FastHttpLogExport:
    """`OTLPLogExporter.export` (OTLP/HTTP, protobuf), encoding with the given `encode`."""

    def __init__(self, exporter: Any, encode: Callable[[Any], bytes]) -> None:
        self._exporter = exporter
        self._encode = encode
        self._module = sys.modules[type(exporter).__module__]

    def __call__(self, batch: Any) -> Any:
        from opentelemetry.sdk._logs.export import LogRecordExportResult

        exporter, module = self._exporter, self._module
        if exporter._shutdown:
            module._logger.warning("Exporter already shutdown, ignoring batch")
            return LogRecordExportResult.FAILURE
        with exporter._metrics.export_operation(len(batch)) as result:
            try:
                data = self._encode(batch)
            except Exception as error:
                module._logger.error("Failed to encode logs batch: %s", error)
                result.error = error
                return LogRecordExportResult.FAILURE
            if module._is_request_too_large(data, exporter._max_request_size):
                module._logger.warning(
                    "Dropping logs batch: serialized size %d bytes exceeds max_request_size "
                    "%d bytes.",
                    len(data),
                    exporter._max_request_size,
                )
                result.error = module.RequestPayloadTooLargeError(
                    f"Serialized logs request size {len(data)} bytes exceeds max_request_size "
                    f"{exporter._max_request_size} bytes."
                )
                return LogRecordExportResult.FAILURE
            export_result = exporter._client.export(data)
            if not export_result.success:
                result.error = export_result.error
                result.error_attrs = (
                    {module.HTTP_RESPONSE_STATUS_CODE: export_result.status_code}
                    if export_result.status_code is not None
                    else None
                )
                return LogRecordExportResult.FAILURE
        return LogRecordExportResult.SUCCESS


@functools.cache
def _http_export_is_the_copied_one(exporter_class: type) -> bool:
    """The installed SDK's `export` is the one `_FastHttpLogExport` copies (read once)."""
    try:
        source = inspect.getsource(exporter_class.export)  # type: ignore[attr-defined]
    except (OSError, TypeError):  # no source shipped: the copy cannot be checked
        return False
    return hashlib.sha256(source.encode()).hexdigest() == HTTP_LOG_EXPORT_SHA256


def fast_http_log_export(exporter: Any, encode: Callable[[Any], bytes]) -> None:
    """Encode this OTLP/HTTP protobuf log exporter's requests with `encode(batch)` — only
    when the installed SDK's `export` is the one copied; else the SDK's own stays."""
    if type(exporter).__module__ != HTTP_LOG_EXPORTER:
        raise TypeError(f"{type(exporter).__name__}: not the OTLP/HTTP protobuf log exporter")
    if _http_export_is_the_copied_one(type(exporter)):  # type: ignore[arg-type]
        exporter.export = _FastHttpLogExport(exporter, encode)
        _ENCODED_BY_US.add(exporter)


# The OTLP/gRPC log exporter sends `_translate_data(batch)` through `_client.Export(request=)`,
# `_client` being `_stub(_channel)`. Here `_translate_data` returns the request's bytes and
# the stub, on the same `_channel`, sends bytes as they are.
GRPC_CHANNEL = "_channel"
GRPC_TRANSLATE = "_translate_data"
_LOGS_EXPORT_METHOD = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


def _request_bytes(request: Any) -> bytes:
    return request if type(request) is bytes else request.SerializeToString()


class _BytesLogsStub:
    """The logs service stub, sending requests already serialized."""

    def __init__(self, channel: Any) -> None:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
            ExportLogsServiceResponse,
        )

        self.Export = channel.unary_unary(
            _LOGS_EXPORT_METHOD,
            request_serializer=_request_bytes,
            response_deserializer=ExportLogsServiceResponse.FromString,
        )


def fast_grpc_log_export(exporter: Any, encode: Callable[[Any], bytes]) -> None:
    """Encode this OTLP/gRPC log exporter's requests with `encode(batch)` (before any wrapping
    of its stub)."""
    if type(exporter).__module__ != GRPC_LOG_EXPORTER:
        raise TypeError(f"{type(exporter).__name__}: not the OTLP/gRPC log exporter")
    setattr(exporter, GRPC_STUB, _BytesLogsStub)
    setattr(exporter, GRPC_CLIENT, _BytesLogsStub(getattr(exporter, GRPC_CHANNEL)))
    setattr(exporter, GRPC_TRANSLATE, encode)
    _ENCODED_BY_US.add(exporter)


# The OTLP/JSON file log exporter (`FileLogExporter`) hands each batch to its `_exporter`, a
# `_FileExporter` whose `export` encodes it with the SDK's JSON encoder and writes one line.
# `_FastFileLogExport` does the same steps with our line, using the `_FileExporter`'s
# `_shutdown`, `_lock`, `_stream`, `_kind` and `_logger`; a batch our encoder does not write
# goes to the SDK's `export` as SDK records. `FILE_LOG_EXPORT_SHA256` fingerprints the SDK's
# `_FileExporter.export` and `_format_line` these steps copy.
FILE_LOG_EXPORTER = "opentelemetry.exporter.otlp.json.file._log_exporter"
FILE_LOG_EXPORT_SHA256 = "50d21cfdadd6d4e85469ca10281a71990965cc70d4b8a51e9058619643bb4eac"


class _FastFileLogExport:
    """`FileLogExporter.export`, writing the line `encode(batch)` gives; when that is None,
    the SDK's export takes `records(batch)` (the batch as SDK records)."""

    def __init__(
        self,
        exporter: Any,
        encode: Callable[[Any], str | None],
        records: Callable[[list[Any]], list[Any]],
    ) -> None:
        self._sdk_export = exporter.export
        self._file = exporter._exporter
        self._encode = encode
        self._records = records

    def __call__(self, batch: Any) -> Any:
        from opentelemetry.sdk._logs.export import LogRecordExportResult

        file = self._file
        if file._shutdown:
            file._logger.warning("Exporter already shutdown, ignoring call")
            return LogRecordExportResult.FAILURE
        try:
            line = self._encode(batch)
            if line is None:
                return self._sdk_export(self._records(list(batch)))
            with file._lock:
                if file._stream.closed:
                    file._logger.warning("Stream is closed, ignoring %s export call", file._kind)
                    return LogRecordExportResult.FAILURE
                file._stream.write(line)
                file._stream.flush()
        except Exception as error:
            file._logger.exception(
                "Failed to write %s batch to stream: %s: %s",
                file._kind,
                type(error).__name__,
                error,
            )
            return LogRecordExportResult.FAILURE
        return LogRecordExportResult.SUCCESS


@functools.cache
def _file_export_is_the_copied_one(module: str) -> bool:
    """The installed SDK's file export is the one `_FastFileLogExport` copies (read once)."""
    try:
        internal = importlib.import_module(module.rsplit(".", 1)[0] + "._internal")
        source = inspect.getsource(internal._FileExporter.export)
        source += inspect.getsource(internal._format_line)
    except (ImportError, AttributeError, OSError, TypeError):  # moved, or no source shipped
        return False
    return hashlib.sha256(source.encode()).hexdigest() == FILE_LOG_EXPORT_SHA256


def fast_file_log_export(
    exporter: Any,
    encode: Callable[[Any], str | None],
    records: Callable[[list[Any]], list[Any]],
) -> None:
    """Write this OTLP/JSON file log exporter's lines with `encode(batch)`, a batch it does
    not write going to the SDK's export as `records(batch)` — only when the installed SDK's
    export is the one copied; else the SDK's own stays."""
    if type(exporter).__module__ != FILE_LOG_EXPORTER:
        raise TypeError(f"{type(exporter).__name__}: not the OTLP/JSON file log exporter")
    if _file_export_is_the_copied_one(FILE_LOG_EXPORTER):
        exporter.export = _FastFileLogExport(exporter, encode, records)
        _ENCODED_BY_US.add(exporter)


def encoded_by_us(exporter: object) -> bool:
    """True for a log exporter whose requests `fast_http_log_export`, `fast_grpc_log_export`
    or `fast_file_log_export` made ours to encode."""
    try:
        return exporter in _ENCODED_BY_US
    except TypeError:  # not weakly referenceable: never one of ours
        return False


# -- measurements handed to the metrics SDK in bulk ----------------------------------------
#
# `Counter.add` and `Histogram.record` each build a `Measurement` and walk, for every reader,
# the view matches of the instrument down to the aggregation kept for the attribute set.
# `aggregate_in_bulk` walks that path once for many values of one instrument and attribute
# set. It uses: the instrument's `_measurement_consumer` (a `SynchronousMeasurementConsumer`)
# and `_is_enabled()`; the consumer's `_sdk_config.exemplar_filter` and `_reader_storages`;
# each storage's `_get_or_init_view_instrument_match(instrument)`; each match's
# `_view._attribute_keys`, `_lock` and `_get_or_create_aggregation(key, attributes)`, the key
# being its module's `_hash_attributes(attributes)`; the sum and explicit-bucket histogram
# aggregations' `_lock`, `_value`, `_sum`, `_min`, `_max`, `_boundaries`, `_record_min_max`
# and `_get_empty_bucket_counts()`; and, for an aggregation of another kind (a reader's own
# choice), `aggregate(Measurement(...), False)` once per value.
# `METRICS_BULK_SHA256` fingerprints the SDK methods whose steps these copy; where the
# installed ones differ, every value takes the public `add` or `record`.
METRICS_BULK_SHA256 = "f1327d13360e02fcefde590a99850a95f7598e82cb7a47e36eb7e9730ea7ff34"
_METRICS_INTERNAL = "opentelemetry.sdk.metrics._internal"
_BULK_COPIED = (
    ("instrument", "Counter.add"),
    ("instrument", "Histogram.record"),
    ("measurement", "Measurement.__post_init__"),
    ("measurement_consumer", "SynchronousMeasurementConsumer.consume_measurement"),
    ("metric_reader_storage", "MetricReaderStorage.consume_measurement"),
    ("_view_instrument_match", "_ViewInstrumentMatch.consume_measurement"),
    ("_view_instrument_match", "_ViewInstrumentMatch._get_or_create_aggregation"),
    ("_view_instrument_match", "_ViewInstrumentMatch.collect"),
    ("aggregation", "_Aggregation._sample_exemplar"),
    ("aggregation", "_SumAggregation.aggregate"),
    ("aggregation", "_ExplicitBucketHistogramAggregation.aggregate"),
)


def metrics_bulk_fingerprint() -> str:
    """SHA-256 of the installed sources of the SDK methods `aggregate_in_bulk` copies."""
    digest = hashlib.sha256()
    for module_name, qualname in _BULK_COPIED:
        target: Any = importlib.import_module(f"{_METRICS_INTERNAL}.{module_name}")
        for part in qualname.split("."):
            target = getattr(target, part)
        digest.update(f"{module_name}:{qualname}\n".encode())
        digest.update(inspect.getsource(target).encode())
    return digest.hexdigest()


class _BulkPath:
    """The SDK's classes and functions the bulk path needs, loaded once and only when the
    installed SDK is the one copied (`load()` returns None otherwise)."""

    def __init__(self) -> None:
        from opentelemetry.context import get_current
        from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter
        from opentelemetry.sdk.metrics._internal import _view_instrument_match as matches
        from opentelemetry.sdk.metrics._internal import aggregation, instrument
        from opentelemetry.sdk.metrics._internal.measurement import Measurement
        from opentelemetry.sdk.metrics._internal.measurement_consumer import (
            SynchronousMeasurementConsumer,
        )
        from opentelemetry.sdk.metrics._internal.metric_reader_storage import (
            MetricReaderStorage,
        )

        self.counters = (instrument._Counter,)
        self.histograms = (instrument._Histogram,)
        self.instruments = self.counters + self.histograms
        self.consumer = SynchronousMeasurementConsumer
        self.storage = MetricReaderStorage
        self.match = matches._ViewInstrumentMatch
        self.hash_attributes = matches._hash_attributes
        self.always_off = AlwaysOffExemplarFilter
        self.sum = aggregation._SumAggregation
        self.histogram = aggregation._ExplicitBucketHistogramAggregation
        self.measurement = Measurement
        self.current_context = get_current

    @staticmethod
    @functools.cache
    def load() -> _BulkPath | None:
        try:
            if metrics_bulk_fingerprint() != METRICS_BULK_SHA256:
                return None
            return _BulkPath()
        except Exception:  # moved, renamed or shipped without source: not the copied SDK
            return None


_NUMBER_TYPES = frozenset((int, float))
# Attribute values the SDK's cleaning keeps as they are (keys: non-empty text).
_PLAIN_ATTRIBUTE_TYPES = (str, bool, int, float)


def aggregate_in_bulk(
    instrument: Any, attributes: Mapping[str, object], values: list[Any]
) -> list[Any]:
    """Aggregate `values` of one SDK counter or histogram and one attribute set, in order,
    as that many `add`/`record(value, attributes)` calls would, into every reader's data.

    Returns the values left for the public path: all of them where the SDK, the instrument
    or the attributes are not what the copied steps expect, and any value the SDK would
    check and warn about (not a finite, non-negative int or float). A measurement is either
    aggregated here or returned, never both.
    """
    bulk = _BulkPath.load()
    plan = None if bulk is None else _bulk_plan(bulk, instrument, attributes)
    if bulk is None or plan is None:
        return values
    if _all_taken(values):
        taken, left = values, []
    else:
        taken = [v for v in values if _takes(v)]
        left = [v for v in values if not _takes(v)]
    if taken:
        is_counter = type(instrument) in bulk.counters
        ordered: list[Any] | None = None
        for match, key, match_attributes in plan:
            # Held throughout, as the SDK holds it for delta readers: a collection sees all
            # of these values or none.
            with match._lock:
                aggregation = match._get_or_create_aggregation(key, match_attributes)
                kind = type(aggregation)
                if is_counter and kind is bulk.sum:
                    _add_to_sum(aggregation, taken)
                elif not is_counter and kind is bulk.histogram:
                    if ordered is None:
                        ordered = sorted(taken)
                    _add_to_histogram(aggregation, taken, ordered)
                else:
                    context = bulk.current_context()
                    now = time.time_ns()
                    for value in taken:
                        measurement = bulk.measurement(
                            value, now, instrument, context, match_attributes
                        )
                        aggregation.aggregate(measurement, False)
    return left


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int past a float's range: the SDK's own check raises on it
        return False


def _takes(value: Any) -> bool:
    """A value the SDK's `add`/`record` aggregates without a word: a finite, non-negative
    int or float (not a bool)."""
    return type(value) in _NUMBER_TYPES and _finite(value) and value >= 0


def _all_taken(values: list[Any]) -> bool:
    """`_takes` for every value, checked a whole list at a time."""
    kinds = set(map(type, values))
    if not values or not kinds <= _NUMBER_TYPES:
        return False
    try:
        # A NaN makes min() and max() unreliable, so it is looked for first.
        if float in kinds and any(map(math.isnan, values)):
            return False
        return min(values) >= 0 and math.isfinite(max(values))
    except OverflowError:  # an int past a float's range: see `_takes`
        return False


def _bulk_plan(
    bulk: _BulkPath, instrument: Any, attributes: Mapping[str, object]
) -> list[tuple[Any, Any, dict[str, Any]]] | None:
    """(view match, aggregation key, its attributes) for every reader and view the SDK would
    hand a measurement to; None where the bulk path does not apply."""
    # Exact types: an isinstance() check against these protocol classes is slow.
    if type(instrument) not in bulk.instruments:
        return None
    consumer = getattr(instrument, "_measurement_consumer", None)
    if type(consumer) is not bulk.consumer or not instrument._is_enabled():
        return None
    if type(consumer._sdk_config.exemplar_filter) is not bulk.always_off:
        return None  # exemplars need each measurement's own time and context
    if not isinstance(attributes, dict) or not all(
        type(k) is str and k and type(v) in _PLAIN_ATTRIBUTE_TYPES for k, v in attributes.items()
    ):
        return None
    plan = []
    for storage in consumer._reader_storages.values():
        if type(storage) is not bulk.storage:
            return None
        for match in storage._get_or_init_view_instrument_match(instrument):
            if type(match) is not bulk.match:
                return None
            keys = match._view._attribute_keys
            kept = (
                dict(attributes)
                if keys is None
                else {k: v for k, v in attributes.items() if k in keys}
            )
            plan.append((match, bulk.hash_attributes(kept), kept))
    return plan


def _add_to_sum(aggregation: Any, values: list[Any]) -> None:
    with aggregation._lock:
        start = 0 if aggregation._value is None else aggregation._value
        # Added one at a time, as the SDK adds: float sums round the same way.
        aggregation._value = functools.reduce(operator.add, values, start)


def _add_to_histogram(aggregation: Any, values: list[Any], ordered: list[Any]) -> None:
    bounds = aggregation._boundaries
    # A value v falls in bucket bisect_left(bounds, v), so the values up to and including
    # a bound (bisect_right in the sorted values) are those of the buckets up to its own.
    upto = [bisect.bisect_right(ordered, bound) for bound in bounds]
    upto.append(len(ordered))
    counts = list(map(operator.sub, upto, [0, *upto[:-1]]))
    with aggregation._lock:
        if aggregation._value is None:
            aggregation._value = aggregation._get_empty_bucket_counts()
        aggregation._sum = functools.reduce(operator.add, values, aggregation._sum)
        if aggregation._record_min_max:
            aggregation._min = min(aggregation._min, min(values))
            aggregation._max = max(aggregation._max, max(values))
        aggregation._value[:] = map(operator.add, aggregation._value, counts)
