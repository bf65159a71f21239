"""A real, local OTLP logs and metrics receiver: HTTP (protobuf and JSON) and gRPC.

Used by the test-suite, ``codex-otel demo`` and ``codex-otel receive``: the exporters under
test talk to it over the wire exactly as they would to a collector, and it decodes what
arrives into flat :class:`ReceivedLog` and :class:`~codex_otel._metric_data.Metric` values.
"""

from __future__ import annotations

import base64
import errno
import gzip
import logging
import os
import socket
import ssl
import struct
import sys
import tempfile
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from ._metric_data import Metric
from ._otlp_decode import (
    ReceivedLog,
    decode_logs_request,
    decode_metrics_request,
    parse_otlp_json,
    parse_otlp_json_into,
)

_logger = logging.getLogger(__name__)

_LOGS_PATH = "/v1/logs"
_METRICS_PATH = "/v1/metrics"
_PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
_JSON_TYPE = "application/json"


@dataclass(frozen=True)
class Fault:
    """How the receiver refuses one export request, as a misbehaving collector would.

    `http_status` (with `retry_after` as the `Retry-After` header) answers an HTTP export;
    `grpc_code` (a `grpc.StatusCode` name) aborts a gRPC one; `reset` drops the connection
    of an HTTP export with a TCP reset after reading the request, before any answer.
    """

    http_status: int = 503
    retry_after: str | None = None
    grpc_code: str = "UNAVAILABLE"
    reset: bool = False


@dataclass(frozen=True)
class ServerTls:
    """TLS for the receiver: its PEM certificate chain and key; with `client_ca`, clients
    must present a certificate signed by it (mutual TLS)."""

    certificate: bytes
    private_key: bytes
    client_ca: bytes | None = None

    def __repr__(self) -> str:  # never show the key
        return f"ServerTls(mutual={self.client_ca is not None})"

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # load_cert_chain only reads files: hand it a private temporary copy.
        with tempfile.TemporaryDirectory() as folder:
            cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
            with open(cert, "wb") as out:
                out.write(self.certificate)
            with open(key, "wb") as out:
                out.write(self.private_key)
            context.load_cert_chain(cert, key)
        if self.client_ca is not None:
            context.load_verify_locations(cadata=self.client_ca.decode("ascii"))
            context.verify_mode = ssl.CERT_REQUIRED
        return context


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client must never block interpreter exit

    def __init__(self, address: tuple[str, int], receiver: OtlpReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _HttpHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that failed its TLS handshake or dropped the connection is the client's
        # business (and often a test's point): no traceback on stderr for those.
        if isinstance(sys.exc_info()[1], OSError):
            _logger.debug("OTLP receiver: connection from %s failed", client_address)
            return
        super().handle_error(request, client_address)


class _HttpHandler(BaseHTTPRequestHandler):
    server: _HttpServer

    _was_reset = False

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the default writes a line per request to stderr

    def finish(self) -> None:
        if not self._was_reset:  # a reset socket has nothing left to flush
            super().finish()

    def _refuse(self, fault: Fault) -> None:
        if fault.reset:
            # SO_LINGER 0: close() sends RST instead of FIN, the client sees a reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self._was_reset = True
            self.close_connection = True
            return
        self.send_response(fault.http_status)
        if fault.retry_after is not None:
            self.send_header("Retry-After", fault.retry_after)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _reply(self, status: int, content_type: str = "text/plain", payload: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        on_path = self.path.split("?", 1)[0] in (_LOGS_PATH, _METRICS_PATH)
        self._reply(405 if on_path else 404)

    def do_POST(self) -> None:
        # Read the body first, whatever happens: closing with unread bytes resets the socket
        # and the client would see a connection error instead of our status.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        if path not in (_LOGS_PATH, _METRICS_PATH):
            return self._reply(404)
        fault = self.server.receiver._next_fault()
        if fault is not None:
            return self._refuse(fault)
        content_type = self.headers.get_content_type()
        if content_type not in (*_PROTOBUF_TYPES, _JSON_TYPE):
            return self._reply(415)
        is_json = content_type == _JSON_TYPE
        try:
            encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            if path == _METRICS_PATH:
                metrics_request = (
                    parse_otlp_json_into(body, ExportMetricsServiceRequest())
                    if is_json
                    else ExportMetricsServiceRequest.FromString(body)
                )
            elif is_json:
                request = parse_otlp_json(body)
            else:
                request = ExportLogsServiceRequest.FromString(body)
        except (DecodeError, json_format.ParseError, ValueError, OSError, EOFError, zlib.error):
            return self._reply(400)
        headers = {key.lower(): value for key, value in self.headers.items()}
        transport = "http/json" if is_json else "http/protobuf"
        response: Message
        if path == _METRICS_PATH:
            try:
                metrics = decode_metrics_request(metrics_request, transport, headers)
            except ValueError:  # a metric kind this package never sends
                return self._reply(400)
            self.server.receiver._accept_metrics(metrics, body)
            response = ExportMetricsServiceResponse()
        else:
            self.server.receiver._accept(decode_logs_request(request, transport, headers))
            response = ExportLogsServiceResponse()
        if is_json:
            self._reply(200, _JSON_TYPE, json_format.MessageToJson(response).encode())
        else:
            self._reply(200, content_type, response.SerializeToString())


def _metadata_value(value: str | bytes) -> str:
    # "-bin" metadata arrives as bytes; base64 is how it travels on the wire.
    return value if isinstance(value, str) else base64.b64encode(value).decode("ascii")


class OtlpReceiver:
    """Local OTLP logs and metrics endpoint.

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
    ) -> None:
        self._host = host
        self._tls = tls
        self._want_http, self._want_grpc = http_port, grpc_port
        self._on_log = on_log
        self._logs: list[ReceivedLog] = []
        self._metrics: list[Metric] = []
        self._metric_bodies: list[bytes] = []
        self._cond = threading.Condition()
        self._http: _HttpServer | None = None
        self._http_thread: threading.Thread | None = None
        self._grpc: Any = None  # grpc.Server; grpc is imported lazily, so no static type here
        self._grpc_pool: ThreadPoolExecutor | None = None
        self._ports: dict[str, int] = {}
        self._faults: list[Fault] = []
        self._refused = 0

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
            self._http = _HttpServer((self._host, port), self)
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

        receiver = self

        class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
            def Export(self, request: ExportLogsServiceRequest, context: Any) -> Any:
                fault = receiver._next_fault()
                if fault is not None:
                    context.abort(grpc.StatusCode[fault.grpc_code], "refused by the test receiver")
                metadata = context.invocation_metadata()
                headers = {key.lower(): _metadata_value(value) for key, value in metadata}
                receiver._accept(decode_logs_request(request, "grpc", headers))
                return ExportLogsServiceResponse()

        class _MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: ExportMetricsServiceRequest, context: Any) -> Any:
                fault = receiver._next_fault()
                if fault is not None:
                    context.abort(grpc.StatusCode[fault.grpc_code], "refused by the test receiver")
                metadata = context.invocation_metadata()
                headers = {key.lower(): _metadata_value(value) for key, value in metadata}
                metrics = decode_metrics_request(request, "grpc", headers)
                # grpc hands over the parsed message: its encoding stands in for the raw body.
                receiver._accept_metrics(metrics, request.SerializeToString())
                return ExportMetricsServiceResponse()

        self._grpc_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="otlp-receiver-grpc")
        # gRPC sets SO_REUSEPORT by default, which would let a second server "share" a busy port.
        self._grpc = grpc.server(self._grpc_pool, options=[("grpc.so_reuseport", 0)])
        # The generated *_grpc module is untyped; going through Any keeps mypy --strict quiet.
        add_servicer: Any = logs_service_pb2_grpc.add_LogsServiceServicer_to_server
        add_servicer(_LogsServicer(), self._grpc)
        add_metrics: Any = metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server
        add_metrics(_MetricsServicer(), self._grpc)
        address = f"{self._host}:{port}"
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
    def _scheme(self) -> str:
        return "http" if self._tls is None else "https"

    @property
    def logs_endpoint(self) -> str:
        """The HTTP logs URL, for an `otlp-http` events exporter."""
        return f"{self._scheme}://{self._host}:{self.http_port}{_LOGS_PATH}"

    @property
    def http_endpoint(self) -> str:
        """The earlier name of `logs_endpoint`."""
        return self.logs_endpoint

    @property
    def metrics_endpoint(self) -> str:
        """The HTTP metrics URL (gRPC serves metrics on `grpc_endpoint`)."""
        return f"http://{self._host}:{self.http_port}{_METRICS_PATH}"

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

    def fail_next(self, count: int, fault: Fault | None = None) -> None:
        """Refuse the next `count` export requests (logs or metrics, HTTP or gRPC) with `fault`."""
        with self._cond:
            self._faults.extend([fault or Fault()] * count)

    @property
    def refused(self) -> int:
        """How many export requests were refused by `fail_next` so far."""
        with self._cond:
            return self._refused

    def _next_fault(self) -> Fault | None:
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

    def _accept_metrics(self, received: list[Metric], body: bytes) -> None:
        with self._cond:
            self._metrics.extend(received)
            self._metric_bodies.append(body)
            self._cond.notify_all()

    def _accept(self, received: list[ReceivedLog]) -> None:
        with self._cond:
            self._logs.extend(received)
            self._cond.notify_all()
        if self._on_log is None:
            return
        for log in received:  # outside the lock: a slow callback must not block readers
            try:
                self._on_log(log)
            except Exception:
                _logger.exception("OTLP receiver: on_log callback failed")
