"""The fast OTLP/JSON line of the `otlp-file` exporter is, byte for byte, the line the SDK's
file exporter writes for the same records; a batch it does not write is left to the SDK's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.json.common._log_encoder import encode_logs

from codex_otel import OtelConfig, OtelEventManager, OtelProvider, OtlpFileExporter
from codex_otel.export._encode_json import encode_logs_line
from codex_otel.export._records import DirectRecord, readables
from tests.conftest import METADATA, emit_catalog
from tests.test_direct_path import SPAN, _queued
from tests.test_values_wire import emit_odd_values


def sdk_line(batch: list[Any]) -> str:
    """What the SDK's file exporter writes for `batch` (its `_format_line` of its encoding)."""
    return json.dumps(encode_logs(readables(batch)).to_dict(), separators=(",", ":")) + "\n"


def queued(emit: Any) -> list[Any]:
    with _queued() as (provider, queue):
        emit(OtelEventManager(provider, **METADATA))
        return [item for item, _size in queue]


def test_every_catalog_event_is_written_as_the_sdk_writes_it() -> None:
    def emit(manager: OtelEventManager) -> None:
        emit_catalog(manager)
        with trace.use_span(SPAN):
            manager.sse_event("response.output_text.delta", 0.01)
        with manager.turn("turn-1"):
            manager.tool_result("shell", "c1", {"q": 'é "✓" \n\x01 日本'}, 0.2, False, "\ud800x")
        with manager.with_model("gpt-5", "gpt-5").turn("turn-2"):
            manager.sse_event("response.output_text.delta", 0.02)

    batch = queued(emit)
    assert {type(item) for item in batch} == {DirectRecord}
    line = encode_logs_line(batch)
    assert line is not None
    assert line == sdk_line(batch)
    assert "traceId" in line and "4bf92f3577b34da6a3ce929d0e0e4736" in line


def test_odd_values_are_written_as_the_sdk_writes_them() -> None:
    batch = queued(emit_odd_values)
    assert encode_logs_line(batch) == sdk_line(batch)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), b"\x00", ("a", "b"), None])
def test_a_value_of_another_form_leaves_the_batch_to_the_sdk_encoder(value: object) -> None:
    (record,) = queued(lambda manager: manager.sse_event("response.output_text.delta", 0.01))
    odd = DirectRecord(
        record.origin,
        record.timestamp,
        0,
        0,
        record.trace_flags,
        "codex.custom",
        record.context,
        {"value": value},
    )
    assert encode_logs_line([record]) == sdk_line([record])
    assert encode_logs_line([record, odd]) is None


def test_a_batch_holding_sdk_records_is_left_to_the_sdk_encoder() -> None:
    batch = queued(lambda manager: manager.sse_event("response.output_text.delta", 0.01))
    assert encode_logs_line(batch + readables(batch)) is None
    assert encode_logs_line([]) is None


@pytest.mark.parametrize("odd", [False, True])
def test_the_file_exporter_writes_lines_the_sdk_parser_reads_back(
    tmp_path: Path, odd: bool
) -> None:
    path = tmp_path / "events.jsonl"
    provider = OtelProvider.from_config(OtelConfig(exporter=OtlpFileExporter(path=path)))
    manager = OtelEventManager(provider, **METADATA)
    emit_catalog(manager)
    if odd:  # values only the SDK's encoder writes: its lines, in the same file
        emit_odd_values(manager)
    provider.shutdown()
    lines = path.read_text(encoding="utf-8").splitlines()
    records = [
        record
        for line in lines
        for resource in json.loads(line)["resourceLogs"]
        for scope in resource["scopeLogs"]
        for record in scope["logRecords"]
    ]
    stats = provider.stats()
    assert (stats.exported, stats.dropped) == (len(records), 0)
    assert records and all(record["body"]["stringValue"].startswith("codex.") for record in records)
