"""Requests and queues bounded in bytes, and every event counted exactly once, by name."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA
from tests.faulty import closed_port
from tests.transports import TRANSPORTS, exporter_table, receiver_port

LOREM = "lorem ipsum dolor sit amet " * 100  # 2,700 characters: cut at the 2,048-byte cap


def provider_for(transport: str, port: int, **table: Any) -> OtelProvider:
    config = {"exporter": exporter_table(transport, port), **table}
    return OtelProvider.from_config(OtelConfig.from_mapping(config))


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_default_batch_of_large_tool_results_arrives_whole_in_requests_under_4_mib(
    receiver: OtlpReceiver, transport: str
) -> None:
    # 1024 capped tool results in one batch were a 4.6 MB request that gRPC refused whole.
    provider = provider_for(transport, receiver_port(receiver, transport))
    manager = OtelEventManager(provider, **METADATA)
    for index in range(1024):
        manager.tool_result("shell", f"call-{index}", {"command": LOREM}, 0.1, True, LOREM)
    # What is checked is the requests' size, not the shutdown bound: on a loaded machine
    # OTLP/JSON's 1024 large records outlasted it (counted in_flight_at_shutdown).
    assert provider.force_flush(timeout_millis=60_000)
    provider.shutdown()
    call_ids = [log.attributes["call_id"] for log in receiver.wait_for(1024, timeout=30.0)]
    assert call_ids == [f"call-{index}" for index in range(1024)]
    assert provider.stats() == DeliveryStats(accepted=1024, exported=1024)
    assert len(receiver.log_request_sizes) > 1
    assert max(receiver.log_request_sizes) < 4 * 1024 * 1024


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_request_stays_within_max_export_bytes(
    receiver: OtlpReceiver, transport: str
) -> None:
    limit = 64 * 1024
    provider = provider_for(
        transport, receiver_port(receiver, transport), batch={"max_export_bytes": limit}
    )
    manager = OtelEventManager(provider, **METADATA)
    for index in range(200):
        manager.tool_result("shell", f"call-{index}", {"command": LOREM}, 0.1, True, LOREM)
    provider.shutdown()
    assert len(receiver.wait_for(200)) == 200
    assert provider.stats() == DeliveryStats(accepted=200, exported=200)
    # OTLP/JSON is sized at half the limit, so its larger requests still fit it.
    assert max(receiver.log_request_sizes) <= limit


def test_an_event_too_large_for_any_request_is_dropped_alone_counted_and_said_once(
    receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    provider = provider_for(
        "grpc",
        receiver.grpc_port,
        batch={"max_export_bytes": 64 * 1024},
        tool_result={"max_bytes": 1_000_000},
    )
    manager = OtelEventManager(provider, **METADATA)
    for index in range(40):
        output = "x" * 200_000 if index in (7, 30) else "ok"
        manager.tool_result("shell", f"call-{index}", {}, 0.1, True, output)
    provider.shutdown()
    arrived = [log.attributes["call_id"] for log in receiver.wait_for(38)]
    assert arrived == [f"call-{index}" for index in range(40) if index not in (7, 30)]
    assert provider.stats() == DeliveryStats(accepted=40, exported=38, too_large=2)
    assert warnings(caplog) == [
        "codex_otel: 2 telemetry events bigger than one export request may be (65536 bytes) "
        "were dropped; each is counted in provider.stats().too_large",
        "codex_otel: 2 of 40 telemetry events were not delivered (2 too_large)",
    ]


def test_a_batch_in_flight_at_the_deadline_is_counted_once_under_its_own_name(
    receiver: OtlpReceiver,
) -> None:
    # A collector taking 1.5 s a request: the first batch is answered within the 2 s bound,
    # the second is still being exported then. It may land later, but what was said stays.
    receiver.slow_down(1.5)
    provider = provider_for(
        "grpc",
        receiver.grpc_port,
        shutdown_timeout=2.0,
        batch={"max_export_batch_size": 100, "schedule_delay_ms": 20},
    )
    manager = OtelEventManager(provider, **METADATA)
    for index in range(200):
        manager.sse_event(f"e-{index}", 0)
    provider.shutdown()
    stats = provider.stats()
    assert stats == DeliveryStats(accepted=200, exported=100, in_flight_at_shutdown=100)
    assert len(receiver.wait_for(200)) == 200  # the second batch did land, afterwards
    assert provider.stats() == stats


def test_the_queue_is_bounded_in_bytes_as_well_as_in_count(lenient: None) -> None:
    limit = 1024 * 1024
    provider = provider_for(
        "grpc",
        closed_port(),
        shutdown_timeout=0.2,
        batch={"max_queue_bytes": limit, "schedule_delay_ms": 60_000},
    )
    manager = OtelEventManager(provider, **METADATA)
    for index in range(2000):
        manager.tool_result("shell", f"call-{index}", {"command": LOREM}, 0.1, True, LOREM)
    stats = provider.stats()
    provider.shutdown()
    # Each event's arguments and output are 2 KiB apiece: about 230 fit in 1 MiB.
    assert 150 < stats.accepted < 260
    assert stats.queue_full == 2000 - stats.accepted


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_partial_success_counts_the_rejected_events_and_says_the_collectors_reason_once(
    receiver: OtlpReceiver, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.reject_next(7, "pipeline full")
    receiver.reject_next(3, "pipeline full")
    provider = provider_for(
        transport, receiver_port(receiver, transport), batch={"max_export_batch_size": 100}
    )
    manager = OtelEventManager(provider, **METADATA)
    for index in range(200):
        manager.sse_event(f"e-{index}", 0)
    provider.shutdown()
    assert provider.stats() == DeliveryStats(accepted=200, exported=190, rejected=10)
    target = "otlp-grpc" if transport == "grpc" else "otlp-http"
    assert warnings(caplog)[0].startswith(f"codex_otel: the collector at {target} ")
    assert warnings(caplog)[0].endswith(
        "accepted an export but rejected 7 of its 100 events: pipeline full. "
        "Rejected events are counted in provider.stats().rejected"
    )
    assert warnings(caplog)[1:] == [
        "codex_otel: 10 of 200 telemetry events were not delivered (10 rejected)"
    ]


def test_the_shutdown_message_says_events_in_flight_may_have_arrived() -> None:
    both = DeliveryStats(accepted=10, exported=4, export_failed=2, in_flight_at_shutdown=4)
    assert both.shutdown_message("events") == (
        "codex_otel: 2 of 10 telemetry events were not delivered (2 export_failed); 4 were "
        "being sent when the shutdown bound ran out and may have arrived (in_flight_at_shutdown)"
    )
    lost = DeliveryStats(accepted=5, exported=2, export_failed=3)
    assert lost.shutdown_message("spans") == (
        "codex_otel: 3 of 5 telemetry spans were not delivered (3 export_failed)"
    )
