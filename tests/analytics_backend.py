"""A track-events backend on 127.0.0.1 for the analytics sender's tests, and their events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
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
