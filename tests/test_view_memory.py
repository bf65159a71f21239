"""What `view` holds is bounded by its cap: the embedded receiver keeps nothing of its own (each
record goes to the store, which keeps the newest and counts the rest), over HTTP and gRPC."""

from __future__ import annotations

import time

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.cli._view import live_receiver
from codex_otel.cli._view_model import Limits, ViewStore
from codex_otel.cli._view_pages import state_of
from tests.conftest import METADATA


@pytest.mark.parametrize("protocol", ["otlp-http", "otlp-grpc"])
def test_the_live_receiver_keeps_nothing_and_the_store_the_cap(protocol: str) -> None:
    store = ViewStore(Limits(max_events=50, max_spans=20, max_series=100))
    receiver = live_receiver(store, host="127.0.0.1", http_port=0, grpc_port=0)
    with receiver:
        endpoint = receiver.grpc_endpoint if protocol == "otlp-grpc" else receiver.logs_endpoint
        traces = receiver.grpc_endpoint if protocol == "otlp-grpc" else receiver.traces_endpoint
        metrics = receiver.grpc_endpoint if protocol == "otlp-grpc" else receiver.metrics_endpoint
        config = OtelConfig.from_mapping(
            {
                "exporter": {protocol: {"endpoint": endpoint}},
                "trace_exporter": {protocol: {"endpoint": traces}},
                "metrics_exporter": {protocol: {"endpoint": metrics}},
            }
        )
        with OtelProvider.from_config(config) as provider:
            manager = OtelEventManager(provider, **METADATA)
            for turn in range(40):
                with manager.turn():
                    manager.user_prompt([f"turn {turn}"])
                    with manager.tool_span("shell", f"call-{turn}"):
                        manager.tool_result("shell", f"call-{turn}", {}, 0.1, True, "x" * 2048)
        for _ in range(200):  # the exporters flushed at shutdown; the store has it at once
            state = state_of(store)
            if state["counts"]["events"] + state["dropped"]["events"] == 80:
                break
            time.sleep(0.05)
        kept = (receiver.logs, receiver.spans, receiver.metrics, receiver.metric_bodies)
    assert kept == ([], [], [], [])
    assert (state["counts"]["events"], state["dropped"]["events"]) == (50, 30)
    assert (state["counts"]["spans"], state["dropped"]["spans"]) == (20, 60)
    assert state["counts"]["series"] > 0
    # The newest are kept: the last 25 turns' prompts and results.
    names = [e["name"] for c in state["conversations"] for t in c["turns"] for e in t["events"]]
    assert names == ["codex.user_prompt", "codex.tool_result"] * 25
