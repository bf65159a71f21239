"""The local OTLP receiver, fed by the real OpenTelemetry SDK exporters over the wire."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.common.http import Compression as JsonCompression
from opentelemetry.exporter.otlp.json.http._log_exporter import (
    OTLPLogExporter as JsonHttpExporter,
)
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (
    OTLPLogExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression as ProtoCompression
from opentelemetry.exporter.otlp.proto.http._log_exporter import (
    OTLPLogExporter as ProtoHttpExporter,
)
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver, ReceivedLog
from tests.transports import exporter_table, receiver_port

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMESTAMP = 1_700_000_000_123_456_789
OBSERVED = 1_700_000_000_987_654_321
ATTRIBUTES: Mapping[str, str | int | bool | float] = {
    "tool.name": "shell",
    "exit_code": 3,
    "sandboxed": True,
    "duration_s": 1.25,
}
SENT_HEADER = ("x-codex-test", "receiver-42")


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as started:
        yield started


def _emit(exporter: LogRecordExporter, *, batch: bool = False) -> None:
    """Send one event through a real LoggerProvider pipeline, then close everything."""
    processor: LogRecordProcessor = (
        BatchLogRecordProcessor(exporter) if batch else SimpleLogRecordProcessor(exporter)
    )
    provider = LoggerProvider(
        resource=Resource({"service.name": "codex-test", "deployment.environment": "ci"}),
        shutdown_on_exit=False,
    )
    provider.add_log_record_processor(processor)
    # Emitting inside a span context makes the exporters send trace/span ids: the OTLP/JSON
    # exporter writes them as hex, which the receiver must convert to parse the request.
    span = NonRecordingSpan(SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=TraceFlags(1)))
    provider.get_logger("codex.tests", "1.0").emit(
        event_name="codex.tool_decision",
        timestamp=TIMESTAMP,
        observed_timestamp=OBSERVED,
        context=set_span_in_context(span),
        severity_number=SeverityNumber.INFO,
        severity_text="INFO",
        attributes=ATTRIBUTES,
    )
    provider.shutdown()  # flushes the batch processor and shuts the exporter down


def _expected(transport: str, content_type: str | None) -> ReceivedLog:
    headers = dict([SENT_HEADER])
    if content_type is not None:
        headers["content-type"] = content_type
    return ReceivedLog(
        transport=transport,
        event_name="codex.tool_decision",
        severity_number=SeverityNumber.INFO.value,
        severity_text="INFO",
        body=None,
        attributes=dict(ATTRIBUTES),
        resource={"service.name": "codex-test", "deployment.environment": "ci"},
        scope_name="codex.tests",
        time_unix_nano=TIMESTAMP,
        observed_time_unix_nano=OBSERVED,
        headers=headers,
        trace_id=f"{0xABC:032x}",
        span_id=f"{0xDEF:016x}",
    )


def _only_stable_headers(log: ReceivedLog) -> ReceivedLog:
    """Drop headers that vary by run or library version (host port, length, user-agent)."""
    kept = {k: v for k, v in log.headers.items() if k in (SENT_HEADER[0], "content-type")}
    return dataclasses.replace(log, headers=kept)


def _single_log(receiver: OtlpReceiver) -> ReceivedLog:
    logs = receiver.wait_for(1, timeout=10)
    assert len(logs) == 1, logs
    return logs[0]


def test_http_protobuf_export_is_decoded(receiver: OtlpReceiver) -> None:
    _emit(
        ProtoHttpExporter(
            endpoint=receiver.logs_endpoint, headers={"X-Codex-Test": "receiver-42"}, timeout=5
        )
    )

    log = _single_log(receiver)

    assert _only_stable_headers(log) == _expected("http/protobuf", "application/x-protobuf")
    assert log.headers["user-agent"].startswith("OTel-OTLP-Exporter-Python/")


def test_http_json_export_is_decoded(receiver: OtlpReceiver) -> None:
    _emit(
        JsonHttpExporter(
            endpoint=receiver.logs_endpoint, headers={"X-Codex-Test": "receiver-42"}, timeout=5
        )
    )

    log = _single_log(receiver)

    assert _only_stable_headers(log) == _expected("http/json", "application/json")
    assert log.headers["user-agent"].startswith("OTel-OTLP-JSON-Exporter-Python/")


def test_grpc_export_is_decoded(receiver: OtlpReceiver) -> None:
    exporter = GrpcExporter(endpoint=receiver.grpc_endpoint, headers=dict([SENT_HEADER]), timeout=5)
    _emit(exporter, batch=True)

    log = _single_log(receiver)

    assert _only_stable_headers(log) == _expected("grpc", None)
    assert log.headers["user-agent"].startswith("OTel-OTLP-Exporter-Python/")


@pytest.mark.parametrize(
    ("transport", "make_exporter"),
    [
        (
            "http/protobuf",
            lambda url: ProtoHttpExporter(
                endpoint=url, compression=ProtoCompression.Gzip, timeout=5
            ),
        ),
        (
            "http/json",
            lambda url: JsonHttpExporter(endpoint=url, compression=JsonCompression.GZIP, timeout=5),
        ),
    ],
)
def test_gzip_compressed_http_exports_are_decompressed(
    receiver: OtlpReceiver, transport: str, make_exporter: Callable[[str], LogRecordExporter]
) -> None:
    _emit(make_exporter(receiver.logs_endpoint))

    log = _single_log(receiver)

    assert log.transport == transport
    assert log.headers["content-encoding"] == "gzip"
    assert log.attributes == ATTRIBUTES


def _post(url: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get_content_type(), error.read()


def test_otlp_json_with_enum_names_numbers_and_nested_values_is_decoded(
    receiver: OtlpReceiver,
) -> None:
    """Hand-written OTLP/JSON: hex ids, int64 as number and string, enum by name, nesting."""
    record = {
        "timeUnixNano": 5,
        "observedTimeUnixNano": "6",
        "severityNumber": "SEVERITY_NUMBER_WARN",
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "eventName": "codex.sse_event",
        "body": {"stringValue": "hello"},
        "attributes": [
            {"key": "raw", "value": {"bytesValue": base64.b64encode(b"\x00\x01").decode()}},
            {"key": "list", "value": {"arrayValue": {"values": [{"intValue": "1"}, {}]}}},
            {
                "key": "map",
                "value": {"kvlistValue": {"values": [{"key": "k", "value": {"doubleValue": 2}}]}},
            },
        ],
    }
    document = {"resourceLogs": [{"scopeLogs": [{"scope": {"name": "s"}, "logRecords": [record]}]}]}

    status, content_type, payload = _post(
        receiver.logs_endpoint, json.dumps(document).encode(), "application/json"
    )

    assert (status, content_type, json.loads(payload)) == (200, "application/json", {})
    log = _single_log(receiver)
    assert (log.event_name, log.severity_number, log.body) == ("codex.sse_event", 13, "hello")
    assert (log.time_unix_nano, log.observed_time_unix_nano) == (5, 6)
    assert log.attributes == {"raw": b"\x00\x01", "list": [1, None], "map": {"k": 2.0}}


def test_unknown_path_returns_404(receiver: OtlpReceiver) -> None:
    url = f"http://127.0.0.1:{receiver.http_port}/v1/profiles"

    status, _, _ = _post(url, b"", "application/x-protobuf")

    assert status == 404
    assert receiver.logs == []


@pytest.mark.parametrize("content_type", ["application/x-protobuf", "application/json"])
def test_undecodable_body_returns_400(receiver: OtlpReceiver, content_type: str) -> None:
    status, _, _ = _post(receiver.logs_endpoint, b"\xff\x00 not otlp", content_type)

    assert status == 400
    assert receiver.logs == []


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_starting_on_a_port_in_use_raises_oserror(protocol: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = {"http_port": None, "grpc_port": None, f"{protocol}_port": port}
        receiver = OtlpReceiver(**ports)

        with pytest.raises(OSError, match=str(port)):
            receiver.start()
        receiver.stop()  # still safe after a failed start


def test_ports_are_unavailable_before_start_and_stop_is_idempotent() -> None:
    receiver = OtlpReceiver(grpc_port=None)
    with pytest.raises(ValueError):
        _ = receiver.http_port

    receiver.start()
    assert receiver.logs_endpoint == f"http://127.0.0.1:{receiver.http_port}/v1/logs"
    with pytest.raises(ValueError):
        _ = receiver.grpc_port
    receiver.stop()
    receiver.stop()

    with pytest.raises(ValueError):
        _ = receiver.logs_endpoint


def test_failing_on_log_callback_does_not_break_the_receiver(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[ReceivedLog] = []

    def on_log(log: ReceivedLog) -> None:
        seen.append(log)
        raise RuntimeError("viewer crashed")

    with caplog.at_level(logging.ERROR), OtlpReceiver(grpc_port=None, on_log=on_log) as receiver:
        for _ in range(2):
            _emit(ProtoHttpExporter(endpoint=receiver.logs_endpoint, timeout=5))

        logs = receiver.wait_for(2, timeout=10)

    assert len(logs) == 2
    assert seen == logs
    assert "on_log callback failed" in caplog.text


def test_clear_forgets_received_logs(receiver: OtlpReceiver) -> None:
    _emit(ProtoHttpExporter(endpoint=receiver.logs_endpoint, timeout=5))
    assert len(receiver.wait_for(1, timeout=10)) == 1

    receiver.clear()

    assert receiver.logs == []


def test_importing_the_receiver_does_not_import_grpc() -> None:
    code = "import codex_otel.testing, sys; assert 'grpc' not in sys.modules"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("transport", ["http/protobuf", "grpc"])
@pytest.mark.parametrize("signal", ["logs", "metrics"])
def test_fail_next_refuses_every_signal_over_every_transport(
    receiver: OtlpReceiver, transport: str, signal: str
) -> None:
    port = receiver_port(receiver, transport)
    path = "/v1/metrics" if signal == "metrics" else "/v1/logs"
    key = "metrics_exporter" if signal == "metrics" else "exporter"
    provider = OtelProvider.from_config(
        OtelConfig.from_mapping({key: exporter_table(transport, port, path)})
    )
    receiver.fail_next(1)
    OtelEventManager(provider, conversation_id="c", model="m", slug="s").sse_event("a", 0)
    provider.force_flush(5_000)
    provider.shutdown()
    assert receiver.refused == 1
