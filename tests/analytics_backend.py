"""A track-events backend on 127.0.0.1 for the analytics sender's tests, and their events."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from codex_otel.analytics import RuntimeMetadata, TrackEvent

MAC = RuntimeMetadata("0.0.0", "macos", "26.4.0", "aarch64")
PATH = "/codex/analytics-events/events"


class Backend:
    """Records every request; answers with `status`, or holds it while `hang` is set."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.connections = 0  # accepted so far (each carries requests while kept alive)
        self.status = 200
        self.location: str | None = None  # sent with the answer (a redirect's target)
        self.hang = threading.Event()
        self.delay = 0.0  # seconds before each answer, as a slow backend takes
        self.release = threading.Event()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # connections kept alive, as a real backend does

            def setup(self) -> None:  # one handler per connection
                super().setup()
                backend.connections += 1

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                backend.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "account": self.headers.get("ChatGPT-Account-Id"),
                        "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(body),
                    }
                )
                if backend.hang.is_set():
                    backend.release.wait(30)
                    return
                backend.release.wait(backend.delay)
                self.send_response(backend.status)
                if backend.location is not None:
                    self.send_header("Location", backend.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def do_GET(self) -> None:  # what a followed 301/302/303 turns the POST into
                backend.requests.append(
                    {"path": self.path, "authorization": self.headers.get("Authorization")}
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/"


def serving() -> Iterator[Backend]:
    """A started `Backend`, stopped when the generator closes (for fixtures)."""
    server = Backend()
    server.thread.start()
    yield server
    server.release.set()
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def backend() -> Iterator[Backend]:
    yield from serving()


def event(n: int, *, isolated: bool = False) -> TrackEvent:
    return TrackEvent({"event_type": "codex_hook_run", "event_params": {"n": n}}, isolated)


class Tokens:
    """The host's auth: a fresh token on every call, as a refreshing auth manager gives."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, str]:
        self.calls += 1
        return {"Authorization": f"Bearer secret-token-{self.calls}", "ChatGPT-Account-Id": "acct"}


class SocketServer:
    """A listener on 127.0.0.1 that hands each connection to `hold(connection)` on a thread
    of its own; `accept=False` never accepts (connections wait in the kernel's queue)."""

    def __init__(
        self,
        hold: Callable[[socket.socket], None],
        *,
        accept: bool = True,
        backlog: int = 16,
        receive_buffer: int | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.tls = tls  # each accepted connection's handshake made on its own thread
        self.listener = socket.socket()
        if receive_buffer is not None:  # inherited by the connections it accepts
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(backlog)
        self.listener.settimeout(0.1)
        self.hold = hold
        self.stop = threading.Event()
        self.handlers: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        if accept:
            self.thread.start()

    def url(self, scheme: str) -> str:
        return f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            handler = threading.Thread(target=self._handle, args=(connection,), daemon=True)
            self.handlers.append(handler)
            handler.start()

    def _handle(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the client hung up (or refused the handshake)
            if self.tls is not None:
                connection.settimeout(10)
                connection = self.tls.wrap_socket(connection, server_side=True)
            with connection:
                self.hold(connection)

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(5)
        self.listener.close()


def read_head(connection: socket.socket) -> bytes | None:
    """What arrived up to the end of a request's head (part of its body too), or None if
    the client hung up first."""
    data = b""
    for _ in range(10_000):  # heads of the tests' requests are a few hundred bytes
        if b"\r\n\r\n" in data:
            return data
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    return None
