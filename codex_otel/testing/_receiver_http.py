"""The receiver's OTLP/HTTP side: one handler decoding protobuf and JSON, logs and metrics."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import sys
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

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
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ._metric_data import Metric
from ._otlp_decode import (
    ReceivedLog,
    ReceivedSpan,
    decode_logs_request,
    decode_metrics_request,
    decode_traces_request,
    otlp_json_into,
)
from ._record_count import TooManyRecords, records_in_json, records_in_protobuf
from ._server_setup import Fault, HttpLimits, is_loopback, loopback_request

__all__ = ["LOGS_PATH", "METRICS_PATH", "TRACES_PATH", "HttpServer", "ReceiverSink"]

_logger = logging.getLogger("codex_otel.testing")

LOGS_PATH = "/v1/logs"
METRICS_PATH = "/v1/metrics"
TRACES_PATH = "/v1/traces"
_PATHS = (LOGS_PATH, METRICS_PATH, TRACES_PATH)
_PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
_JSON_TYPE = "application/json"
_ENCODINGS = ("identity", "gzip", "deflate")
_SIGNALS = {LOGS_PATH: "logs", METRICS_PATH: "metrics", TRACES_PATH: "traces"}


class ReceiverSink(Protocol):
    """What the HTTP side hands decoded exports to (the receiver)."""

    def next_fault(self) -> Fault | None: ...

    def accept_logs(self, received: list[ReceivedLog]) -> None: ...

    def logs_response(self, size: int) -> ExportLogsServiceResponse: ...

    def accept_metrics(self, received: list[Metric], body: bytes) -> None: ...

    def accept_spans(self, received: list[ReceivedSpan]) -> None: ...

    def spans_response(self) -> ExportTraceServiceResponse: ...


class HttpServer(ThreadingHTTPServer):
    """HTTP/1.1 with connections kept alive between requests, as a collector's are (clients
    pool them: what a forked child does with its parent's pooled connections shows only
    then), at most `limits.max_connections` at once, each closed after `limits.idle_seconds`
    of silence, and all of them at `server_close()`."""

    daemon_threads = True  # a stuck client must never block interpreter exit

    def __init__(
        self,
        address: tuple[str, int],
        receiver: ReceiverSink,
        limits: HttpLimits | None = None,
    ) -> None:
        self.receiver = receiver
        self.limits = limits or HttpLimits()
        # Listening on loopback only: answer local programs only (see `loopback_request`).
        # Asked to listen beyond, senders name this host as they please.
        self.local_only = is_loopback(address[0])
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._statuses: Counter[int] = Counter()
        self._accepted = 0
        super().__init__(address, _HttpHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            admitted = len(self._open) < self.limits.max_connections
            if admitted:
                self._open.add(request)
                self._accepted += 1
        if not admitted:
            _logger.debug("OTLP receiver: too many connections, %s closed", client_address)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def close_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().close_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            # Wakes a handler waiting for the next request: it sees the end and closes.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def answered(self, status: int) -> None:
        with self._open_lock:
            self._statuses[int(status)] += 1  # an HTTPStatus from `send_error`

    @property
    def statuses(self) -> dict[int, int]:
        """How many requests were answered with each HTTP status so far."""
        with self._open_lock:
            return dict(self._statuses)

    @property
    def connections(self) -> int:
        """How many connections were accepted so far."""
        with self._open_lock:
            return self._accepted

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that failed its TLS handshake or dropped the connection is the client's
        # business (and often a test's point): no traceback on stderr for those.
        if isinstance(sys.exc_info()[1], OSError):
            _logger.debug("OTLP receiver: connection from %s failed", client_address)
            return
        super().handle_error(request, client_address)


class _TooLarge(Exception):
    pass


_INFLATE_STEP = 1 << 20


def _inflate(body: bytes, encoding: str, limit: int) -> bytearray:
    """A gzip or deflate body inflated, a step at a time, refused as soon as it passes `limit`
    bytes: a bomb costs at most `limit` (one buffer, never a second copy)."""
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    data = bytearray()
    pending = body
    while not inflater.eof:
        step = inflater.decompress(pending, _INFLATE_STEP)
        data += step
        if len(data) > limit:
            raise _TooLarge
        pending = inflater.unconsumed_tail
        if not step and not pending:
            raise ValueError("truncated compressed body")
    return data


class _HttpHandler(BaseHTTPRequestHandler):
    server: HttpServer

    # Every answer carries a Content-Length (`send_error`'s too) or closes the connection.
    protocol_version = "HTTP/1.1"
    _was_reset = False

    def setup(self) -> None:
        super().setup()
        # A client that stops sending, mid-request or between requests, frees its thread.
        self.connection.settimeout(self.server.limits.idle_seconds)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the default writes a line per request to stderr

    def send_response(self, code: int, message: str | None = None) -> None:
        self.server.answered(code)
        super().send_response(code, message)

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

    def _local(self) -> bool:
        if not self.server.local_only or loopback_request(
            self.headers.get("Host"), self.headers.get("Origin")
        ):
            return True
        self.close_connection = True
        self._reply(403, payload=b"forbidden host or origin\n")
        return False

    def do_GET(self) -> None:
        if not self._local():
            return
        on_path = self.path.split("?", 1)[0] in _PATHS
        self._reply(405 if on_path else 404)

    def _body(self) -> bytes | None:
        """The body, or None once answered: no length (411), a bad one or two (400), too long
        (413)."""
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or ()}
        if len(lengths) > 1:  # which one frames the body? (request smuggling)
            self.close_connection = True
            self._reply(400, payload=b"conflicting Content-Length headers\n")
            return None
        length = lengths.pop() if lengths else None
        if length is None:
            chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
            if chunked:
                self.close_connection = True
                self._reply(411)
                return None
            return b""
        if not length.strip().isdigit():
            self.close_connection = True
            self._reply(400, payload=b"bad Content-Length\n")
            return None
        if int(length) > self.server.limits.max_body_bytes:
            # Not read: the connection is closed after the answer.
            self.close_connection = True
            self._reply(413, payload=b"request body too large\n")
            return None
        # Read the body first, whatever happens: closing with unread bytes resets the socket
        # and the client would see a connection error instead of our status.
        return self.rfile.read(int(length))

    def do_POST(self) -> None:
        if not self._local():
            return
        sent = self._body()
        if sent is None:
            return
        body: bytes | bytearray = sent
        path = self.path.split("?", 1)[0]
        if path not in _PATHS:
            return self._reply(404)
        fault = self.server.receiver.next_fault()
        if fault is not None:
            return self._refuse(fault)
        content_type = self.headers.get_content_type()
        if content_type not in (*_PROTOBUF_TYPES, _JSON_TYPE):
            return self._reply(415)
        is_json = content_type == _JSON_TYPE
        encoding = (self.headers.get("Content-Encoding") or "").strip().lower() or "identity"
        if encoding not in _ENCODINGS:
            return self._reply(415, payload=b"Content-Encoding: gzip, deflate or none\n")
        limits = self.server.limits
        signal = _SIGNALS[path]
        try:
            if encoding != "identity":
                body = _inflate(sent, encoding, limits.max_inflated_bytes)
            if is_json:
                if body.count(b"{") > limits.max_json_objects:
                    raise TooManyRecords(f"more than {limits.max_json_objects} JSON objects")
                document = json.loads(body)
                records_in_json(document, signal, limits.max_records)
            else:
                records_in_protobuf(body, signal, limits.max_records)
            if path == TRACES_PATH:
                traces_request = (
                    otlp_json_into(document, ExportTraceServiceRequest())
                    if is_json
                    else ExportTraceServiceRequest.FromString(body)
                )
            elif path == METRICS_PATH:
                metrics_request = (
                    otlp_json_into(document, ExportMetricsServiceRequest())
                    if is_json
                    else ExportMetricsServiceRequest.FromString(body)
                )
            elif is_json:
                request = otlp_json_into(document, ExportLogsServiceRequest())
            else:
                request = ExportLogsServiceRequest.FromString(body)
        except _TooLarge:
            return self._reply(413, payload=b"request body inflates too large\n")
        except TooManyRecords as exc:
            return self._reply(413, payload=f"{exc}\n".encode())
        # RecursionError: JSON nested deeper than the parser goes is bad input, not a crash.
        except (DecodeError, json_format.ParseError, ValueError, RecursionError, zlib.error):
            return self._reply(400)
        headers = {key.lower(): value for key, value in self.headers.items()}
        transport = "http/json" if is_json else "http/protobuf"
        response: Message
        if path == TRACES_PATH:
            self.server.receiver.accept_spans(
                decode_traces_request(traces_request, transport, headers)
            )
            response = self.server.receiver.spans_response()
        elif path == METRICS_PATH:
            try:
                metrics = decode_metrics_request(metrics_request, transport, headers)
            except ValueError:  # a metric kind this package never sends
                return self._reply(400)
            self.server.receiver.accept_metrics(metrics, bytes(body))
            response = ExportMetricsServiceResponse()
        else:
            self.server.receiver.accept_logs(decode_logs_request(request, transport, headers))
            response = self.server.receiver.logs_response(len(body))
        if is_json:
            self._reply(200, _JSON_TYPE, json_format.MessageToJson(response).encode())
        else:
            self._reply(200, content_type, response.SerializeToString())
