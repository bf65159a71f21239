"""Best-effort start: invalid inherited OTEL_* variables never raise into the host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_otel import (
    DeliveryStats,
    OtelConfig,
    OtelEventManager,
    OtelProvider,
    load_config,
)
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA
from tests.transports import TRANSPORTS, exporter_table, receiver_port

# Each of these made the raw SDK raise, warn per export, or ignore our settings.
INVALID_INHERITED = {
    "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "none",
    "OTEL_EXPORTER_OTLP_COMPRESSION": "zip",
    "OTEL_EXPORTER_OTLP_TIMEOUT": "soon",
    "OTEL_EXPORTER_OTLP_INSECURE": "maybe",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "not a header list",
    "OTEL_BLRP_MAX_QUEUE_SIZE": "lots",
    "OTEL_BLRP_SCHEDULE_DELAY": "-1",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "0",
}


def start(transport: str, port: int) -> OtelProvider:
    table = {"exporter": exporter_table(transport, port), "batch": {"schedule_delay_ms": 20}}
    return OtelProvider.from_config(OtelConfig.from_mapping(table))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_invalid_inherited_otel_variables_are_ignored_and_events_arrive(
    receiver: OtlpReceiver, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in INVALID_INHERITED.items():
        monkeypatch.setenv(name, value)
    provider = start(transport, receiver_port(receiver, transport))
    OtelEventManager(provider, **METADATA).sse_event("response.created", 0)
    provider.shutdown()
    (log,) = receiver.wait_for(1)
    assert log.attributes["event.kind"] == "response.created"
    assert provider.stats() == DeliveryStats(accepted=1, exported=1)


def test_a_variable_the_grpc_exporter_parses_regardless_does_not_stop_it(
    receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    lenient: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    # The gRPC exporter parses this one even when given an explicit timeout (and used to fail
    # to start on it, turning telemetry off).
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "soon")
    provider = start("grpc", receiver.grpc_port)
    OtelEventManager(provider, **METADATA).sse_event("response.created", 0)
    provider.shutdown()
    (log,) = receiver.wait_for(1)
    assert log.attributes["event.kind"] == "response.created"
    assert provider.stats() == DeliveryStats(accepted=1, exported=1)
    assert caplog.records == []


def test_an_unreachable_endpoint_never_raises_at_start() -> None:
    table = {"exporter": {"otlp-grpc": {"endpoint": "https://collector.invalid:4317"}}}
    provider = OtelProvider.from_config(OtelConfig.from_mapping({**table, "shutdown_timeout": 0.3}))
    OtelEventManager(provider, **METADATA).sse_event("response.created", 0)
    provider.shutdown()
    stats = provider.stats()
    assert (
        stats.accepted,
        stats.exported,
        stats.export_failed + stats.in_flight_at_shutdown + stats.unsent_at_shutdown,
    ) == (
        1,
        0,
        1,
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("configured", [{}, {"x-codex-auth": "ours"}])
def test_inherited_otel_headers_are_never_sent_to_the_collector(
    receiver: OtlpReceiver,
    transport: str,
    configured: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A token the host set for some other backend must not reach this collector.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-host-token=host-secret")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-host-logs-token=host-secret")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-host-metrics=host-secret")
    exporter = exporter_table(transport, receiver_port(receiver, transport))
    (options,) = exporter.values()
    options["headers"] = configured
    metrics = {
        kind: {**opts, "endpoint": opts["endpoint"].replace("/v1/logs", "/v1/metrics")}
        for kind, opts in exporter.items()
    }
    table = {"exporter": exporter, "metrics_exporter": metrics}
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    OtelEventManager(provider, **METADATA).sse_event("response.created", 0)
    provider.shutdown()
    (log,) = receiver.wait_for(1)
    sent = [log.headers, *(metric.headers for metric in receiver.wait_for_metrics(1))]
    for headers in sent:
        assert not [value for value in headers.values() if "host-secret" in value], headers
        assert {k: v for k, v in headers.items() if k.startswith("x-")} == configured


@pytest.mark.parametrize(
    ("events", "metrics", "said"),
    [
        (True, False, "events are"),
        (False, True, "metrics are"),
        (True, True, "events and metrics are"),
    ],
)
def test_otel_sdk_disabled_is_honoured_for_every_signal_and_said_once(
    receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    events: bool,
    metrics: bool,
    said: str,
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "True")
    table: dict[str, object] = {"batch": {"schedule_delay_ms": 20}}
    if events:
        table["exporter"] = exporter_table("http/protobuf", receiver.http_port)
    if metrics:
        table["metrics_exporter"] = {"otlp-http": {"endpoint": receiver.metrics_endpoint}}
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    manager = OtelEventManager(provider, **METADATA)
    manager.sse_event("response.created", 0)
    provider.shutdown()
    assert (provider.enabled, provider.metrics, provider.stats()) == (False, None, DeliveryStats())
    assert (manager.enabled, manager.metrics_enabled, manager.recording) == (False, False, False)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("codex_otel", "WARNING", f"codex_otel: OTEL_SDK_DISABLED=true is set: {said} not exported")
    ]
    assert (receiver.logs, receiver.metrics) == ([], [])


def test_otel_sdk_disabled_says_nothing_when_no_signal_is_configured(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    provider = OtelProvider.from_config(OtelConfig())
    provider.shutdown()
    assert (provider.enabled, provider.metrics) == (False, None)
    assert caplog.records == []


@pytest.mark.parametrize(
    "trace_exporter",
    ['"otlp-http"', '{ otlp-grpc = { endpoint = "http://127.0.0.1:1" } }'],
)
def test_a_trace_exporter_starts_spans_and_says_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, trace_exporter: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[otel]\ntrace_exporter = {trace_exporter}\nshutdown_timeout = 0.5\n")
    provider = OtelProvider.from_config(load_config(path))
    assert (provider.enabled, provider.traces is not None) == (False, True)
    provider.shutdown()
    assert (provider.traces, caplog.records) == (None, [])


def test_a_trace_exporter_of_kind_none_starts_no_spans(caplog: pytest.LogCaptureFixture) -> None:
    provider = OtelProvider.from_config(OtelConfig.from_mapping({"trace_exporter": "none"}))
    assert provider.traces is None
    provider.shutdown()
    assert caplog.records == []
