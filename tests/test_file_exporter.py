"""The `otlp-file` exporter: OTLP/JSON lines that the official proto JSON parser reads back
whole, appended, counted, with `~` expanded and folders created; and its config errors."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from codex_otel import (
    ConfigError,
    DeliveryStats,
    OtelConfig,
    OtelEventManager,
    OtelProvider,
    OtlpFileExporter,
    load_config,
)
from codex_otel._metrics import reader_from_config
from codex_otel.export._factory import build_exporter
from codex_otel.testing import InMemoryMetrics, Metric, ReceivedLog
from codex_otel.testing._otlp_decode import (
    decode_logs_request,
    decode_metrics_request,
    parse_otlp_json_into,
)
from tests.conftest import METADATA, emit_catalog, expected_catalog, normalise


def file_table(path: Path) -> dict[str, Any]:
    return {"otlp-file": {"path": str(path)}}


def read_file(path: Path) -> tuple[list[ReceivedLog], list[Metric]]:
    """Each line through the official protobuf JSON parser, then the receiver's decoding."""
    logs: list[ReceivedLog] = []
    metrics: list[Metric] = []
    for line in path.read_bytes().splitlines():
        document = json.loads(line)
        if "resourceLogs" in document:
            request = parse_otlp_json_into(line, ExportLogsServiceRequest())
            logs += decode_logs_request(request, "file", {})
        else:
            assert set(document) == {"resourceMetrics"}, document.keys()
            metrics += decode_metrics_request(
                parse_otlp_json_into(line, ExportMetricsServiceRequest()), "file", {}
            )
    return logs, metrics


def test_events_and_metrics_round_trip_through_the_proto_json_parser(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    config = OtelConfig.from_mapping(
        {
            "exporter": file_table(path),
            "metrics_exporter": file_table(path),
            "metrics_temporality": "cumulative",
        }
    )
    # What the metrics were, read in memory beside the file's reader (both cumulative).
    memory = InMemoryMetrics()
    file_reader = reader_from_config(config)
    assert file_reader is not None
    provider = OtelProvider(
        build_exporter("logs", config.exporter), metric_readers=[file_reader, memory]
    )
    emit_catalog(OtelEventManager(provider, **METADATA))
    expected_metrics = memory.metrics()
    provider.shutdown()

    logs, metrics = read_file(path)
    assert [(log.event_name, normalise(log.attributes)) for log in logs] == expected_catalog()
    assert {log.resource["service.name"] for log in logs} == {"codex-cli"}
    assert [dataclasses.replace(m, transport="memory") for m in metrics] == expected_metrics
    assert provider.stats() == DeliveryStats(accepted=11, exported=11)


def test_file_is_appended_by_every_provider_never_truncated(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    config = OtelConfig.from_mapping({"exporter": file_table(path)})
    for attempt in (1, 2):
        with OtelProvider.from_config(config) as provider:
            OtelEventManager(provider, **METADATA).sse_event(f"kind-{attempt}", 0.001)
    logs, _ = read_file(path)
    assert [log.attributes["event.kind"] for log in logs] == ["kind-1", "kind-2"]


def test_lines_of_concurrent_exporters_never_interleave(tmp_path: Path) -> None:
    # Events of two providers, in batches far larger than a write buffer, into one file.
    path = tmp_path / "shared.jsonl"
    config = OtelConfig.from_mapping({"exporter": file_table(path)})
    providers = [OtelProvider.from_config(config) for _ in range(2)]

    def emit(provider: OtelProvider, tag: str) -> None:
        manager = OtelEventManager(provider, **METADATA)
        for index in range(300):
            manager.tool_result("shell", f"{tag}-{index}", {}, 0.001, True, tag * 1000)

    threads = [
        threading.Thread(target=emit, args=(provider, tag))
        for provider, tag in zip(providers, "ab", strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for provider in providers:
        provider.shutdown()
    logs, _ = read_file(path)  # a torn line would fail to parse
    calls = sorted(str(log.attributes["call_id"]) for log in logs)
    assert calls == sorted(f"{tag}-{index}" for tag in "ab" for index in range(300))


def test_home_is_expanded_folders_created_and_the_file_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config_file = tmp_path / "config.toml"
    config_file.write_text('[otel.exporter.otlp-file]\npath = "~/telemetry/codex/events.jsonl"\n')
    config = load_config(config_file)
    target = tmp_path / "telemetry" / "codex" / "events.jsonl"
    assert config.exporter == OtlpFileExporter(path=target)
    with OtelProvider.from_config(config) as provider:
        OtelEventManager(provider, **METADATA).user_prompt(["hello"])
    (log,), _ = read_file(target)
    assert log.attributes["prompt"] == "[REDACTED]"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_relative_path_resolves_against_the_config_files_folder(tmp_path: Path) -> None:
    config_file = tmp_path / "conf" / "config.toml"
    config_file.parent.mkdir()
    config_file.write_text('[otel]\nmetrics_exporter = { otlp-file = { path = "out/m.jsonl" } }\n')
    assert load_config(config_file).metrics_exporter == OtlpFileExporter(
        path=tmp_path / "conf" / "out" / "m.jsonl"
    )


def test_trace_exporter_takes_the_file_kind_too(tmp_path: Path) -> None:
    config = OtelConfig.from_mapping({"trace_exporter": file_table(tmp_path / "t.jsonl")})
    assert config.trace_exporter == OtlpFileExporter(path=tmp_path / "t.jsonl")


def test_a_failing_file_is_counted_and_said_once(
    lenient: None, caplog: pytest.LogCaptureFixture
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full, a device whose every write fails with ENOSPC")
    config = OtelConfig.from_mapping({"exporter": file_table(Path("/dev/full"))})
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        provider = OtelProvider.from_config(config)
        manager = OtelEventManager(provider, **METADATA)
        manager.user_prompt(["one"])
        assert provider.force_flush(5000) is False
        manager.user_prompt(["two"])
        provider.shutdown()
    assert provider.stats() == DeliveryStats(accepted=2, export_failed=2)
    ours = [r.getMessage() for r in caplog.records if r.name == "codex_otel"]
    assert ours == [
        "codex_otel: exporting telemetry to otlp-file /dev/full failed (Failed to write logs "
        "batch to stream: OSError: [Errno 28] "
        "No space left on device). Events not delivered are counted in provider.stats(); "
        "later failures are only counted",
        "codex_otel: 2 of 2 telemetry events were not delivered (2 export_failed)",
    ]


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        (
            {"exporter": "otlp-file"},
            "otel.exporter",
            'expected a table naming the file: { otlp-file = { path = "..." } }',
        ),
        (
            {"exporter": {"otlp-file": {}}},
            "otel.exporter.otlp-file.path",
            "missing; expected the file to append OTLP/JSON lines to",
        ),
        (
            {"metrics_exporter": {"otlp-file": {"path": 3}}},
            "otel.metrics_exporter.otlp-file.path",
            "expected a string, got an integer",
        ),
        (
            {"exporter": {"otlp-file": {"path": " "}}},
            "otel.exporter.otlp-file.path",
            "expected a file path, got an empty string",
        ),
        (
            {"exporter": {"otlp-files": {"path": "x.jsonl"}}},
            "otel.exporter.otlp-files",
            "unknown exporter; expected one of 'otlp-http', 'otlp-grpc', 'otlp-file'",
        ),
    ],
)
def test_file_exporter_mistakes_name_the_key(
    table: dict[str, Any], key: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as raised:
        OtelConfig.from_mapping(table, source="cfg.toml", base_dir=tmp_path)
    assert str(raised.value) == f"cfg.toml: {key}: {message}"


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        OtelConfig.from_mapping(
            {"exporter": file_table(tmp_path)}, source="cfg.toml", base_dir=tmp_path
        )
    assert str(raised.value) == (
        f"cfg.toml: otel.exporter.otlp-file.path: expected a file, {str(tmp_path)!r} is a folder"
    )


# -- the command line: config check and demo with a file -------------------------------


def test_config_check_says_the_file_is_writable(tmp_path: Path) -> None:
    from tests.cli import run

    path = tmp_path / "config.toml"
    path.write_text(
        '[otel]\nexporter = { otlp-file = { path = "out/events.jsonl" } }\n'
        f"metrics_exporter = {{ otlp-file = {{ path = {str(path)!r} }} }}\n"
    )
    result = run("config", "check", str(path))
    assert result.returncode == 0, result.stderr
    events = tmp_path / "out" / "events.jsonl"
    assert result.stdout.splitlines()[3:] == [
        "exporter:         otlp-file",
        f"path:             {events}",
        "metrics_exporter: otlp-file",
        f"metrics path:     {path}",
        f"test export:      writable: {events} will be created (creating {events.parent})",
        f"metrics export:   writable: {path} exists ({path.stat().st_size} bytes): appending",
    ]
    assert not events.parent.exists()  # the check writes nothing


def test_config_check_says_why_a_file_is_not_writable(tmp_path: Path) -> None:
    from tests.cli import run

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    path = tmp_path / "config.toml"
    path.write_text(f"[otel.exporter.otlp-file]\npath = {str(blocker / 'e.jsonl')!r}\n")
    result = run("config", "check", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        f"test export:      not writable: {blocker} is not a folder, "
        f"so {blocker / 'e.jsonl'} cannot be created"
    )


def test_config_check_without_a_file_at_the_default_path_says_so(tmp_path: Path) -> None:
    from tests.cli import run

    result = run("config", "check", CODEX_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"config:           {tmp_path / 'config.toml'}",
        "environment:      dev",
        "log_user_prompt:  false",
        "exporter:         none",
        f"note:             no file at {tmp_path / 'config.toml'}: these are the defaults "
        "(set CODEX_HOME or pass a PATH)",
        "test export:      skipped (exporter is none: nothing is sent)",
    ]


def test_demo_records_a_session_to_the_configured_file(tmp_path: Path) -> None:
    from tests.cli import run

    path = tmp_path / "config.toml"
    path.write_text('[otel]\nexporter = { otlp-file = { path = "session.jsonl" } }\n')
    result = run("demo", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"codex-otel demo: sending to {tmp_path / 'session.jsonl'} ({path})",
        "sent 19, accepted by the collector 19, dropped 0",
    ]
    logs, _ = read_file(tmp_path / "session.jsonl")
    assert len(logs) == 19  # the opt-in events are off
