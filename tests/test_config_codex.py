"""A `config.toml` written for Codex loads here with the same meaning: the corpus under
`tests/data/codex-otel-tables/` (each table accepted by the real Codex CLI 0.169.0, see
`make interop-codex`), through `load_config()` and `codex-otel config check`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from codex_otel import (
    Headers,
    NoneExporter,
    OtelConfig,
    OtelProvider,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    load_config,
)
from codex_otel.testing import OtlpReceiver
from tests.cli import SECRET, run

CORPUS = Path(__file__).parent / "data" / "codex-otel-tables"


def codex_table(tmp_path: Path, name: str, receiver: OtlpReceiver) -> Path:
    """The corpus table `name`, its endpoints on `receiver`."""
    text = (CORPUS / f"{name}.toml").read_text(encoding="utf-8")
    for marker, endpoint in {
        "@LOGS@": receiver.logs_endpoint,
        "@METRICS@": receiver.metrics_endpoint,
        "@TRACES@": receiver.traces_endpoint,
        "@GRPC@": receiver.grpc_endpoint,
    }.items():
        text = text.replace(marker, endpoint)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_corpus_holds_every_table_tested_here() -> None:
    assert sorted(path.stem for path in CORPUS.glob("*.toml")) == sorted(EXPECTED)


def expected(name: str, receiver: OtlpReceiver, path: Path) -> tuple[OtelConfig, list[str]]:
    """The config each corpus table means, and the warnings it loads with."""
    source = str(path)
    if name == "statsig-default":
        return OtelConfig(
            environment="staging",
            log_user_prompt=True,
            exporter=OtlpHttpExporter(
                receiver.logs_endpoint, "binary", Headers({"x-otlp-api-key": SECRET})
            ),
            metrics_exporter=NoneExporter(),
        ), [
            f"{source}: otel.metrics_exporter: 'statsig' is Codex's built-in sink at OpenAI; "
            "codex_otel sends nothing there (read as 'none')"
        ]
    if name == "nested-tracestate":
        return OtelConfig(
            trace_exporter=OtlpHttpExporter(receiver.traces_endpoint, "json"),
            span_attributes={"deployment.region": "eu-west-1"},
            tracestate={"acme": "run:nightly;team:agents", "tenant@vendor": "id:42"},
        ), []
    if name == "opt-ins":
        from codex_otel import ToolResultConfig

        return OtelConfig(
            log_user_prompt=True,
            log_agent_responses=True,
            log_guardian_assessments=True,
            exporter=OtlpGrpcExporter(receiver.grpc_endpoint),
            metrics_exporter=OtlpHttpExporter(receiver.metrics_endpoint, "json"),
            tool_result=ToolResultConfig(max_bytes=4096),
        ), []
    assert name == "dropped-entries"
    return OtelConfig(
        exporter=OtlpHttpExporter(receiver.logs_endpoint, "binary"),
        span_attributes={"team": "agents"},
        tracestate={"acme": "ok:yes"},
    ), [
        f"{source}: otel.future_setting: unknown key, ignored",
        f"{source}: otel.tool_result.max_lines: unknown key, ignored (did you mean 'max_bytes'?)",
        f"{source}: otel.exporter.otlp-http.compression: unknown key, ignored",
        f"{source}: otel.span_attributes: an attribute with an empty name, ignored",
        f"{source}: otel.tracestate.Upper: expected a W3C tracestate key (lower-case letters, "
        "digits, _-*/, optionally tenant@system); member ignored",
        f"{source}: otel.tracestate.acme.bad key: expected a field name of visible ASCII "
        "without ':', ';', ',' or '='; ignored",
        f"{source}: otel.tracestate.acme.semi: expected a value of printable ASCII without "
        "',', '=' or ';'; ignored",
    ]


EXPECTED = ("statsig-default", "nested-tracestate", "opt-ins", "dropped-entries")


@pytest.mark.parametrize("name", EXPECTED)
def test_a_codex_table_loads_with_codex_s_meaning_and_one_warning_per_dropped_key(
    tmp_path: Path, receiver: OtlpReceiver, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHECK_TOKEN", SECRET)
    path = codex_table(tmp_path, name, receiver)
    config = load_config(path)
    assert (config, list(config.warnings)) == expected(name, receiver, path)


def test_the_warnings_are_logged_once_as_a_provider_starts_from_the_table(
    tmp_path: Path, receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    path = codex_table(tmp_path, "dropped-entries", receiver)
    config = load_config(path)
    assert caplog.records == []  # loading alone says nothing: `config check` prints them

    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        provider = OtelProvider.from_config(config)
    provider.shutdown()

    assert [record.getMessage() for record in caplog.records] == [
        f"codex_otel: {line}" for line in config.warnings
    ]


@pytest.mark.parametrize("name", EXPECTED)
def test_config_check_accepts_a_codex_table_and_prints_its_warnings(
    tmp_path: Path, receiver: OtlpReceiver, name: str
) -> None:
    path = codex_table(tmp_path, name, receiver)
    _, warnings = expected(name, receiver, path)

    result = run("config", "check", str(path), CHECK_TOKEN=SECRET)

    assert result.returncode == 0, result.stdout + result.stderr
    printed = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert printed == ["warning:          " + line.removeprefix(f"{path}: ") for line in warnings]
    assert result.stderr == ""
    assert SECRET not in result.stdout


def test_a_nested_tracestate_member_too_long_together_is_dropped_with_a_warning() -> None:
    config = OtelConfig.from_mapping(
        {"tracestate": {"acme": {"a": "x" * 200, "b": "y" * 60}, "kept": "v"}}, source="c.toml"
    )
    assert (dict(config.tracestate), list(config.warnings)) == (
        {"kept": "v"},
        [
            "c.toml: otel.tracestate.acme: its fields together are over 256 characters or end "
            "in a space; ignored"
        ],
    )


def test_more_than_32_nested_members_are_dropped_together_as_codex_does() -> None:
    members = {f"m{i}": {"f": "v"} for i in range(33)}
    config = OtelConfig.from_mapping({"tracestate": {"flat": "v", **members}}, source="c.toml")
    assert (dict(config.tracestate), list(config.warnings)) == (
        {"flat": "v"},
        ["c.toml: otel.tracestate: more than 32 members together; the nested ones ignored"],
    )


def test_a_wrong_type_codex_refuses_is_still_a_config_error() -> None:
    from codex_otel import ConfigError

    with pytest.raises(ConfigError) as err:
        OtelConfig.from_mapping({"log_agent_responses": "yes"}, source="c.toml")
    assert (
        str(err.value) == "c.toml: otel.log_agent_responses: expected true or false, got a string"
    )


@pytest.mark.parametrize("signal", ["exporter", "trace_exporter"])
def test_statsig_on_any_exporter_loads_as_none_with_a_warning(signal: str) -> None:
    config = OtelConfig.from_mapping({signal: "statsig"}, source="c.toml")
    assert (getattr(config, signal), list(config.warnings)) == (
        NoneExporter(),
        [
            f"c.toml: otel.{signal}: 'statsig' is Codex's built-in sink at OpenAI; codex_otel "
            "sends nothing there (read as 'none')"
        ],
    )
