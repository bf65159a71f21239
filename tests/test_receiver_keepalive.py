"""The receiver's HTTP side keeps connections alive between requests, as a collector does
(the SDK's exporters pool them), within bounds: every answer carries its length, a silent
connection is closed, connections are capped, and `stop()` closes those still open."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.json.http._log_exporter import (
    OTLPLogExporter as JsonHttpExporter,
)
from opentelemetry.exporter.otlp.proto.http._log_exporter import (
    OTLPLogExporter as ProtoHttpExporter,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

from codex_otel.testing import HttpLimits, OtlpReceiver

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver(grpc_port=None) as started:
        yield started


def closed_by_peer(sock: socket.socket) -> bool:
    """The server closed `sock`: reading gives its end (or a reset), not data nor a wait."""
    sock.settimeout(10)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def answer(connection: http.client.HTTPConnection, body: bytes = b"") -> int:
    connection.request("POST", "/v1/logs", body=body, headers=PROTOBUF)
    response = connection.getresponse()
    response.read()
    return response.status


@pytest.mark.parametrize(
    "exporter_type", [ProtoHttpExporter, JsonHttpExporter], ids=["protobuf", "json"]
)
def test_an_sdk_exporter_sends_every_export_on_one_kept_alive_connection(
    receiver: OtlpReceiver, exporter_type: type[ProtoHttpExporter] | type[JsonHttpExporter]
) -> None:
    provider = LoggerProvider()
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(exporter_type(endpoint=receiver.logs_endpoint))
    )
    logger = provider.get_logger("keepalive")
    for index in range(3):
        logger.emit(event_name=f"e{index}")
    provider.shutdown()
    assert [log.event_name for log in receiver.logs] == ["e0", "e1", "e2"]
    assert (receiver.http_statuses, receiver.http_connections) == ({200: 3}, 1)


def test_a_connection_carries_requests_on_after_a_bad_one(receiver: OtlpReceiver) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", receiver.http_port, timeout=10)
    try:
        assert [answer(connection, b"\xff not protobuf"), answer(connection)] == [400, 200]
        assert (connection.sock is not None, receiver.http_connections) == (True, 1)
    finally:
        connection.close()
    assert receiver.http_statuses == {400: 1, 200: 1}


def test_a_malformed_request_is_answered_400_with_its_length_and_the_connection_closed(
    receiver: OtlpReceiver,
) -> None:
    with (
        socket.create_connection(("127.0.0.1", receiver.http_port), timeout=10) as sock,
        sock.makefile("rb") as reader,
    ):
        # What a request line cut into by another writer's bytes can look like.
        sock.sendall(b"POST /v1/logs POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status = reader.readline()
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = reader.read(int(headers["content-length"]))
        assert (status.split(b" ")[1], headers["connection"], len(body) > 0) == (
            b"400",
            "close",
            True,
        )
        assert reader.read() == b""  # then the end
    assert receiver.http_statuses == {400: 1}


def test_a_connection_silent_for_idle_seconds_is_closed() -> None:
    with (
        OtlpReceiver(grpc_port=None, limits=HttpLimits(idle_seconds=0.2)) as receiver,
        socket.create_connection(("127.0.0.1", receiver.http_port), timeout=10) as sock,
    ):
        assert closed_by_peer(sock)


def test_connections_past_max_connections_are_closed_until_one_frees() -> None:
    with OtlpReceiver(grpc_port=None, limits=HttpLimits(max_connections=2)) as receiver:
        held = [
            http.client.HTTPConnection("127.0.0.1", receiver.http_port, timeout=10)
            for _ in range(2)
        ]
        try:
            assert [answer(connection) for connection in held] == [200, 200]  # both open
            with socket.create_connection(("127.0.0.1", receiver.http_port), timeout=10) as third:
                assert closed_by_peer(third)
            held[0].close()
            # Its place frees once the server has read its end: a later one is answered.
            statuses = []
            for _ in range(100):
                later = http.client.HTTPConnection("127.0.0.1", receiver.http_port, timeout=10)
                try:
                    statuses.append(answer(later))
                    break
                except ConnectionError:  # closed at once: not freed yet
                    time.sleep(0.02)
                finally:
                    later.close()
            assert statuses == [200]
            assert receiver.http_statuses == {200: 3}
        finally:
            for connection in held:
                connection.close()


def test_stop_closes_the_connections_kept_alive() -> None:
    receiver = OtlpReceiver(grpc_port=None).start()
    connection = http.client.HTTPConnection("127.0.0.1", receiver.http_port, timeout=10)
    try:
        assert answer(connection) == 200
        receiver.stop()
        assert connection.sock is not None and closed_by_peer(connection.sock)
    finally:
        connection.close()
        receiver.stop()
