"""The private attributes of the OpenTelemetry SDK's log exporters this package touches to
encode their requests itself (OTLP/HTTP protobuf, OTLP/gRPC, the OTLP/JSON file).

The `export/_private_*.py` modules are the only place this package touches private
attributes of other libraries (`tests/test_layout_private.py` keeps it so): each names what it
touches, and its test (here `tests/test_private_sdk_log_export.py`) fails if a release inside
the pinned range renames one; where a copied SDK method changed, the SDK's own stays.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import sys
import weakref
from collections.abc import Callable
from typing import Any

from ._private_sdk_exporters import GRPC_CLIENT, GRPC_STUB

__all__ = [
    "FILE_LOG_EXPORT_SHA256",
    "HTTP_LOG_EXPORT_SHA256",
    "encoded_by_us",
    "fast_file_log_export",
    "fast_grpc_log_export",
    "fast_http_log_export",
]

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
