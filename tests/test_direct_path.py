"""The events' direct path (a record queued by the manager, no SDK record in between) sends
exactly what the SDK's Logger and processor path sends, and gives way to that path as soon as
anyone else's processor is on the LoggerProvider."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel._config import BatchConfig
from codex_otel.export._encode import encode_logs_request
from codex_otel.export._records import DirectRecord, readables
from codex_otel.testing import OtlpReceiver, ReceivedLog
from tests.conftest import METADATA, emit_catalog, normalise
from tests.test_values_wire import emit_odd_values

SPAN = NonRecordingSpan(
    SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, False, TraceFlags(1))
)


def _provider(receiver: OtlpReceiver, **options: Any) -> OtelProvider:
    table = {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}, **options}
    return OtelProvider.from_config(OtelConfig.from_mapping(table, env={}))


def _sdk_path(provider: OtelProvider) -> InMemoryLogRecordExporter:
    """Another processor on the provider's LoggerProvider, as a user could add one: every event
    now goes through the SDK's Logger. Returns what that processor saw."""
    seen = InMemoryLogRecordExporter()
    provider._logs._provider.add_log_record_processor(SimpleLogRecordProcessor(seen))  # type: ignore[union-attr]
    return seen


def _emit_everything(manager: OtelEventManager) -> None:
    emit_catalog(manager)
    emit_odd_values(manager)
    with trace.use_span(SPAN):
        manager.sse_event("response.output_text.delta", 0.01)
    with manager.turn("turn-1"):
        manager.tool_decision("shell", "c1", "approved", "user")


def _arrived(log: ReceivedLog) -> dict[str, Any]:
    """All of a record but its clock readings, which differ from run to run."""
    fields = asdict(log)
    for varying in ("time_unix_nano", "observed_time_unix_nano", "headers"):
        fields.pop(varying)
    sequence = log.attributes["event.sequence"]
    fields["attributes"] = {**normalise(log.attributes), "event.sequence": sequence}
    return fields


def _direct(provider: OtelProvider) -> bool:
    direct = provider._direct_logs
    return direct is not None and direct.active


def _run_on(path: str, provider: OtelProvider) -> None:
    """Every kind of event through `provider` on `path` ("direct" or "sdk"), then shut down."""
    if path == "sdk":
        _sdk_path(provider)
    assert _direct(provider) is (path == "direct")
    _emit_everything(OtelEventManager(provider, **METADATA))
    provider.shutdown()
    assert provider.stats().dropped == 0


def test_the_direct_path_sends_what_the_sdk_path_sends() -> None:
    arrived: dict[str, list[dict[str, Any]]] = {}
    for path in ("direct", "sdk"):
        with OtlpReceiver(grpc_port=None) as receiver:
            _run_on(path, _provider(receiver))
            arrived[path] = [_arrived(log) for log in receiver.logs]
    assert arrived["direct"] == arrived["sdk"]
    assert len(arrived["direct"]) > 20
    spans = {(log["trace_id"], log["span_id"]) for log in arrived["direct"]}
    assert ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7") in spans


@contextmanager
def _queued() -> Iterator[tuple[OtelProvider, list[Any]]]:
    """A provider whose queue is not exported while the block runs, and that queue's items."""
    batch = BatchConfig(
        max_export_batch_size=100_000, max_queue_size=100_000, schedule_delay_ms=600_000
    )
    provider = OtelProvider(InMemoryLogRecordExporter(), batch=batch)
    queue = provider._logs._processor._delivery.batch.items  # type: ignore[union-attr]
    try:
        yield provider, queue
    finally:
        provider.shutdown()


def test_direct_records_encode_as_the_sdk_encodes_the_records_they_stand_for() -> None:
    with _queued() as (provider, queue):
        _emit_everything(OtelEventManager(provider, **METADATA))
        direct = [item for item, _size in queue]
        assert {type(item) for item in direct} == {DirectRecord}
        records = readables(direct)
        assert {type(record) for record in records} == {ReadableLogRecord}
        ours = encode_logs_request(direct)
        assert ours == encode_logs(records).SerializeToString()
        decoded = ExportLogsServiceRequest.FromString(ours)
        assert len(decoded.resource_logs[0].scope_logs[0].log_records) == len(direct)


def test_a_processor_added_later_sees_every_event_from_then_on() -> None:
    with OtlpReceiver(grpc_port=None) as receiver:
        provider = _provider(receiver)
        manager = OtelEventManager(provider, **METADATA)
        manager.sse_event("before", 0.01)
        assert _direct(provider)
        seen = _sdk_path(provider)
        assert not _direct(provider)
        manager.sse_event("after", 0.01)
        provider.shutdown()
        kinds = [log.attributes["event.kind"] for log in receiver.logs]
    assert kinds == ["before", "after"]
    assert [r.log_record.attributes["event.kind"] for r in seen.get_finished_logs()] == ["after"]


def test_exporters_that_are_not_the_packages_encoders_get_sdk_records() -> None:
    exporter = InMemoryLogRecordExporter()
    provider = OtelProvider(exporter)
    assert _direct(provider)
    OtelEventManager(provider, **METADATA).sse_event("response.created", 0.01)
    provider.shutdown()
    [record] = exporter.get_finished_logs()
    assert type(record) is ReadableLogRecord
    assert record.log_record.event_name == record.log_record.body == "codex.sse_event"


def _sdk_records(path: str) -> list[dict[str, Any]]:
    """The SDK records an exporter of the user's gets, on either path, as comparable dicts."""
    exporter = InMemoryLogRecordExporter()
    _run_on(path, OtelProvider(exporter))
    out = []
    for record in exporter.get_finished_logs():
        fields = json.loads(record.to_json())
        for varying in ("timestamp", "observed_timestamp"):
            fields.pop(varying)
        sequence = fields["attributes"]["event.sequence"]
        fields["attributes"] = {**normalise(fields["attributes"]), "event.sequence": sequence}
        fields["scope"] = record.instrumentation_scope
        fields["limits"] = repr(record.limits)
        fields["context"] = dict(record.log_record.context or {})
        fields["type"] = type(record).__name__
        out.append(fields)
    return out


def test_an_exporter_of_the_users_gets_the_same_sdk_records_on_either_path() -> None:
    direct, sdk = _sdk_records("direct"), _sdk_records("sdk")
    assert direct == sdk
    assert {record["type"] for record in direct} == {"ReadableLogRecord"}
    assert {record["context"] == {} for record in direct} == {True}
