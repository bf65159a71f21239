"""The [otel] keys of delivery and content safety: shutdown_timeout, batch, tool_result, tls."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_otel import (
    BatchConfig,
    ConfigError,
    OtelConfig,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    TlsConfig,
    ToolResultConfig,
    load_config,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_delivery_and_content_defaults() -> None:
    config = OtelConfig.from_mapping({})
    assert (config.shutdown_timeout, config.batch, config.tool_result) == (
        3.0,
        BatchConfig(
            max_queue_size=24576,
            max_queue_bytes=16 * 1024 * 1024,
            max_export_batch_size=1024,
            max_export_bytes=3 * 1024 * 1024,
            schedule_delay_ms=500,
        ),
        ToolResultConfig(max_bytes=2048, scrub_secrets=True, extra_patterns=()),
    )


def test_every_delivery_and_content_key_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[otel]
shutdown_timeout = 1.5
batch = { max_queue_size = 4096, max_export_batch_size = 256, schedule_delay_ms = 200, \
  max_queue_bytes = 1048576, max_export_bytes = 524288 }
tool_result = { max_bytes = 512, scrub_secrets = false, extra_patterns = ["ACME-[0-9]+"] }
""",
    )
    config = load_config(path)
    assert (config.shutdown_timeout, config.batch, config.tool_result) == (
        1.5,
        BatchConfig(
            max_queue_size=4096,
            max_queue_bytes=1048576,
            max_export_batch_size=256,
            max_export_bytes=524288,
            schedule_delay_ms=200,
        ),
        ToolResultConfig(max_bytes=512, scrub_secrets=False, extra_patterns=("ACME-[0-9]+",)),
    )


def test_a_small_queue_lowers_the_default_batch_size() -> None:
    config = OtelConfig.from_mapping({"batch": {"max_queue_size": 100}})
    assert config.batch == BatchConfig(max_queue_size=100, max_export_batch_size=100)


def pem_files(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    for name in ("ca.pem", "client.pem", "client-key.pem"):
        (folder / name).write_text("-----BEGIN CERTIFICATE-----\n")


@pytest.mark.parametrize("kind", ["otlp-http", "otlp-grpc"])
def test_tls_paths_resolve_against_the_config_files_folder(tmp_path: Path, kind: str) -> None:
    pem_files(tmp_path / "certs")
    endpoint = "https://collector:4318/v1/logs" if kind == "otlp-http" else "https://c:4317"
    path = write(
        tmp_path,
        f'[otel.exporter.{kind}]\nendpoint = "{endpoint}"\n'
        'tls = { ca-certificate = "certs/ca.pem", client-certificate = "certs/client.pem", '
        f'client-private-key = "{tmp_path}/certs/client-key.pem" }}\n',
    )
    tls = TlsConfig(
        ca_certificate=tmp_path / "certs" / "ca.pem",
        client_certificate=tmp_path / "certs" / "client.pem",
        client_private_key=tmp_path / "certs" / "client-key.pem",
    )
    exporter = (
        OtlpHttpExporter(endpoint=endpoint, tls=tls)
        if kind == "otlp-http"
        else OtlpGrpcExporter(endpoint=endpoint, tls=tls)
    )
    assert load_config(path).exporter == exporter


def test_tls_of_a_mapping_resolves_against_base_dir(tmp_path: Path) -> None:
    pem_files(tmp_path)
    table = {"exporter": {"otlp-grpc": {"endpoint": "https://c:4317", "tls": {}}}}
    table["exporter"]["otlp-grpc"]["tls"] = {"ca-certificate": "ca.pem"}
    config = OtelConfig.from_mapping(table, base_dir=tmp_path)
    assert config.exporter == OtlpGrpcExporter(
        endpoint="https://c:4317", tls=TlsConfig(ca_certificate=tmp_path / "ca.pem")
    )


HTTPS = '[otel.exporter.otlp-http]\nendpoint = "https://c/v1/logs"\n'

ERROR_CASES = [
    pytest.param(
        '[otel]\nshutdown_timeout = "3s"\n',
        "otel.shutdown_timeout",
        "expected a number of seconds, got a string",
        id="shutdown-timeout-type",
    ),
    pytest.param(
        "[otel]\nshutdown_timeout = 0\n",
        "otel.shutdown_timeout",
        "expected seconds > 0 and <= 600, got 0",
        id="shutdown-timeout-zero",
    ),
    pytest.param(
        "[otel]\nbatch = 5\n",
        "otel.batch",
        "expected a table, got an integer",
        id="batch-not-a-table",
    ),
    pytest.param(
        "[otel.batch]\nmax_export_bytes = 1000\n",
        "otel.batch.max_export_bytes",
        "expected an integer >= 65536, got 1000",
        id="export-bytes-too-small",
    ),
    pytest.param(
        '[otel.batch]\nmax_queue_bytes = "16M"\n',
        "otel.batch.max_queue_bytes",
        "expected an integer, got a string",
        id="queue-bytes-type",
    ),
    pytest.param(
        "[otel.batch]\nmax_queue_size = 1.5\n",
        "otel.batch.max_queue_size",
        "expected an integer, got a float",
        id="queue-size-type",
    ),
    pytest.param(
        "[otel.batch]\nmax_queue_size = 0\n",
        "otel.batch.max_queue_size",
        "expected an integer >= 1, got 0",
        id="queue-size-zero",
    ),
    pytest.param(
        "[otel.batch]\nmax_queue_size = 10\nmax_export_batch_size = 20\n",
        "otel.batch.max_export_batch_size",
        "expected at most max_queue_size (10), got 20",
        id="batch-larger-than-queue",
    ),
    pytest.param(
        "[otel.batch]\nschedule_delay_ms = true\n",
        "otel.batch.schedule_delay_ms",
        "expected an integer, got a boolean",
        id="schedule-delay-type",
    ),
    pytest.param(
        "[otel.tool_result]\nmax_bytes = 10\n",
        "otel.tool_result.max_bytes",
        "expected an integer >= 64, got 10",
        id="max-bytes-too-small",
    ),
    pytest.param(
        '[otel.tool_result]\nscrub_secrets = "on"\n',
        "otel.tool_result.scrub_secrets",
        "expected true or false, got a string",
        id="scrub-secrets-type",
    ),
    pytest.param(
        '[otel.tool_result]\nextra_patterns = "x"\n',
        "otel.tool_result.extra_patterns",
        "expected an array of strings, got a string",
        id="extra-patterns-not-an-array",
    ),
    pytest.param(
        '[otel.tool_result]\nextra_patterns = ["ok", 3]\n',
        "otel.tool_result.extra_patterns[1]",
        "expected a string, got an integer",
        id="extra-pattern-not-a-string",
    ),
    pytest.param(
        '[otel.tool_result]\nextra_patterns = ["a(b"]\n',
        "otel.tool_result.extra_patterns[0]",
        "expected a regular expression (missing ), unterminated subpattern at position 1)",
        id="extra-pattern-invalid",
    ),
    pytest.param(
        HTTPS + 'tls = "yes"\n',
        "otel.exporter.otlp-http.tls",
        "expected a table, got a string",
        id="tls-not-a-table",
    ),
    pytest.param(
        '[otel.exporter.otlp-grpc]\nendpoint = "http://c:4317"\n'
        'tls = { ca-certificate = "ca.pem" }\n',
        "otel.exporter.otlp-grpc.tls",
        "TLS needs an https:// endpoint, got 'http://c:4317'",
        id="tls-without-https",
    ),
    pytest.param(
        HTTPS + 'tls = { client-certificate = "client.pem" }\n',
        "otel.exporter.otlp-http.tls",
        "expected client-certificate and client-private-key together, or neither",
        id="tls-client-certificate-alone",
    ),
    pytest.param(
        HTTPS + 'tls = { client-private-key = "client-key.pem" }\n',
        "otel.exporter.otlp-http.tls",
        "expected client-certificate and client-private-key together, or neither",
        id="tls-client-key-alone",
    ),
    pytest.param(
        HTTPS + "tls = { ca-certificate = 5 }\n",
        "otel.exporter.otlp-http.tls.ca-certificate",
        "expected a string, got an integer",
        id="tls-path-not-a-string",
    ),
]


@pytest.mark.parametrize(("text", "key", "expected"), ERROR_CASES)
def test_bad_delivery_or_content_keys_raise_naming_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert (err.value.source, err.value.key, err.value.expected) == (str(path), key, expected)


def test_a_missing_certificate_file_is_a_config_error_naming_the_resolved_path(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, HTTPS + 'tls = { ca-certificate = "certs/ca.pem" }\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert (err.value.key, err.value.expected) == (
        "otel.exporter.otlp-http.tls.ca-certificate",
        f"expected a readable PEM file, {str(tmp_path / 'certs' / 'ca.pem')!r} does not exist",
    )
