"""The official `openai` SDK, instrumented: its requests, stream events and token usage.

Self-contained (no network, no key): it starts a local server that streams the Responses
API and Chat Completions in their real format, and an OTLP receiver on 127.0.0.1. The
SDK's own httpx2 client gets the instrumented transport; its streams go through
`instrument_sse`. The first request is rate limited (429), so the SDK's retry shows as
attempt 2. It prints the streamed text, then every record the receiver got.

    pip install codex-otel openai
    python examples/openai_sdk.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import openai

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.instrument import (
    AsyncHttpx2InstrumentedTransport,
    Httpx2InstrumentedTransport,
    instrument_sse,
)
from codex_otel.testing import OtlpReceiver

MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "Hello, world", "annotations": []}],
}
RESPONSE = {"id": "resp_1", "object": "response", "created_at": 1764460800, "model": "gpt-5"}
USAGE = {
    "input_tokens": 1200,
    "input_tokens_details": {"cached_tokens": 1000},
    "output_tokens": 300,
    "output_tokens_details": {"reasoning_tokens": 64},
    "total_tokens": 1500,
}
TEXT = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
RESPONSES_EVENTS: list[dict[str, Any]] = [
    {"type": "response.created", "response": {**RESPONSE, "status": "in_progress", "output": []}},
    {"type": "response.output_text.delta", **TEXT, "delta": "Hello, "},
    {"type": "response.output_text.delta", **TEXT, "delta": "world"},
    {"type": "response.output_item.done", "output_index": 0, "item": MESSAGE},
    {
        "type": "response.completed",
        "response": {**RESPONSE, "status": "completed", "output": [MESSAGE], "usage": USAGE},
    },
]
CHUNK = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1"}
CHAT_CHUNKS: list[dict[str, Any]] = [
    {**CHUNK, "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
    {**CHUNK, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {
        **CHUNK,
        "choices": [],
        "usage": {"prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020},
    },
]


class FakeOpenAi(BaseHTTPRequestHandler):
    """POST /v1/responses and /v1/chat/completions, streamed as the real API does."""

    protocol_version = "HTTP/1.1"
    rate_limited = threading.Event()  # the first request is answered 429

    def handle(self) -> None:
        # The client may hang up its keep-alive connection while this waits for its next
        # request (closing with a stream's last bytes unread resets it): nothing to report.
        with contextlib.suppress(ConnectionResetError):
            super().handle()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self.rate_limited.is_set():
            self.rate_limited.set()
            body = b'{"error": {"message": "Rate limit reached.", "type": "requests"}}'
            self.send_response(429)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("retry-after-ms", "10")
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.endswith("/responses"):
            frames = [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in RESPONSES_EVENTS]
        else:  # chat completions: `data:` lines only, then [DONE]
            frames = [f"data: {json.dumps(c)}\n\n" for c in CHAT_CHUNKS] + ["data: [DONE]\n\n"]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("cf-ray", "8f2a1c3b4d5e6f70-SJC")
        self.end_headers()
        for frame in frames:
            data = frame.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def responses(manager: OtelEventManager, base_url: str) -> None:
    http = httpx2.Client(transport=Httpx2InstrumentedTransport(manager))
    with openai.OpenAI(base_url=base_url, api_key="sk-local", http_client=http) as client:
        stream = client.responses.create(model="gpt-5", input="Say hello", stream=True)
        text = []
        for event in instrument_sse(manager, stream, idle_timeout=30.0):
            if event.type == "response.output_text.delta":
                text.append(event.delta)
        print(f"responses streamed: {''.join(text)!r}")


async def chat(manager: OtelEventManager, base_url: str) -> None:
    http = httpx2.AsyncClient(transport=AsyncHttpx2InstrumentedTransport(manager))
    async with openai.AsyncOpenAI(
        base_url=base_url, api_key="sk-local", http_client=http
    ) as client:
        stream = await client.chat.completions.create(
            model="gpt-4.1",
            messages=[{"role": "user", "content": "Say hi"}],
            stream=True,
            stream_options={"include_usage": True},  # the last chunk carries the usage
        )
        text = []
        async for chunk in instrument_sse(manager, stream, idle_timeout=30.0):
            text.extend(choice.delta.content or "" for choice in chunk.choices)
        print(f"chat streamed (async): {''.join(text)!r}")


def main() -> None:
    api = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAi)
    api.daemon_threads = True
    threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base_url = f"http://127.0.0.1:{api.server_address[1]}/v1"
    with OtlpReceiver(grpc_port=None) as receiver:
        config = OtelConfig.from_mapping(
            {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
        )
        with OtelProvider.from_config(config) as provider:
            manager = OtelEventManager(
                provider, conversation_id="example-openai", model="gpt-5", slug="gpt-5"
            )
            responses(manager, base_url)
            asyncio.run(chat(manager, base_url))
        print("the receiver got:")
        for log in receiver.logs:
            fields = {k: v for k, v in log.attributes.items() if k in _SHOWN}
            print(f"  {log.event_name} {fields}")
        print(f"ok: {len(receiver.logs)} events")
    api.shutdown()
    api.server_close()


_SHOWN = (
    "attempt",
    "http.response.status_code",
    "cf_ray",
    "event.kind",
    "error.message",
    "input_token_count",
    "output_token_count",
    "cached_token_count",
    "reasoning_token_count",
    "tool_token_count",
)

if __name__ == "__main__":
    main()
