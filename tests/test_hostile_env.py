"""A hostile environment never stops the start: each OTEL_* variable the SDK reads, set to
garbage, still gives a working pipeline, and inherited limits never cut the catalog."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA, emit_catalog, expected_catalog, normalise

# Every OTEL_* variable the installed SDK and OTLP exporters read for logs, metrics and the
# resource (traces, Zipkin and Prometheus are never built by this package).
SDK_VARIABLES = [
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_BLRP_EXPORT_TIMEOUT",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_MAX_QUEUE_SIZE",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SERVICE_NAME",
    "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS",
    "OTEL_SDK_DISABLED",
    "OTEL_LOG_LEVEL",
    "OTEL_CONFIG_FILE",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_METRIC_EXPORT_TIMEOUT",
    "OTEL_METRICS_EXEMPLAR_FILTER",
    "OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED",
    "OTEL_PYTHON_LOGGER_CONFIGURATOR",
    "OTEL_PYTHON_METER_CONFIGURATOR",
    "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED",
    "OTEL_PYTHON_EXPORTER_OTLP_GRPC_RETRYABLE_ERROR_CODES",
    *(
        f"OTEL_PYTHON_EXPORTER_OTLP_{transport}{signal}_CREDENTIAL_PROVIDER"
        for transport in ("GRPC", "HTTP")
        for signal in ("", "_LOGS", "_METRICS")
    ),
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
    "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
    *(
        f"OTEL_EXPORTER_OTLP{signal}_{setting}"
        for signal in ("", "_LOGS", "_METRICS")
        for setting in (
            "ENDPOINT",
            "PROTOCOL",
            "TIMEOUT",
            "HEADERS",
            "COMPRESSION",
            "INSECURE",
            "CERTIFICATE",
            "CLIENT_CERTIFICATE",
            "CLIENT_KEY",
        )
    ),
]

GARBAGE = ["abc", "-5", "=,=%zz"]


def table(receiver: OtlpReceiver, transport: str, metrics: bool) -> dict[str, Any]:
    if transport == "grpc":
        exporter: dict[str, Any] = {"otlp-grpc": {"endpoint": receiver.grpc_endpoint}}
        metrics_exporter: dict[str, Any] = exporter
    else:
        exporter = {"otlp-http": {"endpoint": receiver.logs_endpoint, "protocol": transport}}
        url = receiver.logs_endpoint.replace("logs", "metrics")
        metrics_exporter = {"otlp-http": {"endpoint": url, "protocol": transport}}
    return {"exporter": exporter, **({"metrics_exporter": metrics_exporter} if metrics else {})}


def run_catalog(
    receiver: OtlpReceiver, transport: str, *, metrics: bool = False
) -> tuple[list[Any], DeliveryStats]:
    """Start from the table, emit the whole catalog, shut down; what arrived and the stats."""
    before = len(receiver.logs)
    config = OtelConfig.from_mapping(table(receiver, transport, metrics))
    provider = OtelProvider.from_config(config)
    assert provider.enabled
    emit_catalog(OtelEventManager(provider, **METADATA))
    provider.shutdown()
    logs = receiver.wait_for(before + 11)[before:]
    return [(log.event_name, normalise(log.attributes)) for log in logs], provider.stats()


@pytest.mark.parametrize("transport", ["binary", "json", "grpc"])
def test_every_sdk_variable_set_to_garbage_still_starts_and_delivers_the_catalog(
    receiver: OtlpReceiver, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = []
    for name in SDK_VARIABLES:
        for value in GARBAGE:
            monkeypatch.setenv(name, value)
            try:
                arrived, stats = run_catalog(receiver, transport)
            except Exception as exc:  # strict mode: a start failure raises instead of hiding
                failures.append(f"{name}={value}: {type(exc).__name__}: {exc}")
                continue
            finally:
                monkeypatch.delenv(name)
            if arrived != expected_catalog() or stats != DeliveryStats(accepted=11, exported=11):
                failures.append(f"{name}={value}: {len(arrived)} arrived, {stats}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "name",
    [
        "OTEL_ATTRIBUTE_COUNT_LIMIT",
        "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
        "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    ],
)
def test_inherited_limits_never_cut_the_catalog(
    receiver: OtlpReceiver,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(name, "3")
    with caplog.at_level(logging.WARNING):
        arrived, stats = run_catalog(receiver, "binary")
    assert arrived == expected_catalog()
    assert stats == DeliveryStats(accepted=11, exported=11)
    assert [record.getMessage() for record in caplog.records] == []


@pytest.mark.parametrize("transport", ["binary", "json", "grpc"])
def test_with_metrics_on_garbage_never_stops_the_start(
    receiver: OtlpReceiver, transport: str, monkeypatch: pytest.MonkeyPatch, lenient: None
) -> None:
    # As in production (lenient): a metrics exporter the SDK cannot build with a variable it
    # parses regardless is said once and left off; the start and the events go on.
    failures = []
    for name in SDK_VARIABLES:
        monkeypatch.setenv(name, "abc")
        try:
            arrived, stats = run_catalog(receiver, transport, metrics=True)
        except Exception as exc:
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        finally:
            monkeypatch.delenv(name)
        if arrived != expected_catalog() or stats != DeliveryStats(accepted=11, exported=11):
            failures.append(f"{name}: {len(arrived)} arrived, {stats}")
    assert not failures, "\n".join(failures)
