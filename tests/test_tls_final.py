"""A failed certificate check is final: said at the first failure, never retried (the SDK's
retries took about 8 s, longer than a short-lived process lives)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from codex_otel import DeliveryStats
from codex_otel._config import Headers, OtlpGrpcExporter, TlsConfig
from codex_otel.export._factory import Signal, build_exporter
from codex_otel.export._tls import grpc_certificate_failure
from codex_otel.testing import OtlpReceiver
from tests.certs import Certificates
from tests.faulty import CountingRelay, closed_port
from tests.test_tls import config_file, send_three

__all__ = ["certs", "exporter_logs_not_deduplicated"]  # the fixtures, used by name
from tests.test_tls import certs, exporter_logs_not_deduplicated


@pytest.mark.parametrize("transport", ["http/protobuf", "http/json", "grpc"])
def test_a_wrong_ca_fails_the_export_at_once_and_says_why(
    certs: Certificates, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    with OtlpReceiver(tls=certs.server_tls()) as receiver:
        grpc = transport == "grpc"
        endpoint = receiver.grpc_endpoint if grpc else receiver.logs_endpoint
        kind = "otlp-grpc" if grpc else "otlp-http"
        path = config_file(certs, receiver, transport, 'ca-certificate = "other-ca.pem"')
        with caplog.at_level(logging.WARNING):
            provider = send_three(path)  # shutdown_timeout = 1: shorter than the retries
            provider.shutdown()
        assert receiver.logs == []
    assert provider.stats() == DeliveryStats(accepted=3, export_failed=3)
    ours = [r.getMessage() for r in caplog.records if r.name == "codex_otel"]
    assert len(ours) == 2
    assert ours[0].startswith(f"codex_otel: exporting telemetry to {kind} {endpoint} failed (")
    assert "certificate verify failed" in ours[0]
    assert ours[1] == "codex_otel: 3 of 3 telemetry events were not delivered (3 export_failed)"


def test_config_check_over_grpc_tls_prints_no_grpc_core_lines(certs: Certificates) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRPC_")}
    with OtlpReceiver(tls=certs.server_tls()) as receiver:
        path = config_file(certs, receiver, "grpc", 'ca-certificate = "other-ca.pem"')
        done = subprocess.run(
            [sys.executable, "-m", "codex_otel", "config", "check", str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert (done.returncode, done.stderr) == (1, "")
    assert "test export:      tls: TLS handshake with 127.0.0.1:" in done.stdout


def _one_item(signal: Signal) -> Any:
    """One real SDK item of `signal`, as its exporter's `export` takes it."""
    if signal == "logs":
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import (
            InMemoryLogRecordExporter,
            SimpleLogRecordProcessor,
        )

        logs = InMemoryLogRecordExporter()
        logger_provider = LoggerProvider()
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
        logger_provider.get_logger("t").emit(body="x", event_name="e")
        return logs.get_finished_logs()
    if signal == "metrics":
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        reader = InMemoryMetricReader()
        MeterProvider(metric_readers=[reader]).get_meter("t").create_counter("c").add(1)
        return reader.get_metrics_data()
    from opentelemetry.sdk.trace import TracerProvider

    span = TracerProvider().get_tracer("t").start_span("s")
    span.end()
    return [span]


def _grpc_exporter(signal: Signal, port: int, ca: Path) -> Any:
    config = OtlpGrpcExporter(
        endpoint=f"https://127.0.0.1:{port}",
        headers=Headers({"authorization": "Bearer s3cret-token"}),
        tls=TlsConfig(ca_certificate=ca),
    )
    return build_exporter(signal, config)


def _sdk_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")]


@pytest.mark.usefixtures("exporter_logs_not_deduplicated")
@pytest.mark.parametrize("signal", ["logs", "metrics", "traces"])
def test_a_wrong_ca_over_grpc_fails_at_the_first_attempt_and_says_why(
    certs: Certificates, signal: Signal, caplog: pytest.LogCaptureFixture
) -> None:
    with OtlpReceiver(tls=certs.server_tls()) as receiver:
        with CountingRelay(receiver.grpc_port) as relay:
            exporter = _grpc_exporter(signal, relay.port, certs.folder / "other-ca.pem")
            try:
                with caplog.at_level(logging.WARNING):
                    result = exporter.export(_one_item(signal))
                attempts = relay.connections
            finally:
                exporter.shutdown()
        assert (receiver.logs, receiver.metrics, receiver.spans) == ([], [], [])
    assert (result.name, attempts) == ("FAILURE", 1)
    [line] = _sdk_lines(caplog)
    assert line.startswith(
        f"Failed to export {signal} to 127.0.0.1:{relay.port}, error code: "
        "StatusCode.UNAVAILABLE, error details: certificate verify failed, not retried: "
    )
    assert "CERTIFICATE_VERIFY_FAILED" in line
    assert "s3cret" not in caplog.text


@pytest.mark.usefixtures("exporter_logs_not_deduplicated")
def test_a_collector_down_over_grpc_is_still_retried(
    certs: Certificates, caplog: pytest.LogCaptureFixture
) -> None:
    with CountingRelay() as relay:  # accepts each connection and closes it: no handshake
        exporter = _grpc_exporter("logs", relay.port, certs.folder / "ca.pem")
        outcome: list[Any] = []
        with caplog.at_level(logging.WARNING):
            worker = threading.Thread(
                target=lambda: outcome.append(exporter.export(_one_item("logs")))
            )
            worker.start()
            retried = relay.wait_for(2)
            exporter.shutdown()  # ends the exporter's wait before its next retry
            worker.join(15)
    assert (retried, [result.name for result in outcome]) == (True, ["FAILURE"])
    lines = _sdk_lines(caplog)
    assert lines[0].startswith(
        "Transient error StatusCode.UNAVAILABLE encountered while exporting logs to "
        f"127.0.0.1:{relay.port}, retrying in "
    )
    assert "certificate" not in caplog.text


def _real_grpc_error(port: int, ca: bytes, host_name: str | None = None) -> BaseException:
    """What a real gRPC call to 127.0.0.1:`port` raises, trusting `ca`, expecting the server's
    certificate to name `host_name` (else 127.0.0.1)."""
    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc

    options = [] if host_name is None else [("grpc.ssl_target_name_override", host_name)]
    credentials = grpc.ssl_channel_credentials(root_certificates=ca)
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials, options=options) as channel:
        stub = logs_service_pb2_grpc.LogsServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.Export(logs_service_pb2.ExportLogsServiceRequest(), timeout=10)
    return raised.value


def test_real_grpc_errors_of_a_certificate_check_are_told_from_a_collector_down(
    certs: Certificates,
) -> None:
    with OtlpReceiver(tls=certs.server_tls()) as receiver:
        port = receiver.grpc_port
        wrong_ca = _real_grpc_error(port, certs.other_ca.certificate)
        wrong_host = _real_grpc_error(port, certs.ca.certificate, host_name="elsewhere.example")
    down = _real_grpc_error(closed_port(), certs.ca.certificate)
    verdicts = [grpc_certificate_failure(e) for e in (wrong_ca, wrong_host, down)]
    assert verdicts == [True, True, False]


@pytest.mark.parametrize("transport", ["http/protobuf", "grpc"])
def test_a_second_exporter_failing_soon_after_the_first_still_says_why(
    certs: Certificates, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The SDK drops a log line whose template repeats within 20 s: the second exporter's
    # reason must still be heard (as for events and spans failing together).
    reasons = []
    for _ in range(2):
        with OtlpReceiver(tls=certs.server_tls()) as receiver:
            path = config_file(certs, receiver, transport, 'ca-certificate = "other-ca.pem"')
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                send_three(path).shutdown()
        ours = [r.getMessage() for r in caplog.records if r.name == "codex_otel"]
        reasons.append("certificate verify failed" in ours[0])
    assert reasons == [True, True]
