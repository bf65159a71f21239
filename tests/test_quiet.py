"""The SDK exporters' retry lines about our exports stay off the host's log; the host's own
OpenTelemetry logging is untouched."""

from __future__ import annotations

import logging

import pytest

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import Fault, OtlpReceiver
from tests.conftest import METADATA
from tests.transports import TRANSPORTS, exporter_table, receiver_port


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_retries_of_our_exports_log_nothing_and_the_hosts_otel_logging_still_works(
    receiver: OtlpReceiver, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.fail_next(2, Fault(http_status=503, retry_after="0", grpc_code="UNAVAILABLE"))
    table = {"exporter": exporter_table(transport, receiver_port(receiver, transport))}
    with caplog.at_level(logging.DEBUG):
        provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
        OtelEventManager(provider, **METADATA).sse_event("retried", 0)
        assert provider.force_flush(15_000)
        # The host logs through the same SDK logger itself: that line must still show.
        exporter_logger = "opentelemetry.exporter.otlp.proto.grpc.exporter"
        # (Unique per run: the SDK's own DuplicateFilter drops a repeat within 20 s.)
        logging.getLogger(exporter_logger).warning(f"the host's own line, {transport}")
        provider.shutdown()
    assert receiver.refused == 2
    assert provider.stats() == DeliveryStats(accepted=1, exported=1)
    shown = [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert shown == [(exporter_logger, f"the host's own line, {transport}")]
