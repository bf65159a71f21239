"""The private attributes of the OpenTelemetry SDK's OTLP exporters this package touches.

The `export/_private_*.py` modules are the only place this package touches private
attributes of other libraries (`tests/test_layout_private.py` keeps it so): each names what it
touches, and its test (here `tests/test_private_sdk_exporters.py`) fails if a release inside
the pinned range renames one.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY

from ._partial import PROBE_ATTRIBUTE, PartialSuccessProbe, rejected_in

__all__ = [
    "GRPC_CLIENT",
    "GRPC_HEADERS",
    "GRPC_LOG_EXPORTER_MIXIN",
    "GRPC_RETRY_INFO",
    "GRPC_STUB",
    "HTTP_CLIENT",
    "HTTP_HEADERS",
    "HTTP_TRANSPORT",
    "SUPPRESS_INSTRUMENTATION_KEY",
    "TRANSPORT_POOL",
    "TRANSPORT_SESSION",
    "final_grpc_error",
    "grpc_log_exporter_ignoring_timeout_variable",
    "http_transport",
    "http_transport_pool",
    "http_transport_session",
    "import_tracing_sdk",
    "pin_headers",
    "replace_http_transport_pool",
    "retry_connection_errors_unless",
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
    """An OTLP/HTTP exporter's HTTP transport, `_client._transport` (None for others): the
    SDK's own, inside the probe `watch_partial_success` wraps around a JSON exporter's (its
    pool is the one the requests go through)."""
    transport = getattr(getattr(exporter, HTTP_CLIENT, None), HTTP_TRANSPORT, None)
    return transport._transport if isinstance(transport, _ProbedTransport) else transport


# The OTLP/HTTP exporters' transports: the protobuf exporters' holds its `requests` session
# at `_session`, the JSON exporters' its urllib3 `PoolManager` at `_pool`.
TRANSPORT_SESSION = "_session"
TRANSPORT_POOL = "_pool"


def http_transport_session(transport: object) -> Any:
    """The `requests` session of an OTLP/HTTP transport (None for one without)."""
    return getattr(transport, TRANSPORT_SESSION, None)


def http_transport_pool(transport: object) -> Any:
    """The urllib3 `PoolManager` of an OTLP/HTTP transport (None for one without)."""
    return getattr(transport, TRANSPORT_POOL, None)


def replace_http_transport_pool(transport: object, pool: object) -> None:
    """Have an OTLP/HTTP transport send through `pool` from now on."""
    setattr(transport, TRANSPORT_POOL, pool)


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


_GRPC_EXPORTERS = "opentelemetry.exporter.otlp.proto.grpc"


def uses_grpc(exporter: object) -> bool:
    """True for the SDK's OTLP/gRPC exporters: gRPC cannot be used in a forked child."""
    return type(exporter).__module__.startswith(_GRPC_EXPORTERS)
