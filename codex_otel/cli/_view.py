"""`codex-otel view`: a page on 127.0.0.1 showing sessions as pictures.

What it shows comes from an embedded OTLP receiver (HTTP and gRPC, as `receive` listens)
and/or OTLP/JSON lines files (the `otlp-file` exporter's), which are read whole and then
followed as they grow. The page (`static/`, shipped in the package: no CDN, no build step)
polls `/api/state` and redraws when the store's version moved.
"""

from __future__ import annotations

import base64
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from .._errors import CliError
from ..testing import Metric, OtlpReceiver, ReceivedLog, ReceivedSpan
from ..testing._otlp_decode import _key_values, decode_logs_request, decode_metrics_request
from ._view_model import Limits, SpanRecord, ViewStore

__all__ = ["FileFollower", "ViewServer", "read_otlp_line", "run_view"]

_STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/view.js": ("view.js", "text/javascript; charset=utf-8"),
    "/static/view.css": ("view.css", "text/css; charset=utf-8"),
}
_ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_FOLLOW_INTERVAL_S = 0.5
_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _static(name: str) -> bytes:
    return (resources.files("codex_otel.cli") / "static" / name).read_bytes()


def _hex_ids(node: object) -> None:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)


def _spans(request: Any) -> list[SpanRecord]:
    return [
        SpanRecord(
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_span_id=span.parent_span_id.hex(),
            name=span.name,
            start_unix_nano=span.start_time_unix_nano,
            end_unix_nano=span.end_time_unix_nano,
            attributes=_key_values(span.attributes),
            status_code=int(span.status.code),
            status_message=span.status.message,
        )
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def read_otlp_line(line: bytes, store: ViewStore) -> bool:
    """One OTLP/JSON line (an export request of any signal) into `store`; False if it is not
    one (then nothing is added)."""
    try:
        document = json.loads(line)
        if not isinstance(document, dict):
            return False
        _hex_ids(document)
        if "resourceLogs" in document:
            logs = json_format.ParseDict(
                document, ExportLogsServiceRequest(), ignore_unknown_fields=True
            )
            ids = [
                (record.trace_id.hex(), record.span_id.hex())
                for resource_logs in logs.resource_logs
                for scope_logs in resource_logs.scope_logs
                for record in scope_logs.log_records
            ]
            store.add_events(decode_logs_request(logs, "file", {}), ids)
        elif "resourceMetrics" in document:
            metrics = json_format.ParseDict(
                document, ExportMetricsServiceRequest(), ignore_unknown_fields=True
            )
            store.add_metrics(decode_metrics_request(metrics, "file", {}))
        elif "resourceSpans" in document:
            traces = json_format.ParseDict(
                document, ExportTraceServiceRequest(), ignore_unknown_fields=True
            )
            store.add_spans(_spans(traces))
        else:
            return False
    except (ValueError, json_format.ParseError):
        return False
    return True


class FileFollower:
    """Reads OTLP/JSON lines files whole, then the lines appended to them, until stopped."""

    def __init__(self, paths: list[Path], store: ViewStore) -> None:
        self._paths = paths
        self._store = store
        self._offsets = dict.fromkeys(paths, 0)
        self._skipped = dict.fromkeys(paths, 0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def read_available(self) -> None:
        """Every complete line not read yet, of every file."""
        for path in self._paths:
            try:
                with path.open("rb") as file:
                    if file.seek(0, 2) < self._offsets[path]:
                        self._offsets[path] = 0  # truncated or replaced: read it anew
                    file.seek(self._offsets[path])
                    data = file.read()
            except OSError:
                continue
            end = data.rfind(b"\n") + 1  # a line still being written waits for its newline
            skipped = 0
            for line in data[:end].splitlines():
                if line.strip() and not read_otlp_line(line, self._store):
                    skipped += 1
            self._offsets[path] += end
            if skipped:
                self._skipped[path] += skipped
                self._store.add_note(
                    f"{path}: {self._skipped[path]} lines are not OTLP/JSON and were skipped"
                )

    def start(self) -> None:
        self.read_available()
        self._thread = threading.Thread(target=self._follow, name="codex-otel-view-files")
        self._thread.daemon = True
        self._thread.start()

    def _follow(self) -> None:
        while not self._stop.wait(_FOLLOW_INTERVAL_S):
            self.read_available()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    server: ViewServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the page polls every second: no access log

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.send_header("cache-control", "no-store")
        self.send_header("x-content-type-options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        # Another site's page in the same browser must not read sessions through a name it
        # points at 127.0.0.1 (DNS rebinding): only local host names are served.
        host = (self.headers.get("host") or "").rsplit(":", 1)[0]
        if host not in _ALLOWED_HOSTS:
            self._send(403, b"forbidden host\n", "text/plain")
            return
        url = urlsplit(self.path)
        if url.path == "/api/state":
            since = parse_qs(url.query).get("since", [""])[0]
            self._send(200, self.server.state_json(since), "application/json")
            return
        if url.path in _STATIC:
            name, content_type = _STATIC[url.path]
            self._send(200, _static(name), content_type)
            return
        self._send(404, b"not found\n", "text/plain")


class ViewServer(ThreadingHTTPServer):
    """The page and its `/api/state`, on 127.0.0.1."""

    daemon_threads = True

    def __init__(self, store: ViewStore, port: int = 0) -> None:
        self.store = store
        self._cache: tuple[int, bytes] = (-1, b"")
        self._cache_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def state_json(self, since: str) -> bytes:
        version = self.store.version
        if since == str(version):
            return json.dumps({"version": version, "unchanged": True}).encode()
        with self._cache_lock:
            if self._cache[0] != version:
                state = self.store.snapshot()
                body = json.dumps(state, ensure_ascii=False, default=str).encode()
                self._cache = (state["version"], body)
            return self._cache[1]

    def start(self) -> ViewServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="codex-otel-view"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


@contextlib.contextmanager
def serving(
    store: ViewStore,
    *,
    port: int = 0,
    files: list[Path] | None = None,
    receiver: OtlpReceiver | None = None,
) -> Iterator[ViewServer]:
    """The page, the files followed and the receiver feeding the store, for a `with` block."""
    follower = FileFollower(files or [], store)
    server = ViewServer(store, port)
    try:
        if files:
            follower.start()
        if receiver is not None:
            receiver.start()
        server.start()
        yield server
    finally:
        server.stop()
        follower.stop()
        if receiver is not None:
            receiver.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def live_receiver(
    store: ViewStore, *, host: str, http_port: int | None, grpc_port: int | None
) -> OtlpReceiver:
    """A receiver whose events and metrics go to the store as they arrive."""

    def on_log(log: ReceivedLog) -> None:
        store.add_events([log], [(log.trace_id, log.span_id)])

    def on_metrics(metrics: list[Metric]) -> None:
        store.add_metrics(metrics)

    def on_span(span: ReceivedSpan) -> None:
        store.add_spans([live_span(span)])

    return OtlpReceiver(
        host=host,
        http_port=http_port,
        grpc_port=grpc_port,
        on_log=on_log,
        on_metrics=on_metrics,
        on_span=on_span,
    )


# OTLP's Status.code, as the page reads it, by the decoded name.
_STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


def live_span(span: ReceivedSpan) -> SpanRecord:
    """A span as the live receiver decoded it, as the waterfall needs it."""
    return SpanRecord(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        name=span.name,
        start_unix_nano=span.start_time_unix_nano,
        end_unix_nano=span.end_time_unix_nano,
        attributes=dict(span.attributes),
        status_code=_STATUS.get(span.status_code, 0),
        status_message=span.status_message,
    )


def run_view(
    *,
    files: list[Path],
    listen: bool,
    host: str,
    port: int,
    http_port: int | None,
    grpc_port: int | None,
    limits: Limits,
    out: TextIO,
    ready: Callable[[ViewServer], None] | None = None,
) -> int:
    for path in files:
        if not path.is_file():
            raise CliError(f"{path}: no such file")
    store = ViewStore(limits)
    receiver = None
    if listen:
        if http_port is None and grpc_port is None:
            raise CliError("nothing to listen on: --no-http and --no-grpc together")
        receiver = live_receiver(store, host=host, http_port=http_port, grpc_port=grpc_port)
    for path in files:
        store.add_source(f"file {path} (followed as it grows)")
    try:
        context = serving(store, port=port, files=files, receiver=receiver)
        server = context.__enter__()
    except OSError as exc:
        raise CliError(str(exc)) from None
    try:
        if receiver is not None:
            listening = []
            if http_port is not None:
                listening.append(f"OTLP/HTTP {receiver.logs_endpoint.rsplit('/v1/', 1)[0]}")
            if grpc_port is not None:
                listening.append(f"OTLP/gRPC {receiver.grpc_endpoint}")
            store.add_source("live: " + ", ".join(listening))
            print(f"listening: {', '.join(listening)}", file=out)
        for path in files:
            print(f"reading: {path}", file=out)
        print(f"viewer: {server.url} (Ctrl-C stops)", file=out, flush=True)
        if ready is not None:
            ready(server)
        signal.signal(signal.SIGTERM, _interrupt)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    finally:
        context.__exit__(None, None, None)
    counts = store.snapshot()["counts"]
    print(
        f"stopped: showed {counts['events']} events, {counts['series']} metric series, "
        f"{counts['spans']} spans",
        file=sys.stderr,
        flush=True,
    )
    return 0
