"""Every signal over every transport, under hostile inherited OTEL_* variables: the exporters
are built by one factory, so what the `[otel]` table says holds for all of them alike."""

from __future__ import annotations

import logging

import pytest

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA
from tests.transports import TRANSPORTS, exporter_table, receiver_port

SIGNALS = ("", "LOGS_", "METRICS_", "TRACES_")


def hostile(compression: str) -> dict[str, str]:
    """What a host's shell may carry for some other backend, for every signal."""
    variables: dict[str, str] = {}
    for signal in SIGNALS:
        prefix = f"OTEL_EXPORTER_OTLP_{signal}"
        variables[f"{prefix}COMPRESSION"] = compression
        variables[f"{prefix}HEADERS"] = f"x-host-{signal.lower() or 'all'}=host-secret"
        # Honoured, these would send TLS to a plaintext receiver and time every export out.
        variables[f"{prefix}INSECURE"] = "false"
        variables[f"{prefix}TIMEOUT"] = "0.000001"
    return variables


@pytest.mark.parametrize("compression", ["gzip", "bogus"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_inherited_compression_headers_insecure_and_timeout_are_ignored_by_every_signal(
    receiver: OtlpReceiver,
    transport: str,
    compression: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name, value in hostile(compression).items():
        monkeypatch.setenv(name, value)
    port = receiver_port(receiver, transport)
    table = {
        "exporter": exporter_table(transport, port),
        "metrics_exporter": exporter_table(transport, port, "/v1/metrics"),
        "trace_exporter": exporter_table(transport, port, "/v1/traces"),
    }
    with caplog.at_level(logging.WARNING):
        provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
        manager = OtelEventManager(provider, **METADATA)
        with manager.turn("turn-1"):
            manager.sse_event("response.created", 0)
        provider.shutdown()

    (log,) = receiver.wait_for(1)
    metrics = receiver.wait_for_metrics(1)
    assert log.attributes["event.kind"] == "response.created"
    assert {metric.name for metric in metrics} == {
        "codex.sse_event",
        "codex.sse_event.duration_ms",
        # The turn's own, at its end.
        "codex.conversation.turn.count",
        "codex.turn.e2e_duration_ms",
        "codex.turn.tool.call",
    }
    (span,) = receiver.wait_for_spans(1)
    assert (span.name, span.attributes["turn.id"]) == ("invoke_agent codex", "turn-1")
    assert provider.stats() == DeliveryStats(accepted=1, exported=1)
    assert provider.stats("spans") == DeliveryStats(accepted=1, exported=1)
    # Identical for every signal: no compression (gRPC's is not visible in its metadata, but
    # a bogus value would have stopped its exporter), and only the exporter's own headers.
    sent = [log.headers, span.headers, *(metric.headers for metric in metrics)]
    for headers in sent:
        assert "content-encoding" not in headers
        assert [value for value in headers.values() if "host-secret" in value] == []
        # Every signal sends the same header names (lengths and such aside).
        assert headers.keys() - {"content-length"} == log.headers.keys() - {"content-length"}
    assert [record.getMessage() for record in caplog.records] == []
