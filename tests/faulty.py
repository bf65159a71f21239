"""Collectors that misbehave below HTTP: a closed port, and one that accepts and then hangs.

(Refusals with a status code, gRPC errors and resets mid-request are faults the real
receiver injects itself: `OtlpReceiver.fail_next`.)
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def hanging_server() -> Iterator[int]:
    """Accepts connections on 127.0.0.1, reads what arrives, never answers. Yields the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                conn.setblocking(False)
                accepted.append(conn)
            except TimeoutError:
                pass
            except OSError:
                return
            for held in accepted:
                # Drain what arrives, so the client's send completes and it waits for an answer.
                with suppress(BlockingIOError, OSError):
                    held.recv(65536)

    thread = threading.Thread(target=serve, name="hanging-collector", daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        listener.close()


class CountingRelay:
    """Counts the TCP connections made to it on 127.0.0.1: relays each to `target_port`
    (a real receiver), or closes it at once when there is none (a collector that is down).

    A failed TLS handshake never reaches the receiver's service, so attempts are counted
    here, one connection each."""

    def __init__(self, target_port: int | None = None) -> None:
        self._target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._changed = threading.Condition()
        self._connections = 0
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._serve, name="relay", daemon=True)]

    @property
    def connections(self) -> int:
        with self._changed:
            return self._connections

    def wait_for(self, count: int, timeout: float = 15.0) -> bool:
        """Whether `count` connections arrived within `timeout` (a bound, not a measure)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._connections >= count, timeout)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._changed:
                self._connections += 1
                self._changed.notify_all()
            if self._target_port is None:
                conn.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self._target_port))
            except OSError:
                conn.close()
                continue
            self._sockets += [conn, upstream]
            for source, sink in ((conn, upstream), (upstream, conn)):
                pipe = threading.Thread(target=_pipe, args=(source, sink), daemon=True)
                self._threads.append(pipe)
                pipe.start()

    def __enter__(self) -> CountingRelay:
        self._threads[0].start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._threads[0].join(timeout=2)
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for pipe in self._threads[1:]:
            pipe.join(timeout=2)
        self._listener.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
