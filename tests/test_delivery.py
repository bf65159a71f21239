"""Faults survived: real local collectors that refuse, hang, throttle, fail and reset.

In every case the caller's calls return without raising, shutdown and flush return within
their bound (checked by joining them on a thread with a generous timeout: boundedness, not
speed), and every event is accounted for in `provider.stats()`. The exporters' own timeout is
raised far above that join timeout here, so a call bounded only by it fails the test.
"""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import codex_otel.export._factory
from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import Fault, OtlpReceiver
from tests.conftest import METADATA
from tests.faulty import closed_port, hanging_server
from tests.transports import TRANSPORTS, exporter_table, receiver_port

# Far above any bound configured here: a call that is still running then is unbounded.
GENEROUS = 15.0
# The exporters' per-request timeout in these tests: far above GENEROUS, so a call that waits
# for a hung export (or for the SDK's fixed 30 s join) outlasts the join and fails the test.
HUNG_EXPORT_SECONDS = 60.0


@pytest.fixture(autouse=True)
def exports_hang_longer_than_the_join_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(codex_otel.export._factory, "EXPORT_TIMEOUT_SECONDS", HUNG_EXPORT_SECONDS)
    yield


def metrics_table(port: int) -> dict[str, Any]:
    return {"otlp-http": {"endpoint": f"http://127.0.0.1:{port}/v1/metrics"}}


def start(
    transport: str,
    port: int,
    *,
    shutdown_timeout: float = 0.5,
    metrics: bool = False,
    **batch: int,
) -> OtelProvider:
    table = {
        "exporter": exporter_table(transport, port),
        "shutdown_timeout": shutdown_timeout,
        "batch": {"schedule_delay_ms": 20, **batch},
        **({"metrics_exporter": metrics_table(port)} if metrics else {}),
    }
    return OtelProvider.from_config(OtelConfig.from_mapping(table))


def emit(provider: OtelProvider, count: int, prefix: str = "e") -> None:
    manager = OtelEventManager(provider, **METADATA)
    for index in range(count):
        manager.sse_event(f"{prefix}-{index}", 0)


def finishes(call: Callable[[], object]) -> bool:
    """Run `call` on a thread; True when it returned within GENEROUS seconds."""
    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(GENEROUS)
    return not thread.is_alive()


def undelivered(stats: DeliveryStats) -> tuple[int, int, int, int, int]:
    """(accepted, exported, queue_full, after_shutdown, failed or left at shutdown).

    Whether a batch stuck in retries counts as `export_failed`, `in_flight_at_shutdown` or
    `unsent_at_shutdown` depends on which side of the bound its last retry fell: all mean
    "not delivered".
    """
    return (
        stats.accepted,
        stats.exported,
        stats.queue_full,
        stats.after_shutdown,
        stats.export_failed + stats.in_flight_at_shutdown + stats.unsent_at_shutdown,
    )


def drop_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "codex_otel"
        and ("were not delivered" in r.getMessage() or "may have arrived" in r.getMessage())
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_shutdown_is_bounded_and_counts_when_the_collector_refuses_connections(
    transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    provider = start(transport, closed_port())
    emit(provider, 10)
    assert finishes(provider.shutdown)
    assert undelivered(provider.stats()) == (10, 0, 0, 0, 10)
    assert provider.stats().pending == 0
    assert drop_warnings(caplog) == [provider.stats().shutdown_message("events")]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_shutdown_is_bounded_when_the_collector_accepts_then_hangs(
    transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    with hanging_server() as port:
        provider = start(transport, port)
        emit(provider, 25)
        assert finishes(provider.shutdown)
    assert undelivered(provider.stats()) == (25, 0, 0, 0, 25)
    assert len(drop_warnings(caplog)) == 1


def test_force_flush_honours_its_timeout_when_the_collector_hangs() -> None:
    with hanging_server() as port:
        provider = start("http/protobuf", port)
        emit(provider, 5)
        results: list[bool] = []
        assert finishes(lambda: results.append(provider.force_flush(timeout_millis=200)))
        # A second flush while the first is stuck waits on the same attempt.
        assert finishes(lambda: results.append(provider.force_flush(timeout_millis=200)))
        assert results == [False, False]
        assert finishes(provider.shutdown)
    assert undelivered(provider.stats()) == (5, 0, 0, 0, 5)


def test_force_flush_with_metrics_on_shares_one_deadline_when_the_collector_hangs() -> None:
    with hanging_server() as port:
        provider = start("http/protobuf", port, metrics=True)
        emit(provider, 5)
        results: list[bool] = []
        # The metric exporter ignores the flush timeout: waiting for it would take 60 s.
        assert finishes(lambda: results.append(provider.force_flush(timeout_millis=300)))
        assert finishes(lambda: results.append(provider.force_flush(timeout_millis=300)))
        assert results == [False, False]
        assert finishes(provider.shutdown)
    assert undelivered(provider.stats()) == (5, 0, 0, 0, 5)


@pytest.mark.parametrize(
    ("transport", "fault"),
    [("http/protobuf", Fault(http_status=400)), ("grpc", Fault(grpc_code="INVALID_ARGUMENT"))],
)
def test_force_flush_is_false_when_the_collector_refuses_the_events(
    receiver: OtlpReceiver, transport: str, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.fail_next(1, fault)
    # Only the flushes export (no timer splits the 3 into two requests on a loaded machine).
    provider = start(transport, receiver_port(receiver, transport), schedule_delay_ms=60_000)
    emit(provider, 3, prefix="lost")
    assert provider.force_flush(timeout_millis=int(GENEROUS * 1000)) is False
    assert provider.stats() == DeliveryStats(accepted=3, export_failed=3)
    # Once the collector takes them again, a flush that delivers everything is True.
    emit(provider, 2, prefix="kept")
    assert provider.force_flush(timeout_millis=int(GENEROUS * 1000)) is True
    assert provider.stats() == DeliveryStats(accepted=5, exported=2, export_failed=3)
    assert [log.attributes["event.kind"] for log in receiver.wait_for(2)] == ["kept-0", "kept-1"]
    provider.shutdown()


@pytest.mark.parametrize("status", [429, 503])
def test_http_throttling_with_retry_after_is_retried_and_events_arrive(
    receiver: OtlpReceiver, status: int
) -> None:
    receiver.fail_next(1, Fault(http_status=status, retry_after="0"))
    provider = start("http/protobuf", receiver.http_port)
    emit(provider, 5)
    assert provider.force_flush(timeout_millis=int(GENEROUS * 1000))
    logs = receiver.wait_for(5)
    assert [log.attributes["event.kind"] for log in logs] == [f"e-{i}" for i in range(5)]
    assert receiver.refused == 1
    assert provider.stats() == DeliveryStats(accepted=5, exported=5)
    provider.shutdown()


def test_http_500_fails_the_batch_counted_and_later_events_arrive(
    receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.fail_next(1, Fault(http_status=500))
    provider = start("http/protobuf", receiver.http_port)
    emit(provider, 3, prefix="lost")
    assert not provider.force_flush(timeout_millis=int(GENEROUS * 1000))
    assert provider.stats() == DeliveryStats(accepted=3, export_failed=3)
    emit(provider, 2, prefix="kept")
    provider.shutdown()
    logs = receiver.wait_for(2)
    assert [log.attributes["event.kind"] for log in logs] == ["kept-0", "kept-1"]
    assert provider.stats() == DeliveryStats(accepted=5, exported=2, export_failed=3)
    # The first failure is said at once, with the exporter's reason, the total at shutdown;
    # nothing per event, and nothing from the exporter itself.
    assert [r.getMessage() for r in caplog.records] == [
        f"codex_otel: exporting telemetry to otlp-http {receiver.logs_endpoint} failed "
        "(Failed to export logs batch code: 500, reason: Internal Server Error). Events not "
        "delivered are counted in provider.stats(); later failures are only counted",
        "codex_otel: 3 of 5 telemetry events were not delivered (3 export_failed)",
    ]


def test_grpc_unavailable_is_retried_and_events_arrive(receiver: OtlpReceiver) -> None:
    receiver.fail_next(1, Fault(grpc_code="UNAVAILABLE"))
    provider = start("grpc", receiver.grpc_port)
    emit(provider, 4)
    assert provider.force_flush(timeout_millis=int(GENEROUS * 1000))
    logs = receiver.wait_for(4)
    assert [log.attributes["event.kind"] for log in logs] == [f"e-{i}" for i in range(4)]
    assert receiver.refused == 1
    assert provider.stats() == DeliveryStats(accepted=4, exported=4)
    provider.shutdown()


def test_connection_reset_mid_request_is_retried_and_events_arrive(
    receiver: OtlpReceiver,
) -> None:
    receiver.fail_next(1, Fault(reset=True))
    provider = start("http/protobuf", receiver.http_port)
    emit(provider, 3)
    assert provider.force_flush(timeout_millis=int(GENEROUS * 1000))
    logs = receiver.wait_for(3)
    assert [log.attributes["event.kind"] for log in logs] == ["e-0", "e-1", "e-2"]
    assert receiver.refused == 1
    assert provider.stats() == DeliveryStats(accepted=3, exported=3)
    provider.shutdown()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_events_emitted_after_the_collector_comes_back_arrive(transport: str) -> None:
    port = closed_port()
    provider = start(transport, port, shutdown_timeout=GENEROUS / 3)
    emit(provider, 3, prefix="down")
    provider.force_flush(timeout_millis=100)  # the collector is down: nothing goes out yet
    http, grpc = (None, port) if transport == "grpc" else (port, None)
    with OtlpReceiver(http_port=http, grpc_port=grpc) as receiver:
        emit(provider, 3, prefix="up")
        assert finishes(provider.shutdown)
        kinds = [log.attributes["event.kind"] for log in receiver.logs]
    # Events queued while it was down arrive if a retry fell after it came back.
    assert [kind for kind in kinds if kind.startswith("up")] == ["up-0", "up-1", "up-2"]
    stats = provider.stats()
    assert (stats.accepted, stats.exported, stats.pending) == (6, len(kinds), 0)
    assert (
        stats.exported
        + stats.export_failed
        + stats.in_flight_at_shutdown
        + stats.unsent_at_shutdown
        == 6
    )


def test_a_full_queue_refuses_new_events_counts_them_and_never_logs_per_drop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with hanging_server() as port:
        provider = start("http/protobuf", port, max_queue_size=10, max_export_batch_size=10)
        with caplog.at_level(logging.DEBUG):
            emit(provider, 100)
            stats = provider.stats()
            assert finishes(provider.shutdown)
    # The worker may have taken one batch off the queue before it got stuck.
    assert stats.accepted in (10, 20)
    assert (stats.queue_full, stats.accepted + stats.queue_full) == (100 - stats.accepted, 100)
    assert not [r for r in caplog.records if "Queue full" in r.getMessage()]
    assert drop_warnings(caplog) == [provider.stats().shutdown_message("events")]


def test_events_emitted_after_shutdown_are_counted(receiver: OtlpReceiver) -> None:
    provider = start("http/protobuf", receiver.http_port)
    emit(provider, 2)
    provider.shutdown()
    emit(provider, 3)
    assert provider.stats() == DeliveryStats(accepted=2, exported=2, after_shutdown=3)
    assert len(receiver.wait_for(2)) == 2


def test_stats_are_zero_and_shutdown_silent_without_an_exporter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = OtelProvider.from_config(OtelConfig())
    emit(provider, 3)
    provider.shutdown()
    assert provider.stats() == DeliveryStats()
    assert caplog.records == []


def test_a_healthy_collector_gets_everything_and_shutdown_says_nothing(
    receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    provider = start("grpc", receiver.grpc_port)
    emit(provider, 50)
    provider.shutdown()
    assert len(receiver.wait_for(50)) == 50
    assert provider.stats() == DeliveryStats(accepted=50, exported=50)
    assert drop_warnings(caplog) == []


EXIT_SCRIPT = """
import sys
import codex_otel.export._factory
from codex_otel import OtelConfig, OtelEventManager, OtelProvider
codex_otel.export._factory.EXPORT_TIMEOUT_SECONDS = {hung_export_seconds}  # above the join bound
table = {{"exporter": {{"otlp-http": {{"endpoint": "{endpoint}"}}}}, "shutdown_timeout": 0.5}}
provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
manager = OtelEventManager(provider, conversation_id="c", model="m", slug="s")
for index in range(10):
    manager.sse_event(f"exit-{{index}}", 0)
# No shutdown(): the exit-time flush must deliver, within its bound.
"""


def run_and_exit(endpoint: str, *, dropped: bool) -> subprocess.CompletedProcess[str]:
    script = EXIT_SCRIPT.format(endpoint=endpoint, hung_export_seconds=HUNG_EXPORT_SECONDS)
    if dropped:
        # The host lets go of the provider just before exit: it is collected and closed in the
        # background, and exit must still wait for that close (within its bound).
        script += "del provider, manager\n"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=GENEROUS
    )


@pytest.mark.parametrize("dropped", [False, True], ids=["kept", "dropped"])
def test_the_exit_time_flush_delivers_what_is_queued(receiver: OtlpReceiver, dropped: bool) -> None:
    done = run_and_exit(receiver.logs_endpoint, dropped=dropped)
    assert (done.returncode, done.stderr) == (0, "")
    kinds = [log.attributes["event.kind"] for log in receiver.wait_for(10)]
    assert kinds == [f"exit-{index}" for index in range(10)]


@pytest.mark.parametrize("dropped", [False, True], ids=["kept", "dropped"])
def test_the_exit_time_flush_is_bounded_when_the_collector_hangs(dropped: bool) -> None:
    with hanging_server() as port:
        # subprocess.run raises TimeoutExpired (failing the test) if exit is unbounded.
        done = run_and_exit(f"http://127.0.0.1:{port}/v1/logs", dropped=dropped)
    assert done.returncode == 0
    assert done.stderr == (
        "codex_otel: of 10 telemetry events, 10 were being sent when the shutdown bound ran "
        "out and may have arrived (in_flight_at_shutdown)\n"
    )


def test_a_provider_nobody_references_is_collected_and_delivers_what_it_queued(
    receiver: OtlpReceiver,
) -> None:
    # No collection in the window: another test's provider closing then would add a thread.
    gc.collect()
    gc.disable()
    try:
        before = set(threading.enumerate())
        # A bound no slow moment of a loaded machine reaches: what is under test is that the
        # background close happens and delivers, not how fast.
        provider = start("http/protobuf", receiver.http_port, metrics=True, shutdown_timeout=10)
        started = set(threading.enumerate()) - before
    finally:
        gc.enable()
    # The event worker and the metric reader (by name: another test's thread may start too).
    workers = {t for t in started if t.name.startswith(("codex-otel-events", "OtelPeriodic"))}
    emit(provider, 3)
    collected = weakref.ref(provider)
    del provider
    gc.collect()
    assert collected() is None
    # Dropping it shut it down in the background: what it held went out and its threads end.
    assert [log.attributes["event.kind"] for log in receiver.wait_for(3)] == ["e-0", "e-1", "e-2"]
    assert {metric.name for metric in receiver.wait_for_metrics(2)} == {
        "codex.sse_event",
        "codex.sse_event.duration_ms",
    }
    assert len(workers) == 2
    for worker in workers:
        worker.join(GENEROUS)
    assert [worker for worker in workers if worker.is_alive()] == []


def test_shutdown_is_bounded_with_events_and_metrics_both_to_a_hanging_collector() -> None:
    with hanging_server() as port:
        provider = start("http/protobuf", port, shutdown_timeout=0.6, metrics=True)
        emit(provider, 5)
        assert finishes(provider.shutdown)
    assert undelivered(provider.stats()) == (5, 0, 0, 0, 5)


def test_delivery_stats_sum_up_drops_and_what_is_pending() -> None:
    stats = DeliveryStats(accepted=10, exported=4, queue_full=2, export_failed=3, after_shutdown=1)
    assert (stats.dropped, stats.pending) == (6, 3)
    assert stats.summary() == "2 queue_full, 3 export_failed, 1 after_shutdown"
    assert DeliveryStats().summary() == ""
