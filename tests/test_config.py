"""The [otel] table: every key, the defaults, and a clear error for each kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_otel import (
    ConfigError,
    Headers,
    NoneExporter,
    OtelConfig,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    load_config,
)

ENV = {"OTEL_TOKEN": "s3cret-token"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_missing_default_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(env={"CODEX_HOME": str(tmp_path)})
    assert config == OtelConfig(
        environment="dev",
        exporter=NoneExporter(),
        log_user_prompt=False,
        source=str(tmp_path / "config.toml"),
    )


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    # A path the caller named and mistyped must not silently turn telemetry off.
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "absent.toml")
    assert (
        str(err.value) == f"{tmp_path / 'absent.toml'}: otel: could not read the file: no such file"
    )


def test_a_directory_is_said_to_be_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(err.value) == f"{tmp_path}: otel: could not read the file: it is a directory"


def test_file_without_otel_table_gives_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, 'model = "gpt-5"\n')
    assert load_config(path) == OtelConfig()


def test_default_path_is_codex_home_config(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[otel]\nenvironment = "from-codex-home"\n')
    config = load_config(env={"CODEX_HOME": str(tmp_path)})
    assert config.environment == "from-codex-home"
    assert config.source == str(tmp_path / "config.toml")


def test_default_path_falls_back_to_home_dot_codex(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".codex").mkdir()
    (tmp_path / ".codex" / "config.toml").write_text('[otel]\nenvironment = "home"\n')
    assert load_config(env={}).environment == "home"


def test_full_otlp_http_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[otel]
environment = "staging"
log_user_prompt = true
exporter = { otlp-http = { endpoint = "https://otel.example.com/v1/logs", protocol = "json", \
headers = { "x-api-key" = "${OTEL_TOKEN}", "x-team" = "agents-${OTEL_TOKEN}" } } }
""",
    )
    config = load_config(path, env=ENV)
    assert config == OtelConfig(
        environment="staging",
        log_user_prompt=True,
        exporter=OtlpHttpExporter(
            endpoint="https://otel.example.com/v1/logs",
            protocol="json",
            headers=Headers({"x-api-key": "s3cret-token", "x-team": "agents-s3cret-token"}),
        ),
    )


def test_otlp_http_protocol_defaults_to_binary(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[otel.exporter.otlp-http]\nendpoint = "http://collector:4318/v1/logs"\n'
    )
    assert load_config(path).exporter == OtlpHttpExporter(
        endpoint="http://collector:4318/v1/logs", protocol="binary", headers=Headers()
    )


def test_full_otlp_grpc_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[otel.exporter.otlp-grpc]\nendpoint = "https://otel.example.com:4317"\n'
        'headers = { authorization = "Bearer ${OTEL_TOKEN}" }\n',
    )
    assert load_config(path, env=ENV).exporter == OtlpGrpcExporter(
        endpoint="https://otel.example.com:4317",
        headers=Headers({"authorization": "Bearer s3cret-token"}),
    )


@pytest.mark.parametrize(
    ("short", "expected"),
    [
        ("none", NoneExporter()),
        ("otlp-http", OtlpHttpExporter("http://localhost:4318/v1/logs", "binary", Headers())),
        ("otlp-grpc", OtlpGrpcExporter("http://localhost:4317", Headers())),
    ],
)
def test_short_exporter_forms_mean_the_local_collector(
    tmp_path: Path, short: str, expected: object
) -> None:
    path = write(tmp_path, f'[otel]\nexporter = "{short}"\n')
    assert load_config(path).exporter == expected


def test_from_mapping_validates_like_a_file() -> None:
    config = OtelConfig.from_mapping(
        {"exporter": {"otlp-grpc": {"endpoint": "http://127.0.0.1:4317"}}}, env={}
    )
    assert config.exporter == OtlpGrpcExporter("http://127.0.0.1:4317", Headers())
    with pytest.raises(ConfigError) as err:
        OtelConfig.from_mapping({"exporter": "kafka"}, source="host settings")
    assert str(err.value) == (
        "host settings: otel.exporter: unknown exporter 'kafka'; "
        "expected one of 'none', 'otlp-http', 'otlp-grpc' or a table with exactly one of "
        "'otlp-http', 'otlp-grpc', 'otlp-file'"
    )


def test_metrics_keys_default_to_off_delta_and_a_minute(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[otel]\n"))
    assert (
        config.metrics_exporter,
        config.metrics_export_interval_ms,
        config.metrics_temporality,
        config.metrics_conversation_id,
    ) == (NoneExporter(), 60_000, "delta", False)


def test_full_metrics_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[otel]
metrics_export_interval_ms = 5000
metrics_temporality = "cumulative"
metrics_conversation_id = true
[otel.metrics_exporter.otlp-grpc]
endpoint = "https://otel.example.com:4317"
headers = { authorization = "Bearer ${OTEL_TOKEN}" }
""",
    )
    config = load_config(path, env=ENV)
    assert config == OtelConfig(
        metrics_exporter=OtlpGrpcExporter(
            "https://otel.example.com:4317", Headers({"authorization": "Bearer s3cret-token"})
        ),
        metrics_export_interval_ms=5000,
        metrics_temporality="cumulative",
        metrics_conversation_id=True,
    )
    assert config.exporter == NoneExporter()
    assert "s3cret-token" not in repr(config)


@pytest.mark.parametrize(
    ("short", "expected"),
    [
        ("none", NoneExporter()),
        ("otlp-http", OtlpHttpExporter("http://localhost:4318/v1/metrics", "binary", Headers())),
        ("otlp-grpc", OtlpGrpcExporter("http://localhost:4317", Headers())),
    ],
)
def test_short_metrics_exporter_forms_mean_the_local_collector(
    tmp_path: Path, short: str, expected: object
) -> None:
    path = write(tmp_path, f'[otel]\nmetrics_exporter = "{short}"\n')
    assert load_config(path).metrics_exporter == expected


def test_config_is_frozen() -> None:
    config = OtelConfig()
    with pytest.raises(AttributeError):
        config.environment = "prod"  # type: ignore[misc]


def test_header_values_never_appear_in_repr(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[otel.exporter.otlp-http]\nendpoint = "http://c:4318/v1/logs"\n'
        'headers = { authorization = "${OTEL_TOKEN}" }\n',
    )
    config = load_config(path, env=ENV)
    assert "s3cret-token" not in repr(config)
    assert "s3cret-token" not in str(config.exporter)
    assert repr(config.exporter.headers) == "Headers({'authorization': '***'})"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"none"', NoneExporter()),
        ('"otlp-http"', OtlpHttpExporter("http://localhost:4318/v1/traces", "binary", Headers())),
        ('"otlp-grpc"', OtlpGrpcExporter("http://localhost:4317", Headers())),
        (
            '{ otlp-http = { endpoint = "https://c.example/v1/traces", protocol = "json" } }',
            OtlpHttpExporter("https://c.example/v1/traces", "json", Headers()),
        ),
    ],
)
def test_trace_exporter_loads_like_exporter(tmp_path: Path, value: str, expected: object) -> None:
    config = load_config(write(tmp_path, f"[otel]\ntrace_exporter = {value}\n"))
    assert (config.trace_exporter, config.exporter) == (expected, NoneExporter())


def test_bad_trace_exporter_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[otel.trace_exporter.otlp-http]\nprotocol = "json"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (
        f"{path}: otel.trace_exporter.otlp-http.endpoint: "
        "missing; expected a URL such as http://host:port"
    )


def test_endpoint_password_never_appears_in_repr() -> None:
    config = OtelConfig.from_mapping(
        {
            "exporter": {"otlp-http": {"endpoint": "https://u:hunter2@c.example/v1/logs"}},
            "metrics_exporter": {"otlp-http": {"endpoint": "https://u:hunter2@c.example:4318"}},
        }
    )
    assert "hunter2" not in repr(config)
    assert repr(config.exporter) == (
        "OtlpHttpExporter(endpoint='https://***@c.example/v1/logs', protocol='binary', "
        "headers=Headers({}), tls=None)"
    )
    assert repr(config.metrics_exporter) == (
        "OtlpHttpExporter(endpoint='https://***@c.example:4318', protocol='binary', "
        "headers=Headers({}), tls=None)"
    )
    # The real endpoint is kept for the exporter.
    assert config.exporter.endpoint == "https://u:hunter2@c.example/v1/logs"  # type: ignore[union-attr]


ERROR_CASES = [
    pytest.param(
        "[otel\nenvironment = 1\n",
        "otel",
        "expected valid TOML "
        "(Expected ']' at the end of a table declaration (at line 1, column 6))",
        id="toml-syntax",
    ),
    pytest.param(
        "[otel]\nenvironment = 3\n",
        "otel.environment",
        "expected a string, got an integer",
        id="wrong-type-environment",
    ),
    pytest.param(
        '[otel]\nlog_user_prompt = "yes"\n',
        "otel.log_user_prompt",
        "expected true or false, got a string",
        id="wrong-type-log-user-prompt",
    ),
    pytest.param(
        "[otel]\nexporter = 5\n",
        "otel.exporter",
        "expected one of 'none', 'otlp-http', 'otlp-grpc' or a table with exactly one of "
        "'otlp-http', 'otlp-grpc', 'otlp-file'",
        id="wrong-type-exporter",
    ),
    pytest.param(
        '[otel]\nmetrics_exporter = "prometheus"\n',
        "otel.metrics_exporter",
        "unknown exporter 'prometheus'; expected one of 'none', 'otlp-http', 'otlp-grpc' or a "
        "table with exactly one of 'otlp-http', 'otlp-grpc', 'otlp-file'",
        id="unknown-metrics-exporter",
    ),
    pytest.param(
        '[otel.metrics_exporter.otlp-http]\nendpoint = "http://c/v1/metrics"\nprotocol = "xml"\n',
        "otel.metrics_exporter.otlp-http.protocol",
        "expected 'binary' or 'json', got 'xml'",
        id="unknown-metrics-protocol",
    ),
    pytest.param(
        "[otel]\nmetrics_export_interval_ms = 0\n",
        "otel.metrics_export_interval_ms",
        "expected a positive integer, got 0",
        id="metrics-interval-zero",
    ),
    pytest.param(
        '[otel]\nmetrics_export_interval_ms = "60s"\n',
        "otel.metrics_export_interval_ms",
        "expected a positive integer, got a string",
        id="metrics-interval-string",
    ),
    pytest.param(
        '[otel]\nmetrics_temporality = "lowmemory"\n',
        "otel.metrics_temporality",
        "expected 'delta' or 'cumulative', got 'lowmemory'",
        id="metrics-temporality-unknown",
    ),
    pytest.param(
        "[otel]\nmetrics_conversation_id = 1\n",
        "otel.metrics_conversation_id",
        "expected true or false, got an integer",
        id="metrics-conversation-id-not-bool",
    ),
    pytest.param(
        '[otel]\nexporter = "zipkin"\n',
        "otel.exporter",
        "unknown exporter 'zipkin'; expected one of 'none', 'otlp-http', 'otlp-grpc' or a "
        "table with exactly one of 'otlp-http', 'otlp-grpc', 'otlp-file'",
        id="unknown-exporter-short",
    ),
    pytest.param(
        '[otel.exporter.kafka]\nendpoint = "http://c"\n',
        "otel.exporter.kafka",
        "unknown exporter; expected one of 'otlp-http', 'otlp-grpc', 'otlp-file'",
        id="unknown-exporter-table",
    ),
    pytest.param(
        '[otel.exporter.otlp-http]\nendpoint = "http://c/v1/logs"\nprotocol = "xml"\n',
        "otel.exporter.otlp-http.protocol",
        "expected 'binary' or 'json', got 'xml'",
        id="unknown-protocol",
    ),
    pytest.param(
        '[otel.exporter.otlp-http]\nprotocol = "json"\n',
        "otel.exporter.otlp-http.endpoint",
        "missing; expected a URL such as http://host:port",
        id="missing-endpoint-http",
    ),
    pytest.param(
        "[otel.exporter.otlp-grpc]\nheaders = {}\n",
        "otel.exporter.otlp-grpc.endpoint",
        "missing; expected a URL such as http://host:port",
        id="missing-endpoint-grpc",
    ),
    pytest.param(
        '[otel.exporter.otlp-grpc]\nendpoint = "localhost:4317"\n',
        "otel.exporter.otlp-grpc.endpoint",
        "expected an http:// or https:// URL, got 'localhost:4317'",
        id="endpoint-without-scheme",
    ),
    pytest.param(
        '[otel.exporter.otlp-http]\nendpoint = "http://c/v1/logs"\nheaders = "x"\n',
        "otel.exporter.otlp-http.headers",
        "expected a table of strings, got a string",
        id="headers-not-a-table",
    ),
    pytest.param(
        '[otel.exporter.otlp-http]\nendpoint = "http://c/v1/logs"\nheaders = { x-key = 42 }\n',
        "otel.exporter.otlp-http.headers.x-key",
        "expected a string, got an integer",
        id="header-not-a-string",
    ),
    pytest.param(
        '[otel.exporter.otlp-http]\nendpoint = "http://c/v1/logs"\n'
        'headers = { authorization = "Bearer ${UNSET_TOKEN}" }\n',
        "otel.exporter.otlp-http.headers.authorization",
        "environment variable UNSET_TOKEN is not set",
        id="header-variable-unset",
    ),
    pytest.param(
        "otel = 3\n",
        "otel",
        "expected a table, got an integer",
        id="otel-not-a-table",
    ),
]


@pytest.mark.parametrize(("text", "key", "expected"), ERROR_CASES)
def test_bad_config_raises_error_naming_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env=ENV)
    assert (err.value.source, err.value.key, err.value.expected) == (str(path), key, expected)
    assert str(err.value) == f"{path}: {key}: {expected}"


def test_header_values_never_appear_in_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[otel.exporter.otlp-http]\nendpoint = "http://c/v1/logs"\nprotocol = "bogus"\n'
        'headers = { authorization = "${OTEL_TOKEN}", literal = "plain-secret" }\n',
    )
    with pytest.raises(ConfigError) as err:
        load_config(path, env=ENV)
    assert "s3cret-token" not in str(err.value)
    assert "plain-secret" not in str(err.value)


@pytest.mark.parametrize("key", ["exporter", "metrics_exporter", "trace_exporter"])
def test_grpc_endpoint_with_a_password_is_rejected_without_showing_it(key: str) -> None:
    # gRPC has no place for a user:password: it would be neither used nor kept secret.
    table = {key: {"otlp-grpc": {"endpoint": "https://agent:hunter2@c.example:4317"}}}
    with pytest.raises(ConfigError) as err:
        OtelConfig.from_mapping(table)
    assert str(err.value) == (
        f"<mapping>: otel.{key}.otlp-grpc.endpoint: expected no user:password@ in a gRPC "
        "endpoint (gRPC does not send it; put credentials in headers), "
        "got 'https://***@c.example:4317'"
    )


@pytest.mark.parametrize(
    ("endpoint", "shown"),
    [
        ("htps://agent:hunter2@c.example/v1/logs", "'htps://***@c.example/v1/logs'"),
        ("http:/agent:hunter2@c.example/v1/logs", "'***@c.example/v1/logs'"),
        ("agent:hunter2@c.example:4318", "'***@c.example:4318'"),
    ],
)
def test_a_mistyped_endpoint_error_never_shows_its_password(endpoint: str, shown: str) -> None:
    for kind in ("otlp-http", "otlp-grpc"):
        with pytest.raises(ConfigError) as err:
            OtelConfig.from_mapping({"exporter": {kind: {"endpoint": endpoint}}})
        assert str(err.value) == (
            f"<mapping>: otel.exporter.{kind}.endpoint: "
            f"expected an http:// or https:// URL, got {shown}"
        )


def test_tls_on_a_plain_endpoint_error_never_shows_its_password(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    table = {
        "exporter": {
            "otlp-http": {
                "endpoint": "http://agent:hunter2@c.example/v1/logs",
                "tls": {"ca-certificate": str(tmp_path / "ca.pem")},
            }
        }
    }
    with pytest.raises(ConfigError) as err:
        OtelConfig.from_mapping(table)
    assert str(err.value) == (
        "<mapping>: otel.exporter.otlp-http.tls: TLS needs an https:// endpoint, "
        "got 'http://***@c.example/v1/logs'"
    )


def test_a_password_containing_at_signs_is_masked_whole_in_reprs() -> None:
    config = OtelConfig.from_mapping(
        {"exporter": {"otlp-http": {"endpoint": "https://u:p@ss@word@c.example/v1/logs"}}}
    )
    assert repr(config.exporter) == (
        "OtlpHttpExporter(endpoint='https://***@c.example/v1/logs', protocol='binary', "
        "headers=Headers({}), tls=None)"
    )
