"""A fake model API on 127.0.0.1: JSON, error statuses, `cf-ray`, Responses-API event streams.

Streams are sent with chunked transfer encoding, as a real API does, so a stream the
server cuts short is an error on the client (an incomplete chunked read), not an EOF.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CF_RAY = "8f2a1c3b4d5e6f70-SJC"
STALL = "<stall>"  # stop sending until the test releases the server
CUT = "<cut>"  # drop the connection in the middle of the stream

USAGE = {
    "input_tokens": 1200,
    "input_tokens_details": {"cached_tokens": 1000},
    "output_tokens": 300,
    "output_tokens_details": {"reasoning_tokens": 64},
    "total_tokens": 1500,
}
MESSAGE_ITEM = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Hello", "annotations": []}],
}


def frame(kind: str, data: str | dict[str, Any], *, event: bool = True) -> str:
    """One SSE frame; `data` that is not a str is sent as JSON with `type` = kind."""
    text = data if isinstance(data, str) else json.dumps({"type": kind, **data})
    head = f"event: {kind}\n" if event else ""
    return f"{head}data: {text}\n\n"


CREATED = frame("response.created", {"response": {"id": "resp_1", "status": "in_progress"}})
DELTA_1 = frame("response.output_text.delta", {"item_id": "msg_1", "delta": "Hel"})
DELTA_2 = frame("response.output_text.delta", {"item_id": "msg_1", "delta": "lo"})
ITEM_DONE = frame("response.output_item.done", {"output_index": 0, "item": MESSAGE_ITEM})


def completed(usage: object) -> str:
    response: dict[str, Any] = {"id": "resp_1", "status": "completed", "output": [MESSAGE_ITEM]}
    if usage is not None:
        response["usage"] = usage
    return frame("response.completed", {"response": response})


FAILED_ERROR = {"code": "server_error", "message": "The model crashed."}
FAILED = frame(
    "response.failed",
    {"response": {"id": "resp_1", "status": "failed", "error": FAILED_ERROR}},
)

STREAMS: dict[str, list[str]] = {
    "complete": [CREATED, DELTA_1, DELTA_2, ITEM_DONE, completed(USAGE)],
    "done": [DELTA_1, frame("message", "[DONE]", event=False)],
    "failed": [CREATED, FAILED],
    "bad-item": [
        CREATED,
        frame(
            "response.output_item.done",
            {"output_index": 0, "item": {"type": "function_call", "name": "shell"}},
        ),
    ],
    "not-json": [CREATED, frame("response.output_text.delta", "{not json")],
    "cut": [CREATED, CUT],
    "stall": [CREATED, STALL, DELTA_1],
    "end": [CREATED],
    "no-usage": [CREATED, completed(None)],
    "bad-usage": [CREATED, completed({**USAGE, "input_tokens": "1200"})],
    "no-details": [
        CREATED,
        completed({"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}),
    ],
    "completed-not-json": [CREATED, frame("response.completed", "{oops")],
}


class FakeApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.release = threading.Event()  # ends every STALL
        self.request_headers: list[dict[str, str]] = []  # of every request, keys lower-cased
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-stream is what some tests do

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FakeApi:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=2.0)


class _Handler(BaseHTTPRequestHandler):
    server: FakeApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._route(b"")

    def do_POST(self) -> None:
        self._route(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _route(self, body: bytes) -> None:
        self.server.request_headers.append({k.lower(): v for k, v in self.headers.items()})
        path = self.path.split("?", 1)[0]
        if path == "/v1/json":
            echo = json.loads(body) if body else None
            return self._json(200, {"ok": True, "echo": echo})
        if path.startswith("/v1/status/"):
            status = int(path.rsplit("/", 1)[1])
            return self._json(status, {"error": {"message": f"status {status}"}})
        if path == "/v1/flaky":  # fails while the client asks it to, with `x-fail: 1`
            if self.headers.get("x-fail"):
                return self._json(503, {"error": {"message": "overloaded"}})
            return self._json(200, {"ok": True})
        if path.startswith("/v1/sse/"):
            return self._stream(STREAMS[path.rsplit("/", 1)[1]])
        self._json(404, {"error": {"message": "no such route"}})

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("cf-ray", CF_RAY)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, frames: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("cf-ray", CF_RAY)
        self.end_headers()
        for item in frames:
            if item == STALL:
                self.wfile.flush()
                self.server.release.wait(timeout=10.0)
                continue
            if item == CUT:
                # Announce a chunk, send half of it, hang up.
                self.wfile.write(b"40\r\nevent: response.output_te")
                self.wfile.flush()
                self.close_connection = True
                return
            data = item.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
