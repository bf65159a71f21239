"""An httpx client whose every request emits `codex.api_request`.

Self-contained: it starts a fake model API and an OTLP receiver on 127.0.0.1, sends a
request the API rejects once (503) and the client retries, then one to a port where
nothing listens, and prints the events the receiver got.

    pip install "codex-otel[httpx]"
    python examples/http_client.py
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.instrument import InstrumentedTransport
from codex_otel.testing import OtlpReceiver


class FakeModelApi(BaseHTTPRequestHandler):
    """POST /v1/responses: 503 on the first call, then a response; each with a cf-ray."""

    calls = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        FakeModelApi.calls += 1
        status = 503 if FakeModelApi.calls == 1 else 200
        body = json.dumps({"id": "resp_1", "status": "completed"} if status == 200 else {})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("cf-ray", f"8f2a1c3b4d5e6f7{FakeModelApi.calls}-SJC")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


def post_with_retries(client: httpx.Client, url: str, body: dict[str, Any]) -> httpx.Response:
    """A caller's own retry loop: the transport counts the attempts."""
    for _ in range(3):
        response = client.post(url, json=body)
        if response.status_code < 500:
            return response
        print(f"  got {response.status_code}, retrying")
    return response


def main() -> None:
    api = ThreadingHTTPServer(("127.0.0.1", 0), FakeModelApi)
    threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{api.server_address[1]}/v1/responses"
    with OtlpReceiver(grpc_port=None) as receiver:
        config = OtelConfig.from_mapping(
            {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
        )
        with OtelProvider.from_config(config) as provider:
            manager = OtelEventManager(
                provider, conversation_id="example-http", model="gpt-5-codex", slug="gpt-5"
            )
            transport = InstrumentedTransport(manager, httpx.HTTPTransport(retries=0))
            with httpx.Client(transport=transport, timeout=5.0) as client:
                print(f"POST {url}")
                response = post_with_retries(client, url, {"model": "gpt-5-codex", "input": "hi"})
                print(f"  got {response.status_code}: {response.json()}")
                with socket.socket() as sock:  # a port where nothing listens
                    sock.bind(("127.0.0.1", 0))
                    dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/responses"
                print(f"POST {dead}")
                try:
                    client.post(dead, json={})
                except httpx.ConnectError as exc:
                    print(f"  {type(exc).__name__}: {exc}")
        # Leaving the provider's block flushed every event to the receiver.
        print("the receiver got:")
        for log in receiver.logs:
            fields = {
                key: log.attributes[key]
                for key in ("attempt", "http.response.status_code", "cf_ray", "error.message")
                if key in log.attributes
            }
            print(f"  {log.event_name} {fields}")
        print(f"ok: {len(receiver.logs)} codex.api_request events")
    api.shutdown()
    api.server_close()


if __name__ == "__main__":
    main()
