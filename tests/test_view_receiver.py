"""The receiver `view` (and `receive`) listen with, against hostile requests: a body too large or
inflating too large is 413 before it is held, a malformed request is a 4xx with no traceback, and
on loopback only local programs are answered (no DNS rebinding, no other site's page), over
HTTP and gRPC alike."""

from __future__ import annotations

import gzip
import json
import socket
import zlib
from collections.abc import Iterator

import grpc
import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from codex_otel.cli._view import live_receiver, serving
from codex_otel.cli._view_model import ViewStore
from codex_otel.testing import HttpLimits, OtlpReceiver
from codex_otel.testing._server_setup import is_loopback

SMALL = HttpLimits(max_body_bytes=4096, max_inflated_bytes=65536)
JSON = {"content-type": "application/json"}
PROTOBUF = {"content-type": "application/x-protobuf"}


def _logs_request(body: str) -> bytes:
    request = ExportLogsServiceRequest()
    record = request.resource_logs.add().scope_logs.add().log_records.add()
    record.event_name = "codex.user_prompt"
    record.body.string_value = body
    return request.SerializeToString()


@pytest.fixture
def receiver(capfd: pytest.CaptureFixture[str]) -> Iterator[OtlpReceiver]:
    with OtlpReceiver(grpc_port=None, limits=SMALL) as receiver:
        yield receiver
    # Hostile input is answered, never traced back on the terminal.
    assert capfd.readouterr().err == ""


def _raw(port: int, request: bytes) -> int:
    """What the receiver answers `request` sent over a plain socket: its status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def _post(port: int, headers: str, body: bytes = b"") -> int:
    head = f"POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}\r\n"
    return _raw(port, head.encode() + body)


def test_a_body_over_the_limit_is_413_before_it_is_read(receiver: OtlpReceiver) -> None:
    port = receiver.http_port
    # 256 MiB announced, a few bytes sent: answered at once, nothing waited for nor held.
    announced = _post(
        port, "Content-Type: application/x-protobuf\r\nContent-Length: 268435456\r\n", b"x" * 10
    )
    sent = httpx.post(receiver.logs_endpoint, content=_logs_request("x" * 5000), headers=PROTOBUF)
    fits = httpx.post(receiver.logs_endpoint, content=_logs_request("hi"), headers=PROTOBUF)
    assert (announced, sent.status_code, fits.status_code) == (413, 413, 200)
    assert [log.body for log in receiver.logs] == ["hi"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_body_inflating_past_the_limit_is_413(receiver: OtlpReceiver, encoding: str) -> None:
    bomb = _logs_request("\0" * (1 << 20))  # 1 MiB of zeros: about a kilobyte compressed
    small = _logs_request("hi")
    pack = gzip.compress if encoding == "gzip" else zlib.compress
    headers = {**PROTOBUF, "content-encoding": encoding}
    assert len(pack(bomb)) < SMALL.max_body_bytes
    refused = httpx.post(receiver.logs_endpoint, content=pack(bomb), headers=headers)
    taken = httpx.post(receiver.logs_endpoint, content=pack(small), headers=headers)
    truncated = httpx.post(receiver.logs_endpoint, content=pack(small)[:-9], headers=headers)
    assert (refused.status_code, refused.text) == (413, "request body inflates too large\n")
    assert (taken.status_code, truncated.status_code) == (200, 400)
    assert [log.body for log in receiver.logs] == ["hi"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("Content-Type: application/json\r\nContent-Length: abc\r\n", 400),
        ("Content-Type: application/json\r\nContent-Length: -5\r\n", 400),
        ("Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", 411),
    ],
    ids=["not-a-number", "negative", "chunked"],
)
def test_a_bad_length_is_a_4xx(receiver: OtlpReceiver, headers: str, status: int) -> None:
    assert _post(receiver.http_port, headers, b"0\r\n\r\n") == status
    assert receiver.logs == []


def test_deep_json_and_bad_protobuf_are_400(receiver: OtlpReceiver) -> None:
    deep = '{"resourceLogs": [' + "[" * 1800 + "]" * 1800 + "]}"
    nested = json.dumps({"resourceLogs": []})[:-1] + ', "x": ' + "[" * 1800 + "]" * 1800 + "}"
    answers = [
        httpx.post(receiver.logs_endpoint, content=deep, headers=JSON).status_code,
        httpx.post(receiver.logs_endpoint, content=nested, headers=JSON).status_code,
        httpx.post(receiver.traces_endpoint, content=deep, headers=JSON).status_code,
        httpx.post(receiver.logs_endpoint, content=b"\xff\xff\xff", headers=PROTOBUF).status_code,
        httpx.post(receiver.metrics_endpoint, content=b"\x0a\xff", headers=PROTOBUF).status_code,
    ]
    assert answers == [400] * 5
    assert (receiver.logs, receiver.spans, receiver.metrics) == ([], [], [])


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "attacker.example"}, 403),  # DNS rebinding: a name pointed at 127.0.0.1
        ({"host": "attacker.example:4318"}, 403),
        ({"host": "127.0.0.1.attacker.example"}, 403),
        ({"origin": "https://attacker.example"}, 403),  # another site's page posting
        ({"origin": "null"}, 403),
        ({"host": "localhost:4318"}, 200),
        ({"host": "[::1]:4318"}, 200),
        ({"origin": "http://127.0.0.1:8080"}, 200),
    ],
)
def test_only_local_programs_are_answered_on_loopback(
    receiver: OtlpReceiver, headers: dict[str, str], status: int
) -> None:
    response = httpx.post(
        receiver.logs_endpoint, content=_logs_request("hi"), headers={**PROTOBUF, **headers}
    )
    assert response.status_code == status
    assert [log.body for log in receiver.logs] == (["hi"] if status == 200 else [])


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),  # asked to listen beyond: any Host header is answered
        ("::", False),
        ("192.168.1.5", False),
        ("localhost.attacker.example", False),
    ],
)
def test_which_listening_addresses_answer_local_programs_only(host: str, local: bool) -> None:
    # Tests listen on 127.0.0.1 only (the machine is shared): the choice is checked directly.
    assert is_loopback(host) is local


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"host": "attacker.example"}, 403),
        ({"origin": "https://attacker.example"}, 403),
        ({"host": "localhost"}, 200),
        ({}, 200),
    ],
)
def test_the_viewers_page_answers_local_programs_only(headers: dict[str, str], status: int) -> None:
    with serving(ViewStore()) as server:
        page = httpx.get(server.url, headers=headers)
        state = httpx.get(server.url + "api/state", headers=headers)
    assert (page.status_code, state.status_code) == (status, status)


def _export_over_grpc(endpoint: str, authority: str | None) -> list[str]:
    """Export a log, a metric and a span with a real gRPC client addressing `authority` (as
    a name pointed at 127.0.0.1 would): each answer's status code."""
    metrics = ExportMetricsServiceRequest()
    metric = metrics.resource_metrics.add().scope_metrics.add().metrics.add()
    metric.name = "codex.tool.call"
    metric.sum.data_points.add().as_int = 1
    spans = ExportTraceServiceRequest()
    span = spans.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "turn"
    logs = ExportLogsServiceRequest.FromString(_logs_request("hi"))
    options = [] if authority is None else [("grpc.default_authority", authority)]
    codes = []
    with grpc.insecure_channel(endpoint.split("://", 1)[1], options=options) as channel:
        for stub, request in [
            (logs_service_pb2_grpc.LogsServiceStub(channel), logs),
            (metrics_service_pb2_grpc.MetricsServiceStub(channel), metrics),
            (trace_service_pb2_grpc.TraceServiceStub(channel), spans),
        ]:
            try:
                stub.Export(request, timeout=10)
                codes.append("OK")
            except grpc.RpcError as exc:
                codes.append(exc.code().name)
    return codes


@pytest.mark.parametrize(
    ("authority", "answer"),
    [
        ("attacker.example:4317", "PERMISSION_DENIED"),
        ("127.0.0.1.attacker.example", "PERMISSION_DENIED"),
        ("localhost:4317", "OK"),
        ("[::1]:4317", "OK"),
        (None, "OK"),  # the address connected to: 127.0.0.1:PORT
    ],
)
def test_only_local_programs_are_answered_over_grpc_on_loopback(
    authority: str | None, answer: str
) -> None:
    store = ViewStore()
    with live_receiver(store, host="127.0.0.1", http_port=None, grpc_port=0) as receiver:
        codes = _export_over_grpc(receiver.grpc_endpoint, authority)
    held = store.take().header["counts"]
    assert codes == [answer] * 3
    kept = {"events": 1, "spans": 1, "series": 1} if answer == "OK" else dict.fromkeys(held, 0)
    assert held == kept


FEW = HttpLimits(max_records=10)


def _records_request(signal: str, count: int) -> Message:
    """An export request of `signal` carrying `count` empty records (a metric's: points)."""
    if signal == "logs":
        logs = ExportLogsServiceRequest()
        scope = logs.resource_logs.add().scope_logs.add()
        for _ in range(count):
            scope.log_records.add()
        return logs
    if signal == "traces":
        spans = ExportTraceServiceRequest()
        scope_spans = spans.resource_spans.add().scope_spans.add()
        for _ in range(count):
            scope_spans.spans.add()
        return spans
    metrics = ExportMetricsServiceRequest()
    scope_metrics = metrics.resource_metrics.add().scope_metrics.add()
    half = scope_metrics.metrics.add()
    half.name = "codex.tool.call"
    rest = scope_metrics.metrics.add()
    rest.name = "codex.api_request.duration_ms"
    for index in range(count):
        if index % 2:
            half.sum.data_points.add().as_int = 1
        else:
            rest.histogram.data_points.add().count = 1
    return metrics


@pytest.mark.parametrize("signal", ["logs", "traces", "metrics"])
@pytest.mark.parametrize("form", ["protobuf", "json", "gzip-json"])
def test_a_request_of_more_records_than_the_limit_is_413_before_it_is_decoded(
    signal: str, form: str
) -> None:
    answers = []
    with OtlpReceiver(grpc_port=None, limits=FEW) as receiver:
        url = receiver.logs_endpoint.replace("/v1/logs", f"/v1/{signal}")
        for count in (10, 11):
            request = _records_request(signal, count)
            if form == "protobuf":
                body, headers = request.SerializeToString(), PROTOBUF
            else:
                body, headers = json_format.MessageToJson(request).encode(), JSON
            if form == "gzip-json":
                body, headers = gzip.compress(body), {**JSON, "content-encoding": "gzip"}
            answer = httpx.post(url, content=body, headers=headers)
            answers.append((answer.status_code, answer.text if answer.status_code != 200 else ""))
        held = (len(receiver.logs), len(receiver.spans), len(receiver.metrics))
    assert answers == [(200, ""), (413, "more than 10 records in one request\n")]
    assert held == {"logs": (10, 0, 0), "traces": (0, 10, 0), "metrics": (0, 0, 2)}[signal]


def test_a_small_gzip_body_of_two_million_empty_records_is_refused_before_it_is_parsed() -> None:
    """The amplification a reviewer found: 5.9 KB of gzip, 6 MB of `{}`, was 200 after
    1.46 GB and 29 s of one core."""
    records = b",".join([b"{}"] * 2_000_000)
    body = b'{"resourceLogs":[{"scopeLogs":[{"logRecords":[' + records + b"]}]}]}"
    protobuf = _records_request("logs", 100_001).SerializeToString()
    with OtlpReceiver(grpc_port=None) as receiver:
        packed = gzip.compress(body)
        headers = {**JSON, "content-encoding": "gzip"}
        answer = httpx.post(receiver.logs_endpoint, content=packed, headers=headers)
        empty = httpx.post(receiver.logs_endpoint, content=protobuf, headers=PROTOBUF)
        held = receiver.logs
    assert len(packed) < 10_000
    assert (answer.status_code, answer.text) == (413, "more than 2000000 JSON objects\n")
    assert (empty.status_code, empty.text) == (413, "more than 100000 records in one request\n")
    assert held == []


def test_a_grpc_request_of_more_records_than_the_limit_is_resource_exhausted() -> None:
    codes = []
    with OtlpReceiver(http_port=None, limits=FEW) as receiver:
        target = receiver.grpc_endpoint.split("://", 1)[1]
        with grpc.insecure_channel(target) as channel:
            stub = logs_service_pb2_grpc.LogsServiceStub(channel)
            for count in (10, 11):
                try:
                    stub.Export(_records_request("logs", count), timeout=10)
                    codes.append(("OK", ""))
                except grpc.RpcError as exc:
                    codes.append((exc.code().name, exc.details()))
        held = len(receiver.logs)
    assert codes == [("OK", ""), ("RESOURCE_EXHAUSTED", "more than 10 records in one request")]
    assert held == 10


@pytest.mark.parametrize(
    ("lengths", "status"),
    [(("2", "3"), 400), (("2", "2"), 200)],
    ids=["conflicting", "repeated"],
)
def test_two_content_lengths_that_differ_are_400(
    receiver: OtlpReceiver, lengths: tuple[str, str], status: int
) -> None:
    headers = "Content-Type: application/json\r\n" + "".join(
        f"Content-Length: {length}\r\n" for length in lengths
    )
    assert _post(receiver.http_port, headers, b"{}") == status


@pytest.mark.parametrize(
    ("encoding", "status"), [("br", 415), ("zstd", 415), ("identity", 200), ("GZIP", 200)]
)
def test_a_content_encoding_not_understood_is_415(
    receiver: OtlpReceiver, encoding: str, status: int
) -> None:
    body = _logs_request("hi")
    if encoding == "GZIP":
        body = gzip.compress(body)
    headers = {**PROTOBUF, "content-encoding": encoding}
    answer = httpx.post(receiver.logs_endpoint, content=body, headers=headers)
    assert answer.status_code == status
    assert [log.body for log in receiver.logs] == (["hi"] if status == 200 else [])
