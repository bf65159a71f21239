"""Tests that catch small mutations the rest of the suite let through: the queue's byte
budget never released, `rejected_spans` left out of a partial success, a collector's
`rejected` not capped at the batch, the encoder's value cache blind to the value's type,
a `function_call` item without `call_id` accepted. (The `AIza…` and `glpat-…` key shapes
are in tests/test_secrets.py.)"""

from __future__ import annotations

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.export._encode import encode_logs_request
from codex_otel.instrument._sse_events import is_output_item_done
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA
from tests.transports import TRANSPORTS, exporter_table, receiver_port


def test_the_byte_budget_is_released_after_each_export_over_many_rounds(
    receiver: OtlpReceiver,
) -> None:
    # Each round holds about half the byte budget; six rounds carry three budgets' worth.
    table = {
        "exporter": exporter_table("http/protobuf", receiver.http_port),
        "batch": {"max_queue_bytes": 64 * 1024, "schedule_delay_ms": 60_000},
        "tool_result": {"max_bytes": 1024},
    }
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    manager = OtelEventManager(provider, **METADATA)
    for round_ in range(6):
        for index in range(12):
            manager.tool_result(
                "shell", f"r{round_}-{index}", {"a": "x" * 1024}, 0.1, True, "y" * 1024
            )
        assert provider.force_flush(timeout_millis=10_000)
    provider.shutdown()
    assert provider.stats() == DeliveryStats(accepted=72, exported=72)
    assert len(receiver.wait_for(72)) == 72


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_rejected_spans_of_a_partial_success_are_counted(
    receiver: OtlpReceiver, transport: str
) -> None:
    receiver.reject_next_spans(2, "span pipeline full")
    port = receiver_port(receiver, transport)
    table = {"trace_exporter": exporter_table(transport, port, "/v1/traces")}
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    manager = OtelEventManager(provider, **METADATA)
    for index in range(5):
        with manager.turn(f"turn-{index}"):
            pass
    provider.shutdown()
    assert provider.stats("spans") == DeliveryStats(accepted=5, exported=3, rejected=2)


def test_a_collector_claiming_more_rejected_than_sent_counts_the_batch_only(
    receiver: OtlpReceiver,
) -> None:
    receiver.reject_next(1000, "everything and more")
    table = {"exporter": exporter_table("http/protobuf", receiver.http_port)}
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    manager = OtelEventManager(provider, **METADATA)
    for index in range(10):
        manager.sse_event(f"e-{index}", 0)
    provider.shutdown()
    assert provider.stats() == DeliveryStats(accepted=10, rejected=10)


def test_the_encoder_keeps_1_true_and_1_0_apart_under_one_key() -> None:
    exporter = InMemoryLogRecordExporter()
    logs = LoggerProvider()
    logs.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logs.get_logger("t")
    for value in (1, True, 1.0, 1, True, 1.0, 0, False, 0.0):
        logger.emit(severity_number=SeverityNumber.INFO, body="b", attributes={"v": value})
    records = list(exporter.get_finished_logs())
    ours = ExportLogsServiceRequest.FromString(encode_logs_request(records))
    assert ours == encode_logs(records)
    values = [
        record.attributes[0].value.WhichOneof("value")
        for record in ours.resource_logs[0].scope_logs[0].log_records
    ]
    assert values == ["int_value", "bool_value", "double_value"] * 3
    logs.shutdown()


@pytest.mark.parametrize(
    ("item", "done"),
    [
        ({"type": "function_call", "name": "sh", "arguments": "{}", "call_id": "c1"}, True),
        ({"type": "function_call", "name": "sh", "arguments": "{}"}, False),
        ({"type": "function_call", "name": "sh", "call_id": "c1"}, False),
        ({"type": "function_call", "arguments": "{}", "call_id": "c1"}, False),
        ({"type": "function_call", "name": "sh", "arguments": "{}", "call_id": 7}, False),
        ({"type": "function_call_output", "output": "ok"}, False),
        ({"type": "custom_tool_call", "name": "t", "input": "x"}, False),
    ],
)
def test_an_output_item_missing_one_required_field_is_malformed(
    item: dict[str, object], done: bool
) -> None:
    assert is_output_item_done({"type": "response.output_item.done", "item": item}) is done
