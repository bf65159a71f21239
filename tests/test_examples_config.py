"""The shipped example tables in config/ load as documented."""

from __future__ import annotations

from pathlib import Path

from codex_otel import (
    Headers,
    NoneExporter,
    OtlpFileExporter,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    load_config,
)

CONFIG = Path(__file__).resolve().parent.parent / "config"
ENV = {"OTLP_API_KEY": "key-1", "OTLP_TOKEN": "tok-2"}


def test_every_example_table_loads() -> None:
    loaded = {path.name: load_config(path, env=ENV).exporter for path in CONFIG.glob("*.toml")}
    assert loaded == {
        "otel-none.toml": NoneExporter(),
        "otel-http.toml": OtlpHttpExporter(
            "http://localhost:4318/v1/logs", "binary", Headers({"x-otlp-api-key": "key-1"})
        ),
        "otel-http-json.toml": OtlpHttpExporter(
            "http://localhost:4318/v1/logs", "json", Headers({"x-otlp-api-key": "key-1"})
        ),
        "otel-grpc.toml": OtlpGrpcExporter(
            "http://localhost:4317", Headers({"authorization": "Bearer tok-2"})
        ),
        "otel-metrics.toml": OtlpHttpExporter(
            "http://localhost:4318/v1/logs", "binary", Headers({"x-otlp-api-key": "key-1"})
        ),
        "otel-file.toml": OtlpFileExporter(Path("~/.codex/telemetry/session.jsonl").expanduser()),
        "otel-view.toml": OtlpHttpExporter("http://localhost:4318/v1/logs"),
        "otel-traces.toml": OtlpHttpExporter(
            "http://localhost:4318/v1/logs", "binary", Headers({"x-otlp-api-key": "key-1"})
        ),
    }


def test_traces_example_table_loads() -> None:
    config = load_config(CONFIG / "otel-traces.toml", env=ENV)
    assert (
        config.trace_exporter,
        config.span_attributes,
        config.tracestate,
        config.service_name,
        config.resource_attributes,
    ) == (
        OtlpHttpExporter(
            "http://localhost:4318/v1/traces", "binary", Headers({"x-otlp-api-key": "key-1"})
        ),
        {"deployment.environment": "prod"},
        {"codex": "cli"},
        "codex-cli",
        {"team.name": "agents"},
    )


def test_metrics_example_table_loads() -> None:
    config = load_config(CONFIG / "otel-metrics.toml", env=ENV)
    assert (
        config.metrics_exporter,
        config.metrics_export_interval_ms,
        config.metrics_temporality,
        config.metrics_conversation_id,
    ) == (
        OtlpHttpExporter(
            "http://localhost:4318/v1/metrics", "binary", Headers({"x-otlp-api-key": "key-1"})
        ),
        60_000,
        "delta",
        False,
    )
