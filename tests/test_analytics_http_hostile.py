"""The track-events sender against servers that misbehave: redirects, answers that are not
HTTP, a server that trickles its answer. Every event ends in exactly one bucket; the token
never leaves for another address."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from codex_otel.analytics import SinkStats, TrackEvent, TrackEventsApiSink
from tests.analytics_backend import (
    Backend,
    SocketServer,
    Tokens,
    backend,
    event,
    read_head,
    serving,
)

__all__ = ["backend"]  # the fixture, used by name


@pytest.fixture
def thief() -> Iterator[Backend]:
    """Where a redirect points: it must never see a request (nor the token)."""
    yield from serving()


class RawServer(SocketServer):
    """Reads each request on 127.0.0.1, then answers with `answer(connection)`; counts the
    requests it read."""

    def __init__(self, answer: Callable[[socket.socket], None]) -> None:
        self.answer = answer
        self.requests = 0
        super().__init__(self._answer_request)

    @property
    def base_url(self) -> str:
        return self.url("http")

    def _answer_request(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        data = read_head(connection)
        if data is None:
            return
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += connection.recv(65536)
        self.requests += 1
        self.answer(connection)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_counted_failure_and_the_token_never_follows_it(
    backend: Backend, thief: Backend, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    backend.status = status
    backend.location = thief.base_url + "steal"
    sink = TrackEventsApiSink(backend.base_url, Tokens())
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        sink.send([event(1), event(2), event(3, isolated=True)], None)
    assert (len(backend.requests), thief.requests) == (2, [])
    assert sink.stats() == SinkStats(failed=3, requests=2)
    port = backend.server.server_address[1]
    assert [r.getMessage() for r in caplog.records] == [
        f"codex_otel: analytics track_events_api: events failed: "
        f"http://127.0.0.1:{port}/codex/analytics-events/events answered {status}, a "
        "redirect, which is never followed with credentials; further such failures are "
        "counted, not logged"
    ]
    assert "secret" not in caplog.text and "steal" not in caplog.text


def _bad_status_line(connection: socket.socket) -> None:
    connection.sendall(b"this is not HTTP\r\n\r\n")


def _incomplete_body(connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}")


def _no_answer(connection: socket.socket) -> None:
    pass  # the connection closes without a byte


@pytest.mark.parametrize("answer", [_bad_status_line, _incomplete_body, _no_answer])
def test_an_answer_that_is_not_http_fails_each_batch_and_the_rest_of_the_send_goes_on(
    answer: Callable[[socket.socket], None], caplog: pytest.LogCaptureFixture
) -> None:
    server = RawServer(answer)
    try:
        sink = TrackEventsApiSink(server.base_url, Tokens(), timeout=5)
        with caplog.at_level(logging.WARNING, logger="codex_otel"):
            sink.send([event(1), event(2, isolated=True), event(3)], None)
        assert (server.requests, sink.stats()) == (3, SinkStats(failed=3, requests=3))
        assert len(caplog.records) == 1
        assert "failed to send events request to http://127.0.0.1:" in caplog.text
    finally:
        server.close()


def _trickle(connection: socket.socket) -> None:
    # One byte of a never-ending header every 50 ms: each read is quick, the answer never is.
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(1200):
        connection.sendall(b"a")
        threading.Event().wait(0.05)


def test_a_trickling_server_is_cut_by_the_deadline_of_the_whole_request() -> None:
    server = RawServer(_trickle)
    try:
        sink = TrackEventsApiSink(server.base_url, Tokens(), timeout=0.5)
        sender = threading.Thread(target=sink.send, args=([event(1), event(2)], None))
        sender.start()
        sender.join(20)  # the server trickles for a minute: only a whole-request bound ends it
        assert not sender.is_alive()
        assert sink.stats() == SinkStats(failed=2, requests=1)
    finally:
        server.close()


@pytest.mark.parametrize("headers", ["Bearer secret", 42, [("Authorization", "secret")]])
def test_auth_headers_of_the_wrong_type_are_a_counted_failure(
    backend: Backend, headers: object, caplog: pytest.LogCaptureFixture
) -> None:
    sink = TrackEventsApiSink(backend.base_url, lambda: headers)  # type: ignore[arg-type,return-value]
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        sink.send([event(1), event(2, isolated=True)], None)
    assert (backend.requests, sink.stats()) == ([], SinkStats(failed=2))
    assert [r.getMessage() for r in caplog.records] == [
        f"codex_otel: analytics track_events_api: the auth_headers callable returned "
        f"{type(headers).__name__}, expected a mapping of header names to values, or None; "
        "further such failures are counted, not logged"
    ]


def test_abandon_cuts_the_request_in_flight_and_counts_the_rest_of_its_send(
    backend: Backend,
) -> None:
    backend.hang.set()
    sink = TrackEventsApiSink(backend.base_url, Tokens())
    events: list[TrackEvent] = [event(1), event(2), event(3, isolated=True), event(4)]
    sender = threading.Thread(target=sink.send, args=(events, None))
    sender.start()
    while not backend.requests:  # the first request is in the server's hands
        threading.Event().wait(0.01)
    sink.abandon()
    assert sink.stats() == SinkStats(in_flight_at_shutdown=2, unsent_at_shutdown=2, requests=1)
    sender.join(10)
    assert not sender.is_alive()  # cut at once, not after the 10 s timeout
    assert sink.stats() == SinkStats(in_flight_at_shutdown=2, unsent_at_shutdown=2, requests=1)
    sink.send([event(5)], None)
    assert sink.stats() == SinkStats(in_flight_at_shutdown=2, unsent_at_shutdown=3, requests=1)
