"""A failed certificate check is final: said at the first failure, never retried (the SDK's
retries took about 8 s, longer than a short-lived process lives)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from codex_otel import DeliveryStats
from codex_otel.testing import OtlpReceiver
from tests.certs import Certificates
from tests.test_tls import config_file, send_three

__all__ = ["certs"]  # the fixture, used by name
from tests.test_tls import certs


@pytest.mark.parametrize("transport", ["http/protobuf", "http/json"])
def test_a_wrong_ca_fails_the_export_at_once_and_says_why(
    certs: Certificates, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    with OtlpReceiver(tls=certs.server_tls()) as receiver:
        endpoint = receiver.logs_endpoint
        path = config_file(certs, receiver, transport, 'ca-certificate = "other-ca.pem"')
        with caplog.at_level(logging.WARNING):
            provider = send_three(path)  # shutdown_timeout = 1: shorter than the retries
            provider.shutdown()
        assert receiver.logs == []
    assert provider.stats() == DeliveryStats(accepted=3, export_failed=3)
    ours = [r.getMessage() for r in caplog.records if r.name == "codex_otel"]
    assert len(ours) == 2
    assert ours[0].startswith(f"codex_otel: exporting telemetry to otlp-http {endpoint} failed (")
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
