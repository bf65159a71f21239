"""`codex-otel view`: a page on 127.0.0.1 showing sessions as pictures.

What it shows comes from an embedded OTLP receiver (HTTP and gRPC, as `receive` listens)
and/or OTLP/JSON lines files (the `otlp-file` exporter's), read line by line and then
followed as they grow (`_view_files`). The page (`static/`, shipped in the package: no CDN,
no build step) polls `/api/state` and redraws when the store's version moved.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qs, urlsplit

from .._errors import CliError
from ..testing import Metric
from ..testing._server_setup import loopback_request
from ._view_files import FileFollower, check_readable
from ._view_model import Limits, ViewStore, span_record
from ._view_pages import Filter, PageModel

if TYPE_CHECKING:  # imported when listening: a file alone needs no receiver (nor protobuf)
    from ..testing import OtlpReceiver, ReceivedLog, ReceivedSpan

__all__ = ["ViewServer", "run_view"]

_STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/draw.js": ("draw.js", "text/javascript; charset=utf-8"),
    "/static/turn.js": ("turn.js", "text/javascript; charset=utf-8"),
    "/static/view.js": ("view.js", "text/javascript; charset=utf-8"),
    "/static/view.css": ("view.css", "text/css; charset=utf-8"),
}


_LOADING_REBUILD_S = 5.0


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":")).encode()


def _static(name: str) -> bytes:
    return (resources.files("codex_otel.cli") / "static" / name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: ViewServer
    timeout = 30  # a client that stops sending mid-request frees its thread

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
        if not loopback_request(self.headers.get("host"), self.headers.get("origin")):
            self._send(403, b"forbidden host or origin\n", "text/plain")
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path.startswith("/api/"):
            try:
                body = self.server.api(url.path[5:], query)
            except Exception as exc:  # one view failed to build: the next poll is asked anew
                message = self.server.failed(exc)
                self._send(500, message.encode() + b"\n", "text/plain; charset=utf-8")
                return
            if body is None:
                self._send(404, b"not held\n", "text/plain")
            else:
                self._send(200, body, "application/json")
            return
        if url.path in _STATIC:
            name, content_type = _STATIC[url.path]
            self._send(200, _static(name), content_type)
            return
        self._send(404, b"not found\n", "text/plain")


class ViewServer(ThreadingHTTPServer):
    """The page and its `/api/state`, on 127.0.0.1."""

    daemon_threads = True

    def __init__(self, store: ViewStore, port: int = 0, err: TextIO | None = None) -> None:
        self.store = store
        self._err = err
        self._said: set[str] = set()  # the failures said on `err` (each once)
        self._model: PageModel | None = None
        self._built_at = 0.0
        # The unfiltered state of `_model`, and its JSON.
        self._state: tuple[PageModel | None, dict[str, Any], bytes] = (None, {}, b"")
        self._model_lock = threading.Lock()
        try:
            super().__init__(("127.0.0.1", port), _Handler)
        except OSError as exc:
            message = f"the page: cannot bind 127.0.0.1:{port}: {exc.strerror}"
            raise OSError(exc.errno, message) from exc
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def model(self, header: dict[str, Any] | None = None) -> PageModel:
        """The page's views of the store's current version (built once per version); while
        a file is read (as `header`, the store's, says), of a version up to 5 s older."""
        with self._model_lock:
            model = self._model
            if model is None or model.version != self.store.version:
                # While a file is read its version moves all the time: rebuilding for every
                # poll would take the reader's time (one GIL).
                header = header or self.store.header()
                loading = any(done < size for done, size in header["progress"].values())
                recent = time.monotonic() - self._built_at < _LOADING_REBUILD_S
                if model is not None and recent and loading:
                    return model
                model = self._model = PageModel(self.store.take())
                self._built_at = time.monotonic()
            return model

    def api(self, name: str, query: dict[str, list[str]]) -> bytes | None:
        """The JSON body of `/api/<name>?<query>`, or None for a 404."""

        def one(key: str, default: str = "") -> str:
            return query.get(key, [default])[0]

        only = Filter.of(query)
        since = one("since", "-1")
        since_version = int(since) if since.lstrip("-").isdigit() else -1
        if name == "state":
            # The header first: if it says the files are read, the model is of its version.
            header = self.store.header()
            version = header["version"]
            # (A filter's view is asked for anew when the filter changes: `since` is reset.)
            if since_version == version:
                return json.dumps({"version": version, "unchanged": True}).encode()
            model = self.model(header)
            if only:
                view = model.state(only)
            else:
                with self._model_lock:
                    if self._state[0] is not model:
                        view = model.state()
                        self._state = (model, view, _json(view))
                    view, body = self._state[1:]
                if model.version == version:
                    return body
            # While a file is read: the conversations of an earlier version, the header now
            # (its progress, its counts).
            return _json({**view, **header})
        model = self.model()
        if name == "conversation":
            open_keys = set(query.get("open", []))
            whole_keys = set(query.get("whole", []))
            found = model.conversation(one("id"), since_version, open_keys, only, whole_keys)
            return None if found is None else _json(found)
        if name == "item":
            item = model.item(one("kind"), one("id"))
            return None if item is None else _json(item)
        return None

    def failed(self, exc: Exception) -> str:
        """The page's answer to a view that failed to build; said on `err` once per failure."""
        message = f"the viewer failed to build this view: {type(exc).__name__}: {exc}"[:500]
        with self._model_lock:
            new = message not in self._said and len(self._said) < 100
            if new:
                self._said.add(message)
        if new and self._err is not None:
            print(f"codex-otel: {message}", file=self._err, flush=True)
        return message

    def start(self) -> ViewServer:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, name="codex-otel-view"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        # shutdown() waits for serve_forever to end: on a server never started it never does.
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()


@contextlib.contextmanager
def serving(
    store: ViewStore,
    *,
    port: int = 0,
    files: list[Path] | None = None,
    receiver: OtlpReceiver | None = None,
    err: TextIO | None = None,
) -> Iterator[ViewServer]:
    """The page, the files followed and the receiver feeding the store, for a `with` block.
    Whatever started is stopped again when a later part fails to start."""
    with contextlib.ExitStack() as stack:
        server = ViewServer(store, port, err)
        stack.callback(server.stop)
        if receiver is not None:
            receiver.start()
            stack.callback(receiver.stop)
        if files:
            follower = FileFollower(files, store, err)
            stack.callback(follower.stop)
            follower.start()
        server.start()
        yield server


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def live_receiver(
    store: ViewStore, *, host: str, http_port: int | None, grpc_port: int | None
) -> OtlpReceiver:
    """A receiver whose events and metrics go to the store as they arrive."""
    from ..testing import OtlpReceiver

    def on_log(log: ReceivedLog) -> None:
        store.add_events([log])

    def on_metrics(metrics: list[Metric]) -> None:
        store.add_metrics(metrics)

    def on_span(span: ReceivedSpan) -> None:
        store.add_spans([span_record(span, store.keep)])

    return OtlpReceiver(
        host=host,
        http_port=http_port,
        grpc_port=grpc_port,
        on_log=on_log,
        on_metrics=on_metrics,
        on_span=on_span,
        keep=False,  # the store keeps what the page shows, within the cap
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
        check_readable(path)
    store = ViewStore(limits)
    receiver = None
    if listen:
        if http_port is None and grpc_port is None:
            raise CliError("nothing to listen on: --no-http and --no-grpc together")
        receiver = live_receiver(store, host=host, http_port=http_port, grpc_port=grpc_port)
    for path in files:
        store.add_source(f"file {path} (followed as it grows)")
    try:
        context = serving(store, port=port, files=files, receiver=receiver, err=sys.stderr)
        server = context.__enter__()
    except OSError as exc:
        # strerror holds the receiver's own sentence; str() would prefix "[Errno 98]".
        raise CliError(exc.strerror or str(exc)) from None
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
    counts = store.take().header["counts"]
    print(
        f"stopped: showed {counts['events']} events, {counts['series']} metric series, "
        f"{counts['spans']} spans",
        file=sys.stderr,
        flush=True,
    )
    return 0
