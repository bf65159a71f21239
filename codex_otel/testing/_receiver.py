"""A real, local OTLP logs, metrics and traces receiver: HTTP (protobuf and JSON) and gRPC.

Used by the test-suite, ``codex-otel demo`` and ``codex-otel receive``: the exporters under
test talk to it over the wire exactly as they would to a collector, and it decodes what
arrives into flat :class:`ReceivedLog`, :class:`Metric` and :class:`ReceivedSpan` values.
"""

from __future__ import annotations

import base64
import errno
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ..export._private_grpc import call_authority
from ._metric_data import Metric
from ._otlp_decode import (
    ReceivedLog,
    ReceivedSpan,
    decode_logs_request,
    decode_metrics_request,
    decode_traces_request,
)
from ._receiver_http import LOGS_PATH, METRICS_PATH, TRACES_PATH, HttpServer
from ._record_count import TooManyRecords, records_in_message
from ._server_setup import Fault, HttpLimits, ServerTls, is_loopback, loopback_request

__all__ = ["OtlpReceiver"]

_logger = logging.getLogger(__name__)


def _metadata_value(value: str | bytes) -> str:
    # "-bin" metadata arrives as bytes; base64 is how it travels on the wire.
    return value if isinstance(value, str) else base64.b64encode(value).decode("ascii")


class OtlpReceiver:
    """Local OTLP logs, metrics and traces endpoint.

    Port 0 picks a free port; None disables that protocol.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        http_port: int | None = 0,
        grpc_port: int | None = 0,
        on_log: Callable[[ReceivedLog], None] | None = None,
        tls: ServerTls | None = None,
        on_metrics: Callable[[list[Metric]], None] | None = None,
        on_span: Callable[[ReceivedSpan], None] | None = None,
        limits: HttpLimits | None = None,
        keep: bool = True,
    ) -> None:
        """`on_log` is called with each event as it arrives, `on_metrics` with the metrics of
        each export request (on the server's threads, outside the receiver's lock). `limits`
        bounds what an HTTP request may carry. `keep=False` keeps nothing received (the
        callbacks get everything: a long-running viewer holds only what it shows)."""
        self._host = host
        self._limits = limits
        self._keep = keep
        self._tls = tls
        self._want_http, self._want_grpc = http_port, grpc_port
        self._on_log = on_log
        self._on_metrics = on_metrics
        self._on_span = on_span
        self._logs: list[ReceivedLog] = []
        self._spans: list[ReceivedSpan] = []
        self._metrics: list[Metric] = []
        self._metric_bodies: list[bytes] = []
        self._cond = threading.Condition()
        self._http: HttpServer | None = None
        self._http_thread: threading.Thread | None = None
        self._grpc: Any = None  # grpc.Server; grpc is imported lazily, so no static type here
        self._grpc_pool: ThreadPoolExecutor | None = None
        self._ports: dict[str, int] = {}
        self._faults: list[Fault] = []
        self._refused = 0
        self._partial: list[tuple[int, str]] = []
        self._partial_spans: list[tuple[int, str]] = []
        self._delay = 0.0
        self._log_request_sizes: list[int] = []

    def start(self) -> OtlpReceiver:
        if self._ports:
            raise RuntimeError("OtlpReceiver already started")
        try:
            if self._want_http is not None:
                self._start_http(self._want_http)
            if self._want_grpc is not None:
                self._start_grpc(self._want_grpc)
        except BaseException:
            self.stop()  # don't leak the half that did start
            raise
        return self

    def _start_http(self, port: int) -> None:
        try:
            self._http = HttpServer((self._host, port), self, self._limits)
        except OSError as exc:
            raise OSError(
                exc.errno, f"OTLP receiver: cannot bind HTTP on {self._host}:{port}: {exc.strerror}"
            ) from exc
        self._ports["http"] = self._http.server_address[1]
        if self._tls is not None:
            # The handshake happens on the handler's thread, so a bad client cannot stall accept.
            self._http.socket = self._tls.ssl_context().wrap_socket(
                self._http.socket, server_side=True, do_handshake_on_connect=False
            )
        self._http_thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
            name="otlp-receiver-http",
            daemon=True,
        )
        self._http_thread.start()

    def _start_grpc(self, port: int) -> None:
        import grpc  # lazily: importing this module must stay cheap and grpc-free
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

        receiver = self
        local_only = is_loopback(self._host)

        max_records = (self._limits or HttpLimits()).max_records

        def begin(context: Any, request: Any, signal: str) -> dict[str, str]:
            """An export's metadata as headers, once it may be answered (else it is aborted)."""
            # A call whose authority cannot be read is answered (a browser cannot speak gRPC:
            # this is a second fence), and tests/test_private_grpc.py fails.
            authority = call_authority(context) if local_only else None
            if authority is not None and not loopback_request(authority, None):
                # As the HTTP side: a name pointed at 127.0.0.1 is not this machine's program.
                context.abort(grpc.StatusCode.PERMISSION_DENIED, "forbidden authority")
            fault = receiver.next_fault()
            if fault is not None:
                context.abort(grpc.StatusCode[fault.grpc_code], "refused by the test receiver")
            try:
                records_in_message(request, signal, max_records)
            except TooManyRecords as exc:
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
            metadata = context.invocation_metadata()
            return {key.lower(): _metadata_value(value) for key, value in metadata}

        class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request: ExportLogsServiceRequest, context: Any) -> Any:
                headers = begin(context, request, "logs")
                receiver.accept_logs(decode_logs_request(request, "grpc", headers))
                return receiver.logs_response(request.ByteSize())

        class _MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: ExportMetricsServiceRequest, context: Any) -> Any:
                metrics = decode_metrics_request(
                    request, "grpc", begin(context, request, "metrics")
                )
                # grpc hands over the parsed message: its encoding stands in for the raw body.
                receiver.accept_metrics(metrics, request.SerializeToString())
                return ExportMetricsServiceResponse()

        class _TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: ExportTraceServiceRequest, context: Any) -> Any:
                headers = begin(context, request, "traces")
                receiver.accept_spans(decode_traces_request(request, "grpc", headers))
                return receiver.spans_response()

        self._grpc_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-receiver-grpc")
        # gRPC sets SO_REUSEPORT by default, which would let a second server "share" a busy port.
        self._grpc = grpc.server(self._grpc_pool, options=[("grpc.so_reuseport", 0)])
        # The generated *_grpc module is untyped; going through Any keeps mypy --strict quiet.
        add_servicer: Any = logs_service_pb2_grpc.add_LogsServiceServicer_to_server
        add_servicer(_LogsServicer(), self._grpc)
        add_metrics: Any = metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server
        add_metrics(_MetricsServicer(), self._grpc)
        add_traces: Any = trace_service_pb2_grpc.add_TraceServiceServicer_to_server
        add_traces(_TraceServicer(), self._grpc)
        address = f"{self._host}:{port}"
        if port:
            # grpc's core logs a multi-line error on stderr for a busy port: find out first.
            try:
                family = socket.getaddrinfo(self._host, port)[0][0]
                with socket.socket(family) as probe:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as grpc does
                    probe.bind((self._host, port))
            except OSError as exc:
                raise OSError(
                    exc.errno, f"OTLP receiver: cannot bind gRPC on {address}: {exc.strerror}"
                ) from exc
        try:
            if self._tls is None:
                bound = int(self._grpc.add_insecure_port(address))
            else:
                credentials = grpc.ssl_server_credentials(
                    [(self._tls.private_key, self._tls.certificate)],
                    root_certificates=self._tls.client_ca,
                    require_client_auth=self._tls.client_ca is not None,
                )
                bound = int(self._grpc.add_secure_port(address, credentials))
        except RuntimeError:  # grpcio >= 1.5x raises instead of returning 0
            bound = 0
        if bound == 0:
            raise OSError(errno.EADDRINUSE, f"OTLP receiver: cannot bind gRPC on {address}: in use")
        self._ports["grpc"] = bound
        self._grpc.start()

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._http_thread is not None:
            self._http_thread.join(timeout=2.0)
            self._http_thread = None
        if self._grpc is not None:
            self._grpc.stop(grace=0.5).wait(timeout=2.0)
            self._grpc = None
        if self._grpc_pool is not None:
            self._grpc_pool.shutdown(wait=False)
            self._grpc_pool = None
        self._ports = {}

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _port(self, protocol: str) -> int:
        if protocol not in self._ports:
            raise ValueError(f"OTLP receiver: {protocol} is not started")
        return self._ports[protocol]

    @property
    def http_port(self) -> int:
        return self._port("http")

    @property
    def grpc_port(self) -> int:
        return self._port("grpc")

    @property
    def http_statuses(self) -> dict[int, int]:
        """How many HTTP requests were answered with each status so far (a request the
        receiver could not parse, such as two clients' bytes interleaved on one connection,
        is answered 400)."""
        return self._http.statuses if self._http is not None else {}

    @property
    def http_connections(self) -> int:
        """How many HTTP connections were accepted so far (each carries requests until the
        client closes it or it stays idle for `HttpLimits.idle_seconds`)."""
        return self._http.connections if self._http is not None else 0

    @property
    def _scheme(self) -> str:
        return "http" if self._tls is None else "https"

    @property
    def logs_endpoint(self) -> str:
        """The HTTP logs URL, for an `otlp-http` events exporter."""
        return f"{self._scheme}://{self._host}:{self.http_port}{LOGS_PATH}"

    @property
    def http_endpoint(self) -> str:
        """The earlier name of `logs_endpoint`."""
        return self.logs_endpoint

    @property
    def metrics_endpoint(self) -> str:
        """The HTTP metrics URL (gRPC serves metrics on `grpc_endpoint`)."""
        return f"http://{self._host}:{self.http_port}{METRICS_PATH}"

    @property
    def traces_endpoint(self) -> str:
        """The HTTP traces URL, for an `otlp-http` trace exporter."""
        return f"{self._scheme}://{self._host}:{self.http_port}{TRACES_PATH}"

    @property
    def grpc_endpoint(self) -> str:
        return f"{self._scheme}://{self._host}:{self.grpc_port}"

    @property
    def logs(self) -> list[ReceivedLog]:
        with self._cond:
            return list(self._logs)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedLog]:
        """Block until at least ``count`` logs arrived or ``timeout`` passed; return them."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._logs) >= count, timeout=timeout)
            return list(self._logs)

    @property
    def spans(self) -> list[ReceivedSpan]:
        """Every span of every export, in arrival order."""
        with self._cond:
            return list(self._spans)

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        """Block until at least ``count`` spans arrived or ``timeout`` passed; return them."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._spans) >= count, timeout=timeout)
            return list(self._spans)

    def fail_next(self, count: int, fault: Fault | None = None) -> None:
        """Refuse the next `count` export requests (logs or metrics, HTTP or gRPC) with `fault`."""
        with self._cond:
            self._faults.extend([fault or Fault()] * count)

    @property
    def refused(self) -> int:
        """How many export requests were refused by `fail_next` so far."""
        with self._cond:
            return self._refused

    def reject_next(self, rejected: int, message: str) -> None:
        """Answer the next logs export with a partial success: `rejected` of its records
        refused, with `message` (as a collector with a full pipeline or a bad record does)."""
        with self._cond:
            self._partial.append((rejected, message))

    def reject_next_spans(self, rejected: int, message: str) -> None:
        """Answer the next traces export with a partial success: `rejected` of its spans
        refused, with `message`."""
        with self._cond:
            self._partial_spans.append((rejected, message))

    def spans_response(self) -> ExportTraceServiceResponse:
        """The answer to one received traces export."""
        with self._cond:
            partial = self._partial_spans.pop(0) if self._partial_spans else None
        response = ExportTraceServiceResponse()
        if partial is not None:
            response.partial_success.rejected_spans = partial[0]
            response.partial_success.error_message = partial[1]
        return response

    def slow_down(self, seconds: float) -> None:
        """Take `seconds` over every logs export from now on, as a busy collector does."""
        with self._cond:
            self._delay = seconds

    @property
    def log_request_sizes(self) -> list[int]:
        """The size in bytes of each logs export request received, in order."""
        with self._cond:
            return list(self._log_request_sizes)

    def logs_response(self, size: int) -> ExportLogsServiceResponse:
        """The answer to one received logs export of `size` bytes (after any slow-down)."""
        with self._cond:
            if self._keep:
                self._log_request_sizes.append(size)
            delay = self._delay
            partial = self._partial.pop(0) if self._partial else None
        if delay:
            time.sleep(delay)
        response = ExportLogsServiceResponse()
        if partial is not None:
            response.partial_success.rejected_log_records = partial[0]
            response.partial_success.error_message = partial[1]
        return response

    def next_fault(self) -> Fault | None:
        with self._cond:
            if not self._faults:
                return None
            self._refused += 1
            return self._faults.pop(0)

    @property
    def metrics(self) -> list[Metric]:
        """Every metric of every export, in arrival order."""
        with self._cond:
            return list(self._metrics)

    @property
    def metric_bodies(self) -> list[bytes]:
        """Each metrics request as it arrived (decompressed), to search for what must not leak."""
        with self._cond:
            return list(self._metric_bodies)

    def wait_for_metrics(self, count: int, timeout: float = 10.0) -> list[Metric]:
        """Block until at least ``count`` metrics arrived or ``timeout`` passed; return them."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._metrics) >= count, timeout=timeout)
            return list(self._metrics)

    def clear(self) -> None:
        with self._cond:
            self._logs.clear()
            self._metrics.clear()
            self._metric_bodies.clear()
            self._spans.clear()

    def accept_metrics(self, received: list[Metric], body: bytes) -> None:
        with self._cond:
            if self._keep:
                self._metrics.extend(received)
                self._metric_bodies.append(body)
            self._cond.notify_all()
        if self._on_metrics is None or not received:
            return
        try:
            self._on_metrics(received)
        except Exception:
            _logger.exception("OTLP receiver: on_metrics callback failed")

    def accept_spans(self, received: list[ReceivedSpan]) -> None:
        with self._cond:
            if self._keep:
                self._spans.extend(received)
            self._cond.notify_all()
        if self._on_span is None:
            return
        for span in received:
            try:
                self._on_span(span)
            except Exception:
                _logger.exception("OTLP receiver: on_span callback failed")

    def accept_logs(self, received: list[ReceivedLog]) -> None:
        with self._cond:
            if self._keep:
                self._logs.extend(received)
            self._cond.notify_all()
        if self._on_log is None:
            return
        for log in received:  # outside the lock: a slow callback must not block readers
            try:
                self._on_log(log)
            except Exception:
                _logger.exception("OTLP receiver: on_log callback failed")
