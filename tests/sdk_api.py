"""A local model API on 127.0.0.1 speaking the OpenAI and Anthropic streaming formats.

Three endpoints, each streaming as the real API documents it: `text/event-stream`,
chunked transfer encoding, `event:`/`data:` lines (Chat Completions sends `data:` only,
ending with `data: [DONE]`), the `cf-ray` and request-id headers.

- POST /v1/responses         OpenAI Responses API
- POST /v1/chat/completions  OpenAI Chat Completions
- POST /v1/messages          Anthropic Messages

The request's `model` picks the scenario: "complete" (also any other model name, such as
"gpt-5"), "retry" (a 500, then a 429, then the complete stream), "overlap-N" (the complete
stream of request N: its ids and input token counts carry N, and with `lockstep(n)` the n
streams are sent frame by frame together, so they truly overlap), or one of the scenario
names of each API below. Error answers carry `retry-after-ms: 1`, so the SDKs' own retries
do not wait.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CF_RAY = "8f2a1c3b4d5e6f70-SJC"
STALL = "<stall>"  # stop sending until the test releases the server
CUT = "<cut>"  # drop the connection in the middle of the stream


def sse(kind: str | None, data: dict[str, Any] | str) -> str:
    """One frame: `event: kind` (unless None) and one `data:` line of compact JSON."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = "" if kind is None else f"event: {kind}\n"
    return f"{head}data: {text}\n\n"


# -- OpenAI Responses API ------------------------------------------------------------------

RESPONSES_USAGE = {
    "input_tokens": 1200,
    "input_tokens_details": {"cached_tokens": 1000},
    "output_tokens": 300,
    "output_tokens_details": {"reasoning_tokens": 64},
    "total_tokens": 1500,
}
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}],
}
FAILED_ERROR = {"code": "server_error", "message": "The model crashed."}


def _response(status: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1764460800,
        "status": status,
        "model": "gpt-5-codex",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": None,
        **fields,
    }


def _responses(*events: tuple[str, dict[str, Any]]) -> list[str]:
    """Frames of the events in order, each with its `type` and `sequence_number`."""
    return [
        sse(kind, {"type": kind, "sequence_number": n, **data})
        for n, (kind, data) in enumerate(events)
    ]


_CREATED = ("response.created", {"response": _response("in_progress")})
_IN_PROGRESS = ("response.in_progress", {"response": _response("in_progress")})
_TEXT = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
RESPONSES_COMPLETE = _responses(
    _CREATED,
    _IN_PROGRESS,
    (
        "response.output_item.added",
        {"output_index": 0, "item": {**MESSAGE, "status": "in_progress", "content": []}},
    ),
    (
        "response.content_part.added",
        {**_TEXT, "part": {"type": "output_text", "text": "", "annotations": []}},
    ),
    ("response.output_text.delta", {**_TEXT, "delta": "Hel", "logprobs": []}),
    ("response.output_text.delta", {**_TEXT, "delta": "lo", "logprobs": []}),
    ("response.output_text.done", {**_TEXT, "text": "Hello", "logprobs": []}),
    ("response.content_part.done", {**_TEXT, "part": MESSAGE["content"][0]}),
    ("response.output_item.done", {"output_index": 0, "item": MESSAGE}),
    (
        "response.completed",
        {"response": _response("completed", output=[MESSAGE], usage=RESPONSES_USAGE)},
    ),
)
RESPONSES_KINDS = [json.loads(f.split("data: ", 1)[1])["type"] for f in RESPONSES_COMPLETE]

RESPONSES = {
    "complete": RESPONSES_COMPLETE,
    "failed": _responses(
        _CREATED, ("response.failed", {"response": _response("failed", error=FAILED_ERROR)})
    ),
    "bad-item": _responses(
        _CREATED,
        (
            "response.output_item.done",
            {"output_index": 0, "item": {"id": "fc_1", "type": "function_call", "name": "sh"}},
        ),
    ),
    "no-usage": _responses(_CREATED, ("response.completed", {"response": _response("completed")})),
    "cut": [*RESPONSES_COMPLETE[:2], CUT],
    "stall": [*RESPONSES_COMPLETE[:1], STALL, *RESPONSES_COMPLETE[1:]],
}

# -- OpenAI Chat Completions ---------------------------------------------------------------

CHAT_USAGE = {
    "prompt_tokens": 900,
    "completion_tokens": 120,
    "total_tokens": 1020,
    "prompt_tokens_details": {"cached_tokens": 512, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 32,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def _chunk(delta: dict[str, Any], finish: str | None, usage: bool) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1764460800,
        "model": "gpt-4.1",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage:  # with include_usage every chunk says `"usage": null` but the last
        chunk["usage"] = None
    return chunk


def chat_stream(include_usage: bool, model: str = "complete") -> list[str]:
    chunks = [
        _chunk({"role": "assistant", "content": "", "refusal": None}, None, include_usage),
        _chunk({"content": "Hel"}, None, include_usage),
        _chunk({"content": "lo"}, None, include_usage),
        _chunk({}, "stop", include_usage),
    ]
    if include_usage:
        chunks.append({**_chunk({}, None, True), "choices": [], "usage": CHAT_USAGE})
    frames = [*(sse(None, c) for c in chunks), sse(None, "[DONE]")]
    if model == "cut":
        return [*frames[:2], CUT]
    if model == "stall":
        return [*frames[:1], STALL, *frames[1:]]
    return frames


def overlap_frames(frames: list[str], n: int) -> list[str]:
    """The complete stream of request `n`: its response id and input tokens carry `n`."""
    marks = [
        ('"resp_1"', f'"resp_{n}"'),
        ('"chatcmpl-1"', f'"chatcmpl-{n}"'),
        ('"msg_01"', f'"msg_{n:02d}"'),
        ('"input_tokens":1200', f'"input_tokens":{1200 + n}'),
        ('"prompt_tokens":900', f'"prompt_tokens":{900 + n}'),
    ]
    out = []
    for frame in frames:
        for old, new in marks:
            frame = frame.replace(old, new)
        out.append(frame)
    return out


# -- Anthropic Messages --------------------------------------------------------------------

ANTHROPIC_START_USAGE = {
    "input_tokens": 1200,
    "cache_creation_input_tokens": 100,
    "cache_read_input_tokens": 1000,
    "output_tokens": 1,
}
ANTHROPIC_DELTA_USAGE = {"output_tokens": 300, "output_tokens_details": {"thinking_tokens": 64}}


def _messages(*events: tuple[str, dict[str, Any]]) -> list[str]:
    return [sse(kind, {"type": kind, **data}) for kind, data in events]


_MESSAGE_START = (
    "message_start",
    {
        "message": {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": "claude-sonnet-5-5",
            "stop_reason": None,
            "stop_sequence": None,
            "usage": ANTHROPIC_START_USAGE,
        }
    },
)
_BLOCK_START = ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
_PING = ("ping", {})
MESSAGES_COMPLETE = _messages(
    _MESSAGE_START,
    _BLOCK_START,
    _PING,  # the SDK drops pings: they are not events of the message
    ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Hel"}}),
    ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "lo"}}),
    ("content_block_stop", {"index": 0}),
    (
        "message_delta",
        {
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": ANTHROPIC_DELTA_USAGE,
        },
    ),
    ("message_stop", {}),
)
MESSAGES_KINDS = [
    json.loads(f.split("data: ", 1)[1])["type"]
    for f in MESSAGES_COMPLETE
    if not f.startswith("event: ping")
]
OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}

MESSAGES = {
    "complete": MESSAGES_COMPLETE,
    "error": [*MESSAGES_COMPLETE[:2], sse("error", OVERLOADED)],
    "stall": [*MESSAGES_COMPLETE[:1], STALL, *MESSAGES_COMPLETE[1:]],
    "cut": [*MESSAGES_COMPLETE[:2], CUT],
}

# -- error answers -------------------------------------------------------------------------

OPENAI_ERRORS = {
    500: {"error": {"message": "The server had an error.", "type": "server_error"}},
    429: {"error": {"message": "Rate limit reached.", "type": "requests", "code": "rate_limit"}},
}
ANTHROPIC_ERRORS = {
    500: {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}},
    429: {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited"}},
}
RETRY_STATUSES = [500, 429]  # what "retry" answers before it streams


class SdkApi(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 20 clients connecting at once are not refused

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.release = threading.Event()  # ends every STALL
        self._lockstep: threading.Barrier | None = None
        self.calls: Counter[tuple[str, str]] = Counter()  # (path, model) -> requests seen
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up mid-stream is what some tests do

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def lockstep(self, streams: int) -> None:
        """The next `streams` "overlap-N" streams send each frame only once all of them
        have sent the one before (bounded: a broken step lets each go on alone)."""
        self._lockstep = threading.Barrier(streams)

    def step(self) -> None:
        barrier = self._lockstep
        if barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10.0)

    def count(self, path: str, model: str) -> int:
        with self._lock:
            self.calls[path, model] += 1
            return self.calls[path, model]

    def __enter__(self) -> SdkApi:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=2.0)


class _Handler(BaseHTTPRequestHandler):
    server: SdkApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        path = self.path.split("?", 1)[0]
        model = str(body.get("model"))
        anthropic = path == "/v1/messages"
        overlap = None
        if model.startswith("overlap-"):
            overlap, model = int(model.removeprefix("overlap-")), "complete"
        if model not in RESPONSES and model not in MESSAGES and model != "retry":
            model = "complete"  # a real model name (the docs' examples use them)
        attempt = self.server.count(path, model)
        if model == "retry":
            if attempt <= len(RETRY_STATUSES):
                status = RETRY_STATUSES[attempt - 1]
                return self._json(
                    status, (ANTHROPIC_ERRORS if anthropic else OPENAI_ERRORS)[status]
                )
            model = "complete"
        if not body.get("stream"):
            return self._json(400, {"error": {"message": "these tests only stream"}})
        if path == "/v1/responses":
            frames = RESPONSES[model]
        elif path == "/v1/chat/completions":
            include = bool((body.get("stream_options") or {}).get("include_usage"))
            frames = chat_stream(include, model)
        elif anthropic:
            frames = MESSAGES[model]
        else:
            return self._json(404, {"error": {"message": "no such route"}})
        if overlap is not None:
            return self._stream(overlap_frames(frames, overlap), anthropic=anthropic, step=True)
        self._stream(frames, anthropic=anthropic)

    def _headers(self, status: int, content_type: str, anthropic: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("cf-ray", CF_RAY)
        self.send_header("request-id" if anthropic else "x-request-id", "req_1")
        if status >= 400:
            self.send_header("retry-after-ms", "1")

    def _json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self._headers(status, "application/json", self.path.startswith("/v1/messages"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, frames: list[str], *, anthropic: bool, step: bool = False) -> None:
        self._headers(200, "text/event-stream; charset=utf-8", anthropic)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        for item in frames:
            if step:
                self.server.step()
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
