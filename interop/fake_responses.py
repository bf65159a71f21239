"""A fake Responses API on 127.0.0.1 for the real Codex CLI: the first request of a turn is
answered with a function call to its `exec_command` tool (or `shell`, whichever it offers),
the request carrying that call's output with a final answer. Streams are SSE, as the real
API sends them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeResponses"]

COMMAND = "echo interop"
ANSWER = "The command printed: interop"
# What Codex reads before a body counts as too large here.
_MAX_BODY = 8 * 1024 * 1024


def _frame(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


def _usage(input_tokens: int, cached: int, output: int, reasoning: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output,
    }


def _tool_names(request: dict[str, Any]) -> list[str]:
    names = []
    for tool in request.get("tools") or []:
        if isinstance(tool, dict):
            names.append(str(tool.get("name") or tool.get("type")))
    return names


def _has_tool_output(request: dict[str, Any]) -> bool:
    items = request.get("input") or []
    return any(
        isinstance(item, dict) and item.get("type") == "function_call_output" for item in items
    )


def _call_arguments(tool: str) -> str:
    if tool == "exec_command":
        return json.dumps({"cmd": COMMAND, "yield_time_ms": 5000})
    return json.dumps({"command": ["bash", "-lc", COMMAND]})


class FakeResponses:
    """`with FakeResponses() as api:` serves on `api.base_url` (ends in `/v1`); `requests`
    keeps what Codex sent (path and parsed body), for the runner to report."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []
        self._lock = threading.Lock()
        self._count = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeResponses:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def next_id(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def stream(self, request: dict[str, Any]) -> list[bytes]:
        number = self.next_id()
        response_id = f"resp_{number}"
        model = str(request.get("model") or "gpt-5")
        base = {"id": response_id, "object": "response", "model": model}
        frames = [_frame("response.created", {"response": {**base, "status": "in_progress"}})]
        if _has_tool_output(request):
            item = {
                "type": "message",
                "id": f"msg_{number}",
                "role": "assistant",
                "status": "completed",
                # Codex logs `codex.agent_response` only for a final answer.
                "phase": "final_answer",
                "content": [{"type": "output_text", "text": ANSWER, "annotations": []}],
            }
            frames.append(
                _frame(
                    "response.output_item.added",
                    {"output_index": 0, "item": {**item, "status": "in_progress", "content": []}},
                )
            )
            for part in (ANSWER[:12], ANSWER[12:]):
                frames.append(
                    _frame(
                        "response.output_text.delta",
                        {
                            "item_id": item["id"],
                            "output_index": 0,
                            "content_index": 0,
                            "delta": part,
                        },
                    )
                )
            usage = _usage(2400, 2048, 20, 0)
        else:
            names = _tool_names(request)
            tool = "exec_command" if "exec_command" in names or "shell" not in names else "shell"
            item = {
                "type": "function_call",
                "id": f"fc_{number}",
                "call_id": f"call_{number}",
                "name": tool,
                "arguments": _call_arguments(tool),
                "status": "completed",
            }
            usage = _usage(2300, 0, 40, 16)
        frames.append(_frame("response.output_item.done", {"output_index": 0, "item": item}))
        frames.append(
            _frame(
                "response.completed",
                {"response": {**base, "status": "completed", "output": [item], "usage": usage}},
            )
        )
        return frames


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def api(self) -> FakeResponses:
        return self.server.api  # type: ignore[attr-defined, no-any-return]

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._json(413, {"error": {"message": "request too large"}})
            return b""
        return self.rfile.read(length)

    def _json(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.api.requests.append(("GET", self.path, None))
        if self.path.split("?")[0].endswith("/models"):
            self._json(200, {"object": "list", "data": [], "models": []})
        else:
            self._json(404, {"error": {"message": f"no such path {self.path}"}})

    def do_POST(self) -> None:
        raw = self._body()
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            self._json(400, {"error": {"message": "expected a JSON body"}})
            return
        self.api.requests.append(
            ("POST", self.path, request if isinstance(request, dict) else None)
        )
        if not self.path.split("?")[0].endswith("/responses") or not isinstance(request, dict):
            self._json(404, {"error": {"message": f"no such path {self.path}"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("cf-ray", "8f2a1c3b4d5e6f70-SJC")
        self.send_header("x-request-id", "req_interop")
        self.end_headers()
        for frame in self.api.stream(request):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
