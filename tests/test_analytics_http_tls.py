"""The track-events sender over TLS (the handshake, reads and writes its own, in slices, over
memory buffers) against real servers on 127.0.0.1, and answers that never end, over TLS or
not: the body is read only to a small cap."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from codex_otel.analytics import SinkStats, TrackEventsApiSink
from tests.analytics_backend import Backend, SocketServer, Tokens, event, read_head
from tests.certs import Certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates.create(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def trusted(certs: Certificates, monkeypatch: pytest.MonkeyPatch) -> Certificates:
    """The test CA trusted, as a host does with SSL_CERT_FILE (read when a sink is made)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.folder / "ca.pem"))
    return certs


@pytest.fixture
def tls_backend(certs: Certificates) -> Iterator[Backend]:
    backend = Backend()
    server = backend.server
    server.socket = certs.server_tls().ssl_context().wrap_socket(server.socket, server_side=True)
    backend.thread.start()
    yield backend
    backend.release.set()
    server.shutdown()
    server.server_close()


def _https(backend: Backend) -> str:
    return backend.base_url.replace("http://", "https://", 1)


def test_events_over_tls_go_on_one_kept_alive_connection(
    tls_backend: Backend, trusted: Certificates
) -> None:
    sink = TrackEventsApiSink(_https(tls_backend), Tokens())
    sink.send([event(1), event(2), event(3, isolated=True)], None)
    sink.send([event(4)], None)
    assert [r["body"]["events"] for r in tls_backend.requests] == [
        [event(1).body, event(2).body],
        [event(3).body],
        [event(4).body],
    ]
    assert (sink.stats(), tls_backend.connections) == (SinkStats(delivered=4, requests=3), 1)


def test_a_certificate_no_trusted_ca_signed_is_a_counted_failure_warned_once(
    tls_backend: Backend,
    certs: Certificates,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.folder / "other-ca.pem"))
    sink = TrackEventsApiSink(_https(tls_backend), Tokens())
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        sink.send([event(1), event(2, isolated=True)], None)
    assert (sink.stats(), tls_backend.requests) == (SinkStats(failed=2, requests=2), [])
    port = tls_backend.server.server_address[1]
    assert [r.getMessage() for r in caplog.records] == [
        "codex_otel: analytics track_events_api: failed to send events request to "
        f"https://127.0.0.1:{port}/codex/analytics-events/events (ConnectError); further "
        "such failures are counted, not logged"
    ]


class Flood:
    """Answers each request 200 with a chunked body that never ends; counts what it sent."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def __call__(self, connection: socket.socket) -> None:
        if read_head(connection) is None:
            return
        connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
        sent = 0
        try:
            for _ in range(100_000):  # 6.5 GB: far more than any read should take
                connection.sendall(chunk)
                sent += len(chunk)
        finally:
            self.sent.append(sent)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_answer_that_never_ends_is_read_no_further_than_a_small_cap(
    scheme: str, trusted: Certificates
) -> None:
    flood = Flood()
    tls = trusted.server_tls().ssl_context() if scheme == "https" else None
    server = SocketServer(flood, tls=tls)
    try:
        sink = TrackEventsApiSink(server.url(scheme), Tokens(), timeout=5)
        sink.send([event(1), event(2, isolated=True)], None)
        stats = sink.stats()
        for handler in list(server.handlers):
            handler.join(30)  # the client hung up on each answer
        assert (stats, len(flood.sent)) == (SinkStats(delivered=2, requests=2), 2)
    finally:
        server.close()
