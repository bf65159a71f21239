"""Spans get the events' delivery: bounded shutdown with every signal on and the collector
down or hanging, every span counted in `stats("spans")`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import codex_otel.export._factory
from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from tests.conftest import METADATA
from tests.faulty import closed_port, hanging_server
from tests.transports import TRANSPORTS, exporter_table

# Far above the bound configured here: a shutdown still running then is unbounded.
GENEROUS = 15.0
HUNG_EXPORT_SECONDS = 60.0


@pytest.fixture(autouse=True)
def exports_hang_longer_than_the_join_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(codex_otel.export._factory, "EXPORT_TIMEOUT_SECONDS", HUNG_EXPORT_SECONDS)
    yield


def every_signal(transport: str, port: int) -> OtelProvider:
    table: dict[str, Any] = {
        "exporter": exporter_table(transport, port),
        "metrics_exporter": exporter_table(transport, port, "/v1/metrics"),
        "trace_exporter": exporter_table(transport, port, "/v1/traces"),
        "shutdown_timeout": 0.6,
        "batch": {"schedule_delay_ms": 20},
    }
    return OtelProvider.from_config(OtelConfig.from_mapping(table))


def turns(provider: OtelProvider, count: int) -> None:
    manager = OtelEventManager(provider, **METADATA)
    for index in range(count):
        with manager.turn(f"turn-{index}"):
            manager.log_tool_result("shell", f"call-{index}", {}, lambda: "ok")


def finishes(call: Callable[[], object]) -> bool:
    """Run `call` on a thread; True when it returned within GENEROUS seconds."""
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(GENEROUS)
    return not thread.is_alive()


def undelivered(stats: DeliveryStats) -> tuple[int, int, int]:
    """(accepted, exported, failed or left at shutdown): which of the last two a batch stuck
    in retries lands in depends on which side of the bound its last retry fell."""
    undelivered = stats.export_failed + stats.in_flight_at_shutdown + stats.unsent_at_shutdown
    return stats.accepted, stats.exported, undelivered


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_shutdown_is_bounded_with_every_signal_on_and_the_collector_down(transport: str) -> None:
    provider = every_signal(transport, closed_port())
    turns(provider, 5)
    assert finishes(provider.shutdown)
    assert (undelivered(provider.stats()), undelivered(provider.stats("spans"))) == (
        (5, 0, 5),
        (10, 0, 10),
    )


def test_shutdown_is_bounded_with_every_signal_on_and_the_collector_hanging() -> None:
    with hanging_server() as port:
        provider = every_signal("http/protobuf", port)
        turns(provider, 5)
        assert finishes(provider.shutdown)
    assert undelivered(provider.stats("spans")) == (10, 0, 10)


def test_spans_after_shutdown_are_counted_and_the_host_carries_on() -> None:
    provider = every_signal("http/protobuf", closed_port())
    provider.shutdown()
    manager = OtelEventManager(provider, **METADATA)
    with manager.turn("late") as turn_id:
        assert manager.log_tool_result("shell", "call-1", {}, lambda: "ok") == "ok"
    assert (turn_id, manager.tracing, provider.stats("spans")) == ("late", False, DeliveryStats())


def test_a_chat_left_open_for_its_stream_is_ended_and_exported_at_shutdown(
    receiver: Any,
) -> None:
    config = OtelConfig.from_mapping(
        {"trace_exporter": {"otlp-http": {"endpoint": receiver.traces_endpoint}}}
    )
    provider = OtelProvider.from_config(config)
    manager = OtelEventManager(provider, **METADATA)
    stream = iter(["event"])  # returned unread: the span waits for its stream
    assert manager.log_request(1, lambda: stream) is stream
    provider.shutdown()
    ((span_name, attributes),) = [(span.name, span.attributes) for span in receiver.spans]
    assert (span_name, provider.stats("spans")) == (
        "chat gpt-5-codex",
        DeliveryStats(accepted=1, exported=1),
    )
    assert attributes == {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-5-codex"}
