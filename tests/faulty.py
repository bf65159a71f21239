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
