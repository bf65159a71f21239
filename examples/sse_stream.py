"""A streamed model response whose every event emits `codex.sse_event`.

Self-contained: it starts a fake Responses API that streams `text/event-stream` and an
OTLP receiver on 127.0.0.1, reads the stream through `instrument_sse` (with an idle
timeout), prints the streamed text and then the events the receiver got, token usage
included.

    pip install "codex-otel[httpx]"
    python examples/sse_stream.py
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from httpx_sse import connect_sse

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.instrument import InstrumentedTransport, instrument_sse
from codex_otel.testing import OtlpReceiver

MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "Hello, world", "annotations": []}],
}
USAGE = {
    "input_tokens": 1200,
    "input_tokens_details": {"cached_tokens": 1000},
    "output_tokens": 300,
    "output_tokens_details": {"reasoning_tokens": 64},
    "total_tokens": 1500,
}
EVENTS: list[dict[str, Any]] = [
    {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
    {"type": "response.output_text.delta", "item_id": "msg_1", "delta": "Hello, "},
    {"type": "response.output_text.delta", "item_id": "msg_1", "delta": "world"},
    {"type": "response.output_item.done", "output_index": 0, "item": MESSAGE},
    {"type": "response.completed", "response": {"id": "resp_1", "usage": USAGE}},
]


class FakeResponsesApi(BaseHTTPRequestHandler):
    """POST /v1/responses: the events above as a server-sent-event stream."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
        for event in EVENTS:
            self.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    api = ThreadingHTTPServer(("127.0.0.1", 0), FakeResponsesApi)
    threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{api.server_address[1]}/v1/responses"
    with OtlpReceiver(grpc_port=None) as receiver:
        config = OtelConfig.from_mapping(
            {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
        )
        with OtelProvider.from_config(config) as provider:
            manager = OtelEventManager(
                provider, conversation_id="example-sse", model="gpt-5-codex", slug="gpt-5"
            )
            transport = InstrumentedTransport(manager)
            with (
                httpx.Client(transport=transport, timeout=10.0) as client,
                connect_sse(client, "POST", url, json={"stream": True}) as source,
            ):
                print(f"POST {url} (stream)")
                text = []
                for sse in instrument_sse(manager, source.iter_sse(), idle_timeout=30.0):
                    print(f"  {sse.event}")
                    if sse.event == "response.output_text.delta":
                        text.append(json.loads(sse.data)["delta"])
                print(f"streamed text: {''.join(text)!r}")
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
