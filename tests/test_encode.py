"""The fast OTLP/protobuf encoding of log records decodes, with the official proto package, to
exactly what the SDK's encoder sends for the same records: every catalog event, every value
form, trace context, several resources and scopes."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from codex_otel import OtelEventManager
from codex_otel.export._encode import Unencodable, encode_logs_request
from tests.conftest import METADATA, Memory, emit_catalog
from tests.test_values_wire import emit_odd_values


def decoded(records: list[ReadableLogRecord]) -> tuple[Any, Any]:
    ours = ExportLogsServiceRequest.FromString(encode_logs_request(records))
    return ours, encode_logs(records)


def test_every_catalog_event_encodes_as_the_sdk_encodes_it(memory: Memory) -> None:
    provider, capture = memory
    manager = OtelEventManager(provider, **METADATA)
    emit_catalog(manager)
    emit_odd_values(manager)
    with manager.turn("turn-1"):
        manager.sse_event("response.output_text.delta", 0.01)
    records = capture.records
    ours, sdk = decoded(records)
    assert ours == sdk
    assert len(ours.resource_logs[0].scope_logs[0].log_records) == len(records)


VALUES: dict[str, Any] = {
    "text": "ls -la",
    "unicode": "héllo wörld ✓ 日本",
    "empty": "",
    "zero": 0,
    "one": 1,
    "big": 2**63 - 1,
    "small": -(2**63),
    "minus_one": -1,
    "float": 0.25,
    "negative_zero": -0.0,
    "zero_float": 0.0,
    "nan": float("nan"),
    "inf": float("inf"),
    "true": True,
    "false": False,
    "bytes": b"\x00\xff",
    "no_bytes": b"",
}


def _records(*, body: Any = "codex.custom", **emit: Any) -> list[ReadableLogRecord]:
    """Records through the SDK's own pipeline: two resources, three scopes, spans or not."""
    out: list[ReadableLogRecord] = []
    for resource in (
        Resource.create({"service.name": "a", "n": 1}),
        Resource({"service.name": "b"}, schema_url="https://example.com/r"),
    ):
        provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        memory = InMemoryLogRecordExporter()
        provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
        loggers = [
            provider.get_logger("one", "1.0"),
            provider.get_logger("two", schema_url="https://example.com/s", attributes={"k": 1}),
            provider.get_logger(""),
        ]
        span = NonRecordingSpan(
            SpanContext(0x1234, 0x99, is_remote=False, trace_flags=TraceFlags(1))
        )
        for i, logger in enumerate(loggers * 2):
            logger.emit(
                timestamp=1_700_000_000_000_000_000 + i,
                observed_timestamp=1_700_000_000_000_000_001,
                severity_number=SeverityNumber.INFO if i % 2 else SeverityNumber.UNSPECIFIED,
                severity_text="INFO" if i % 2 else None,
                body=body,
                attributes=VALUES,
                event_name="codex.custom" if i % 3 else None,
                context=trace.set_span_in_context(span) if i % 2 else None,
                **emit,
            )
        out.extend(memory.get_finished_logs())
        provider.shutdown()
    return out


@pytest.mark.parametrize("body", ["codex.custom", None, "", 7, 2.5, True, b"x"])
def test_every_value_form_resource_scope_and_span_encodes_as_the_sdk_encodes_it(
    body: Any,
) -> None:
    ours, sdk = decoded(_records(body=body))
    assert ours == sdk
    assert [len(r.scope_logs) for r in ours.resource_logs] == [3, 3]


def test_a_value_of_another_form_is_left_to_the_sdk_encoder() -> None:
    records = _records()
    records[3].log_record.attributes = {"list": ("a", "b")}
    with pytest.raises(Unencodable):
        encode_logs_request(records)


def test_the_bytes_are_the_sdk_encoders_bytes(memory: Memory) -> None:
    provider, capture = memory
    emit_catalog(OtelEventManager(provider, **METADATA))
    for records in (capture.records, _records(), _records(body=None)):
        assert encode_logs_request(records) == encode_logs(records).SerializeToString()


def test_the_http_exporter_sends_the_sdk_encoders_bytes_and_they_arrive(
    memory: Memory, receiver: Any
) -> None:
    from codex_otel._config import OtlpHttpExporter
    from codex_otel.export._factory import build_exporter

    provider, capture = memory
    emit_catalog(OtelEventManager(provider, **METADATA))
    records = capture.records
    exporter = build_exporter("logs", OtlpHttpExporter(endpoint=receiver.logs_endpoint))
    assert type(exporter.export).__name__ == "_FastHttpLogExport"
    sent: list[bytes] = []
    client = exporter._client
    send = client.export

    def spy(data: bytes, *args: Any, **kwargs: Any) -> Any:
        sent.append(data)
        return send(data, *args, **kwargs)

    client.export = spy
    try:
        assert exporter.export(records).name == "SUCCESS"
        assert exporter.export(_records()).name == "SUCCESS"
    finally:
        exporter.shutdown()
    assert sent == [
        encode_logs(records).SerializeToString(),
        encode_logs(_records()).SerializeToString(),
    ]
    assert len(receiver.logs) == len(records) + len(_records())


def test_the_grpc_exporter_sends_the_sdk_encoders_bytes_and_they_arrive(
    memory: Memory, receiver: Any
) -> None:
    from codex_otel._config import OtlpGrpcExporter
    from codex_otel.export._factory import build_exporter

    provider, capture = memory
    emit_catalog(OtelEventManager(provider, **METADATA))
    records = capture.records
    exporter = build_exporter("logs", OtlpGrpcExporter(endpoint=receiver.grpc_endpoint))
    try:
        requests = [exporter._translate_data(batch) for batch in (records, _records())]
        assert requests == [
            encode_logs(records).SerializeToString(),
            encode_logs(_records()).SerializeToString(),
        ]
        assert exporter.export(records).name == "SUCCESS"
        assert exporter.export(_records()).name == "SUCCESS"
        # Another value form: the SDK's encoding.
        odd = _records()
        odd[0].log_record.attributes = {"list": ("a", "b")}
        assert exporter._translate_data(odd) == encode_logs(odd).SerializeToString()
        assert exporter.export(odd).name == "SUCCESS"
    finally:
        exporter.shutdown()
    assert len(receiver.logs) == len(records) + 2 * len(_records())
