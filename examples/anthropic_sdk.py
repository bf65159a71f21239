"""The official `anthropic` SDK, instrumented: its requests, stream events and token usage.

Self-contained (no network, no key): it starts a local server that streams the Messages
API in its real format (`event:`/`data:` frames, pings included) and an OTLP receiver
on 127.0.0.1. The SDK's own httpx2 client gets the instrumented transport; its stream
goes through `instrument_sse`, sync and then async. It prints the streamed text, then
every record the receiver got.

    pip install codex-otel anthropic
    python examples/anthropic_sdk.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import httpx2

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.instrument import (
    AsyncHttpx2InstrumentedTransport,
    Httpx2InstrumentedTransport,
    instrument_sse,
)
from codex_otel.testing import OtlpReceiver

MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "content": [],
    "model": "claude-sonnet-5-5",
    "stop_reason": None,
    "stop_sequence": None,
    "usage": {
        "input_tokens": 1200,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
        "output_tokens": 1,
    },
}
EVENTS: list[dict[str, Any]] = [
    {"type": "message_start", "message": MESSAGE},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello, "}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "world"}},
    {"type": "content_block_stop", "index": 0},
    {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 300},
    },
    {"type": "message_stop"},
]


class FakeAnthropic(BaseHTTPRequestHandler):
    """POST /v1/messages, streamed as the real API does."""

    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        # The client may hang up its keep-alive connection while this waits for its next
        # request (closing with a stream's last bytes unread resets it): nothing to report.
        with contextlib.suppress(ConnectionResetError):
            super().handle()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", "req_01")
        self.send_header("cf-ray", "8f2a1c3b4d5e6f70-SJC")
        self.end_headers()
        for event in EVENTS:
            data = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: Any) -> None:
        pass


REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-5-5",
    "max_tokens": 256,
    "messages": [{"role": "user", "content": "Say hello"}],
    "stream": True,
}


def sync_call(manager: OtelEventManager, base_url: str) -> None:
    http = httpx2.Client(transport=Httpx2InstrumentedTransport(manager))
    with anthropic.Anthropic(base_url=base_url, api_key="sk-local", http_client=http) as client:
        text = []
        for event in instrument_sse(manager, client.messages.create(**REQUEST), idle_timeout=30.0):
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text.append(event.delta.text)
        print(f"streamed: {''.join(text)!r}")


async def async_call(manager: OtelEventManager, base_url: str) -> None:
    http = httpx2.AsyncClient(transport=AsyncHttpx2InstrumentedTransport(manager))
    async with anthropic.AsyncAnthropic(
        base_url=base_url, api_key="sk-local", http_client=http
    ) as client:
        stream = await client.messages.create(**REQUEST)
        count = 0
        async for _ in instrument_sse(manager, stream, idle_timeout=30.0):
            count += 1
        print(f"streamed (async): {count} events")


def main() -> None:
    api = ThreadingHTTPServer(("127.0.0.1", 0), FakeAnthropic)
    api.daemon_threads = True
    threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    base_url = f"http://127.0.0.1:{api.server_address[1]}"
    with OtlpReceiver(grpc_port=None) as receiver:
        config = OtelConfig.from_mapping(
            {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
        )
        with OtelProvider.from_config(config) as provider:
            manager = OtelEventManager(
                provider,
                conversation_id="example-anthropic",
                model="claude-sonnet-5-5",
                slug="claude",
            )
            sync_call(manager, base_url)
            asyncio.run(async_call(manager, base_url))
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
