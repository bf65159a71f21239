"""TLS to real local receivers: a custom CA, mutual TLS, a wrong CA, a certificate gone at start."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from codex_otel import DeliveryStats, OtelEventManager, OtelProvider, load_config
from codex_otel.testing import OtlpReceiver
from tests.certs import Certificates
from tests.conftest import METADATA

TRANSPORTS = ["http/protobuf", "http/json", "grpc"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.create(tmp_path_factory.mktemp("certs"))


def config_file(certs: Certificates, receiver: OtlpReceiver, transport: str, tls: str) -> Path:
    if transport == "grpc":
        table = f'[otel.exporter.otlp-grpc]\nendpoint = "{receiver.grpc_endpoint}"\n'
    else:
        protocol = "json" if transport == "http/json" else "binary"
        table = (
            f'[otel.exporter.otlp-http]\nendpoint = "{receiver.logs_endpoint}"\n'
            f'protocol = "{protocol}"\n'
        )
    # Relative paths: they resolve against the config file's folder (the certificates').
    path = certs.folder / f"config-{transport.replace('/', '-')}.toml"
    path.write_text(f"[otel]\nshutdown_timeout = 1\n{table}tls = {{ {tls} }}\n")
    return path


def send_three(path: Path) -> OtelProvider:
    provider = OtelProvider.from_config(load_config(path))
    manager = OtelEventManager(provider, **METADATA)
    for kind in ("a", "b", "c"):
        manager.sse_event(kind, 0)
    return provider


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_server_tls_with_a_custom_ca_delivers(certs: Certificates, transport: str) -> None:
    with OtlpReceiver(tls=certs.server_tls()) as receiver:
        path = config_file(certs, receiver, transport, 'ca-certificate = "ca.pem"')
        provider = send_three(path)
        provider.shutdown()
        logs = receiver.wait_for(3)
    assert [log.attributes["event.kind"] for log in logs] == ["a", "b", "c"]
    assert provider.stats() == DeliveryStats(accepted=3, exported=3)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_mutual_tls_delivers_with_the_client_certificate(
    certs: Certificates, transport: str
) -> None:
    with OtlpReceiver(tls=certs.server_tls(mutual=True)) as receiver:
        path = config_file(
            certs,
            receiver,
            transport,
            'ca-certificate = "ca.pem", client-certificate = "client.pem", '
            'client-private-key = "client-key.pem"',
        )
        provider = send_three(path)
        provider.shutdown()
        logs = receiver.wait_for(3)
    assert [log.attributes["event.kind"] for log in logs] == ["a", "b", "c"]
    assert provider.stats() == DeliveryStats(accepted=3, exported=3)


@pytest.fixture
def exporter_logs_not_deduplicated() -> None:
    """The SDK exporters drop a message repeated within 20 s (their DuplicateFilter): earlier
    tests logging the same failure must not hide this test's."""
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("opentelemetry.exporter"):
            for log_filter in logging.getLogger(name).filters:
                log_filter.__dict__.pop("last_log", None)


@pytest.mark.usefixtures("exporter_logs_not_deduplicated")
@pytest.mark.parametrize(
    ("transport", "message"),
    [
        ("http/protobuf", "certificate verify failed"),
        ("http/json", "certificate verify failed"),
        ("grpc", "CERTIFICATE_VERIFY_FAILED"),
    ],
)
def test_a_wrong_ca_fails_with_a_clear_message_and_the_host_carries_on(
    certs: Certificates, transport: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with OtlpReceiver(tls=certs.server_tls()) as receiver:
        path = config_file(certs, receiver, transport, 'ca-certificate = "other-ca.pem"')
        endpoint = receiver.grpc_endpoint if transport == "grpc" else receiver.logs_endpoint
        before = set(threading.enumerate())
        with caplog.at_level(logging.WARNING):
            provider = send_three(path)
            done = threading.Event()
            threading.Thread(target=lambda: (provider.shutdown(), done.set()), daemon=True).start()
            assert done.wait(15)
        # Past the shutdown bound the worker may still be in a failing attempt: it ends here,
        # with the receiver still up, not during a later test.
        for worker in set(threading.enumerate()) - before:
            if worker.name.startswith("codex-otel-"):
                worker.join(15)
        assert receiver.logs == []
    stats = provider.stats()
    assert (
        stats.accepted,
        stats.exported,
        stats.export_failed + stats.in_flight_at_shutdown + stats.unsent_at_shutdown,
    ) == (
        3,
        0,
        3,
    )
    kind = "otlp-grpc" if transport == "grpc" else "otlp-http"
    ours = [r.getMessage() for r in caplog.records if r.name == "codex_otel"]
    failed = f"codex_otel: exporting telemetry to {kind} {endpoint} failed ("
    summary = stats.shutdown_message("events")
    # The warning says why, in the words of the TLS library, and the exporter's own lines
    # never reach the host (a failed handshake is not retried: tests/test_tls_final.py).
    assert ours[-1] == summary
    assert [line for line in ours[:-1] if not (line.startswith(failed) and message in line)] == []
    assert [r.name for r in caplog.records if r.name != "codex_otel"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_certificate_missing_at_start_turns_telemetry_off_and_says_so_once(
    certs: Certificates,
    transport: str,
    tmp_path: Path,
    lenient: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(certs.ca.certificate)
    with OtlpReceiver(tls=certs.server_tls()) as receiver:
        path = config_file(certs, receiver, transport, f'ca-certificate = "{ca}"')
        config = load_config(path)
        ca.unlink()  # gone between loading the config and starting
        provider = OtelProvider.from_config(config)
        manager = OtelEventManager(provider, **METADATA)
        manager.sse_event("a", 0)
        provider.shutdown()
    kind = "otlp-grpc" if transport == "grpc" else "otlp-http"
    assert not provider.enabled
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        (
            "codex_otel",
            f"codex_otel: starting the {kind} exporter failed (OSError: cannot read the TLS "
            f"ca-certificate {str(ca)!r}: No such file or directory); "
            "telemetry carries on without it",
        )
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_metrics_use_the_same_tls_table(certs: Certificates, transport: str) -> None:
    tls = (
        'tls = { ca-certificate = "ca.pem", client-certificate = "client.pem", '
        'client-private-key = "client-key.pem" }'
    )
    with OtlpReceiver(tls=certs.server_tls(mutual=True)) as receiver:
        if transport == "grpc":
            table = f'[otel.metrics_exporter.otlp-grpc]\nendpoint = "{receiver.grpc_endpoint}"\n'
        else:
            protocol = "json" if transport == "http/json" else "binary"
            endpoint = receiver.logs_endpoint.replace("/v1/logs", "/v1/metrics")
            table = (
                f'[otel.metrics_exporter.otlp-http]\nendpoint = "{endpoint}"\n'
                f'protocol = "{protocol}"\n'
            )
        path = certs.folder / f"metrics-{transport.replace('/', '-')}.toml"
        path.write_text(f"[otel]\nshutdown_timeout = 3\n{table}{tls}\n")
        provider = OtelProvider.from_config(load_config(path))
        OtelEventManager(provider, **METADATA).sse_event("response.created", 0.01)
        provider.shutdown()  # exports the metrics it holds
        names = {metric.name for metric in receiver.wait_for_metrics(1)}
    assert "codex.sse_event" in names


@pytest.mark.parametrize("transport", ["http/protobuf", "grpc"])
@pytest.mark.parametrize(("ca", "outcome"), [("ca.pem", "accepted"), ("other-ca.pem", "tls")])
def test_config_check_uses_the_tls_table(
    certs: Certificates, transport: str, ca: str, outcome: str
) -> None:
    from codex_otel.cli._check import check_exports

    tls = (
        f'ca-certificate = "{ca}", client-certificate = "client.pem", '
        'client-private-key = "client-key.pem"'
    )
    with OtlpReceiver(tls=certs.server_tls(mutual=True)) as receiver:
        config = load_config(config_file(certs, receiver, transport, tls))
        results = check_exports(config, timeout=5)
    assert list(results) == ["logs"]
    result = results["logs"]
    assert result is not None and result.outcome == outcome, result
