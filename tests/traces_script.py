"""A process that runs one turn with a request and a tool, exporting events and spans over
OTLP/HTTP to the endpoints given: `python -m tests.traces_script LOGS_URL TRACES_URL`.

The tests start it with the environment under test (TRACEPARENT, hostile OTEL_* variables).
"""

from __future__ import annotations

import sys

from codex_otel import OtelConfig, OtelEventManager, OtelProvider


class _Response:
    status_code = 200
    headers: dict[str, str] = {}  # noqa: RUF012


def main(logs_url: str, traces_url: str) -> None:
    config = OtelConfig.from_mapping(
        {
            "exporter": {"otlp-http": {"endpoint": logs_url}},
            "trace_exporter": {"otlp-http": {"endpoint": traces_url}},
            "span_attributes": {"long": "x" * 300},
        }
    )
    provider = OtelProvider.from_config(config)
    manager = OtelEventManager(
        provider, conversation_id="c", model="gpt-5", slug="gpt-5", provider_name="openai"
    )
    with manager.turn("turn-1"):
        manager.log_request(1, _Response)
        manager.log_tool_result("shell", "call-1", {"command": ["ls"]}, lambda: "ok")
    provider.shutdown()
    print(provider.stats("spans").summary() if provider.stats("spans").dropped else "ok")


if __name__ == "__main__":
    main(*sys.argv[1:3])
