"""The trace and resource keys of `[otel]`: loaded as Codex writes them, every bad value a
ConfigError naming its key, and the resource every signal carries."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from codex_otel import ConfigError, OtelConfig, OtelProvider, load_config
from codex_otel._config import Headers, OtlpHttpExporter

CODEX_CONFIG = """
model = "gpt-5-codex"

[otel]
environment = "prod"
service_name = "my-agent"

[otel.trace_exporter.otlp-http]
endpoint = "https://otel.example.com/v1/traces"
protocol = "json"
headers = { "x-team" = "agents" }

[otel.span_attributes]
"deployment.region" = "eu-west-1"
shard = 3
canary = true
weight = 0.5

[otel.tracestate]
codex = "t61rcWkgMzE"
"tenant@vendor" = "x"

[otel.resource_attributes]
"team.name" = "infra"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_codex_config_with_every_trace_and_resource_key_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CODEX_CONFIG))
    assert (
        config.trace_exporter,
        config.span_attributes,
        config.tracestate,
        config.service_name,
        config.resource_attributes,
    ) == (
        OtlpHttpExporter(
            "https://otel.example.com/v1/traces", "json", Headers({"x-team": "agents"})
        ),
        {"deployment.region": "eu-west-1", "shard": 3, "canary": True, "weight": 0.5},
        {"codex": "t61rcWkgMzE", "tenant@vendor": "x"},
        "my-agent",
        {"team.name": "infra"},
    )


def test_the_defaults_export_no_traces_under_codex_cli() -> None:
    config = OtelConfig()
    assert (config.trace_exporter.kind, config.span_attributes, config.tracestate) == (
        "none",
        {},
        {},
    )
    assert (config.service_name, config.resource_attributes) == ("codex-cli", {})


ERRORS = [
    ("span_attributes = 5", "otel.span_attributes", "expected a table, got an integer"),
    (
        "span_attributes = { tags = [1, 2] }",
        "otel.span_attributes.tags",
        "expected a string, boolean, integer or float, got an array",
    ),
    ("tracestate = []", "otel.tracestate", "expected a table of strings, got an array"),
    (
        'tracestate = { Codex = "x" }',
        "otel.tracestate.Codex",
        "expected a W3C tracestate key (lower-case letters, digits, _-*/, optionally "
        "tenant@system)",
    ),
    (
        'tracestate = { codex = "a,b" }',
        "otel.tracestate.codex",
        "expected a W3C tracestate value (1-256 printable ASCII characters, no ',' or '=', "
        "not ending in a space)",
    ),
    (
        "tracestate = { codex = 1 }",
        "otel.tracestate.codex",
        "expected a W3C tracestate value (1-256 printable ASCII characters, no ',' or '=', "
        "not ending in a space)",
    ),
    ('service_name = "  "', "otel.service_name", "expected a non-empty string"),
    ("service_name = 7", "otel.service_name", "expected a string, got an integer"),
    (
        "resource_attributes = { team = 1 }",
        "otel.resource_attributes.team",
        "expected a string, got an integer",
    ),
    (
        'resource_attributes = { "service.name" = "x" }',
        "otel.resource_attributes.service.name",
        "set by otel.service_name instead",
    ),
    (
        'trace_exporter = "zipkin"',
        "otel.trace_exporter",
        "unknown exporter 'zipkin'; expected one of 'none', 'otlp-http', 'otlp-grpc' or a "
        "table with exactly one of 'otlp-http', 'otlp-grpc', 'otlp-file'",
    ),
]


@pytest.mark.parametrize(("line", "key", "expected"), ERRORS)
def test_a_bad_trace_or_resource_value_is_a_config_error_naming_its_key(
    tmp_path: Path, line: str, key: str, expected: str
) -> None:
    path = write(tmp_path, f"[otel]\n{line}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: {key}: {expected}"


def test_more_than_32_tracestate_entries_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"otel.tracestate: expected at most 32 entries"):
        OtelConfig.from_mapping({"tracestate": {f"k{i}": "v" for i in range(33)}})


def test_resource_code_wins_over_the_table_which_wins_over_inherited_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "OTEL_RESOURCE_ATTRIBUTES", "inherited=yes,team.name=inherited,service.name=inherited"
    )
    monkeypatch.setenv("OTEL_SERVICE_NAME", "inherited-service")
    config = OtelConfig.from_mapping(
        {
            "environment": "prod",
            "service_name": "my-agent",
            "resource_attributes": {"team.name": "infra", "cost.center": "42"},
        }
    )

    def resource(provider: OtelProvider) -> dict[str, object]:
        attributes = dict(provider.resource.attributes)
        assert isinstance(attributes.pop("service.instance.id"), str)
        for name in ("telemetry.sdk.language", "telemetry.sdk.name", "telemetry.sdk.version"):
            attributes.pop(name)
        return attributes

    common = {
        "inherited": "yes",
        "team.name": "infra",
        "cost.center": "42",
        "service.version": metadata.version("codex-otel"),
        "env": "prod",
    }
    assert resource(OtelProvider.from_config(config)) == {**common, "service.name": "my-agent"}
    in_code = OtelProvider.from_config(config, service_name="from-code", service_version="9.9")
    assert resource(in_code) == {
        **common,
        "service.name": "from-code",
        "service.version": "9.9",
    }
