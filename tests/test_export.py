"""The whole catalog over real OTLP (HTTP protobuf, HTTP JSON, gRPC) to a local receiver."""

from __future__ import annotations

import logging
import socket
import warnings
from pathlib import Path
from typing import Any

import pytest
import structlog
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from codex_otel import OtelEventManager, OtelProvider, load_config, package_version
from codex_otel.testing import OtlpReceiver, ReceivedLog
from tests.conftest import COMMON, METADATA, emit_catalog, expected_catalog, normalise

TOKEN_ENV = {"COLLECTOR_TOKEN": "tok-123"}


def exporter_table(transport: str, receiver: OtlpReceiver) -> str:
    headers = 'headers = { "x-codex-auth" = "Bearer ${COLLECTOR_TOKEN}" }'
    if transport == "grpc":
        return f'[otel.exporter.otlp-grpc]\nendpoint = "{receiver.grpc_endpoint}"\n{headers}\n'
    protocol = "json" if transport == "http/json" else "binary"
    return (
        f'[otel.exporter.otlp-http]\nendpoint = "{receiver.logs_endpoint}"\n'
        f'protocol = "{protocol}"\n{headers}\n'
    )


def start_from_toml(tmp_path: Path, text: str) -> OtelProvider:
    path = tmp_path / "config.toml"
    path.write_text(text)
    config = load_config(path, env=TOKEN_ENV)
    return OtelProvider.from_config(config, service_version="9.9.9")


def resource_without_instance_id(log: ReceivedLog) -> dict[str, Any]:
    resource = dict(log.resource)
    # The SDK gives every process a random service.instance.id: present, but not comparable.
    assert isinstance(resource.pop("service.instance.id"), str)
    return resource


TRANSPORTS = ["http/protobuf", "http/json", "grpc"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_whole_catalog_arrives_with_every_field(
    tmp_path: Path, receiver: OtlpReceiver, transport: str
) -> None:
    provider = start_from_toml(
        tmp_path,
        '[otel]\nenvironment = "staging"\nlog_user_prompt = true\n'
        + exporter_table(transport, receiver),
    )
    # The prompt setting reaches the manager through the provider, as tool_result does.
    manager = OtelEventManager(provider, **METADATA)
    emit_catalog(manager)
    provider.shutdown()

    expected = expected_catalog(prompt="fix the bug")
    logs = receiver.wait_for(len(expected), timeout=10)
    assert [(log.event_name, normalise(log.attributes)) for log in logs] == expected
    for log in logs:
        assert log.transport == transport
        assert (log.severity_number, log.severity_text) == (SeverityNumber.INFO.value, "INFO")
        assert log.body == log.event_name
        assert log.scope_name == "codex_otel"
        assert log.time_unix_nano > 0
        assert resource_without_instance_id(log) == {
            "service.name": "codex-cli",
            "service.version": "9.9.9",
            "env": "staging",
            "host.name": socket.gethostname(),  # on the log resource, as Codex's
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": log.resource["telemetry.sdk.version"],
        }
        assert log.headers["x-codex-auth"] == "Bearer tok-123"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_prompt_is_redacted_on_the_wire_by_default(
    tmp_path: Path, receiver: OtlpReceiver, transport: str
) -> None:
    provider = start_from_toml(tmp_path, exporter_table(transport, receiver))
    OtelEventManager(provider, **METADATA).user_prompt(["my secret plan"])
    provider.shutdown()
    (log,) = receiver.wait_for(1)
    assert normalise(log.attributes) == {
        "event.name": "codex.user_prompt",
        "event.timestamp": "<ts>",
        **COMMON,
        "prompt_length": len("my secret plan"),
        "prompt": "[REDACTED]",
    }
    assert log.resource["env"] == "dev"


def test_service_name_and_default_version(tmp_path: Path, receiver: OtlpReceiver) -> None:
    path = tmp_path / "config.toml"
    path.write_text(exporter_table("http/protobuf", receiver).replace("${COLLECTOR_TOKEN}", "x"))
    provider = OtelProvider.from_config(load_config(path), service_name="my-agent")
    OtelEventManager(provider, **METADATA).sse_event("response.created", 0)
    provider.shutdown()
    (log,) = receiver.wait_for(1)
    assert (log.resource["service.name"], log.resource["service.version"]) == (
        "my-agent",
        package_version(),
    )


def test_host_logging_never_reaches_the_exporter(
    tmp_path: Path, receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    # The host has its own stdlib logging, its own structlog and its own OTel pipeline.
    host_exporter = InMemoryLogRecordExporter()
    host_otel = LoggerProvider(shutdown_on_exit=False)
    host_otel.add_log_record_processor(SimpleLogRecordProcessor(host_exporter))
    with warnings.catch_warnings():
        # Deprecated in the SDK, but it is what hosts have wired up today.
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(logger_provider=host_otel)
    logging.getLogger().addHandler(handler)
    host_seen: list[dict[str, Any]] = []

    def capture(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        host_seen.append(dict(event_dict))
        raise structlog.DropEvent

    structlog.configure(processors=[capture])
    try:
        provider = start_from_toml(tmp_path, exporter_table("grpc", receiver))
        manager = OtelEventManager(provider, **METADATA)
        with caplog.at_level(logging.INFO):
            logging.getLogger("host.app").warning("host stdlib warning")
            structlog.get_logger("host").info("host structlog event")
            host_otel.get_logger("host.otel").emit(body="host otel record", event_name="host.evt")
            manager.sse_event("response.created", 0)
        provider.shutdown()
    finally:
        structlog.reset_defaults()
        logging.getLogger().removeHandler(handler)
        host_otel.shutdown()

    logs = receiver.wait_for(1)
    assert [log.event_name for log in logs] == ["codex.sse_event"]
    # And the package's events do not leak into the host's pipelines either.
    assert [e["event"] for e in host_seen] == ["host structlog event"]
    assert [r.log_record.body for r in host_exporter.get_finished_logs()] == [
        "host stdlib warning",
        "host otel record",
    ]


def test_shutdown_delivers_everything_queued(tmp_path: Path, receiver: OtlpReceiver) -> None:
    provider = start_from_toml(tmp_path, exporter_table("http/protobuf", receiver))
    manager = OtelEventManager(provider, **METADATA)
    for index in range(1500):
        manager.sse_event(f"delta-{index}", 0)
    provider.shutdown()
    logs = receiver.wait_for(1500)
    assert [log.attributes["event.kind"] for log in logs] == [f"delta-{i}" for i in range(1500)]


def test_provider_is_a_context_manager(tmp_path: Path, receiver: OtlpReceiver) -> None:
    with start_from_toml(tmp_path, exporter_table("http/json", receiver)) as provider:
        OtelEventManager(provider, **METADATA).sse_event("response.created", 0)
    assert not provider.enabled
    assert [log.event_name for log in receiver.wait_for(1)] == ["codex.sse_event"]
