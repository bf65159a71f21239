"""The private attributes of other libraries that a forked child's reset and the analytics
sink's whole-request deadline reach into (export/_fork.py, analytics/_bounded_http.py).

Both reach them with `getattr(..., None)` so a host never breaks: a release that renamed one
would turn the reset or the deadline into a silent no-op (a child hanging on an inherited
lock, a trickling server holding the sink). These tests fail instead.
"""

from __future__ import annotations

import io
from typing import Any

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    PeriodicExportingMetricReader,
)

from codex_otel.analytics._bounded_http import bounded_client
from codex_otel.export._fork import _renew_transport, fresh_metrics_locks


def _metrics_state(provider: Any, reader: Any) -> tuple[list[object], int]:
    """The SDK's metrics locks, and how many attribute sets hold measurements."""
    consumer = provider._measurement_consumer
    locks = [consumer._lock, reader._export_lock]
    measured = 0
    for storage in consumer._reader_storages.values():
        locks.append(storage._lock)
        for matches in storage._instrument_view_instrument_matches.values():
            for match in matches:
                locks.append(match._lock)
                measured += len(match._attributes_aggregation)
    return locks, measured


def test_a_forked_childs_metrics_reset_renews_every_lock_and_drops_what_the_parent_measured() -> (
    None
):
    reader = PeriodicExportingMetricReader(
        ConsoleMetricExporter(out=io.StringIO()), export_interval_millis=3_600_000
    )
    provider = MeterProvider(metric_readers=[reader])
    try:
        provider.get_meter("m").create_counter("c").add(1, {"k": "v"})
        provider.get_meter("m").create_histogram("h").record(1.0)
        before, measured = _metrics_state(provider, reader)
        assert (len(before), measured) == (5, 2)  # consumer, export, storage, 2 matches
        fresh_metrics_locks(provider)
        after, measured = _metrics_state(provider, reader)
        assert ([a is b for a, b in zip(after, before, strict=True)], measured) == (
            [False] * 5,
            0,
        )
    finally:
        provider.shutdown()


def test_a_forked_childs_otlp_http_exporter_gets_new_connection_pools() -> None:
    exporter = OTLPLogExporter(endpoint="http://127.0.0.1:9/v1/logs")
    transport = exporter._client._transport  # type: ignore[attr-defined]
    adapters = transport._session.adapters.values()
    before = [adapter.poolmanager for adapter in adapters]
    assert before
    _renew_transport(transport)
    after = [adapter.poolmanager for adapter in transport._session.adapters.values()]
    assert [a is b for a, b in zip(after, before, strict=True)] == [False] * len(before)
    exporter.shutdown()


def test_the_analytics_client_bounds_every_pool_by_the_request_deadline() -> None:
    with bounded_client(5.0) as client:
        pools = [t._pool for t in [client._transport, *client._mounts.values()]]  # type: ignore[attr-defined]
        assert pools
        names = {type(pool._network_backend).__name__ for pool in pools}
        assert names == {"DeadlineBackend"}
