"""The three OTLP transports, as `[otel]` exporter tables pointed at a test receiver."""

from __future__ import annotations

from typing import Any

from codex_otel.testing import OtlpReceiver

TRANSPORTS = ["http/protobuf", "http/json", "grpc"]


def exporter_table(transport: str, port: int, path: str = "/v1/logs") -> dict[str, Any]:
    """`exporter` (or, with path `/v1/metrics` or `/v1/traces`, that signal's) for `transport`."""
    if transport == "grpc":
        return {"otlp-grpc": {"endpoint": f"http://127.0.0.1:{port}"}}
    protocol = "json" if transport == "http/json" else "binary"
    return {"otlp-http": {"endpoint": f"http://127.0.0.1:{port}{path}", "protocol": protocol}}


def receiver_port(receiver: OtlpReceiver, transport: str) -> int:
    return receiver.grpc_port if transport == "grpc" else receiver.http_port
