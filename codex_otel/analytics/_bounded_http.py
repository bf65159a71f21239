"""An httpx2 client whose requests end by a deadline for the whole request.

httpx2's timeouts are per phase, each read timed on its own: a server that trickles a byte
now and then holds a request for as long as it likes. Here every socket operation of a
request is bounded by the time left before its deadline, and a blocked read wakes in short
slices to see whether the deadline moved closer (the owner stopping at shutdown).

The client follows no redirect (httpx2's default, kept explicitly): a redirect must never
carry the caller's credentials to another address.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..export._private_http import wrap_network_backends

if TYPE_CHECKING:
    import ssl

    import httpcore2
    import httpx2

__all__ = ["DeadlineExceeded", "bounded_client", "request_deadline"]

# How long a blocked read waits before looking at the deadline again.
_READ_SLICE_SECONDS = 0.05


class DeadlineExceeded(TimeoutError):
    """The request's deadline came before its answer did."""


class _Deadline(threading.local):
    # The deadline of the request the current thread is making (a `time.monotonic()` value).
    at: Callable[[], float] | None = None


_current = _Deadline()


@contextlib.contextmanager
def request_deadline(at: Callable[[], float]) -> Iterator[None]:
    """Bounds every request made inside it on this thread by `at()`, read again at each
    socket operation (so it may move closer)."""
    _current.at = at
    try:
        yield
    finally:
        _current.at = None


def _remaining(timeout: float | None) -> float | None:
    at = _current.at
    if at is None:
        return timeout
    left = at() - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


def _stream_class() -> Callable[[httpcore2.NetworkStream], httpcore2.NetworkStream]:
    import httpcore2

    class DeadlineStream(httpcore2.NetworkStream):
        def __init__(self, inner: httpcore2.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            # In slices: a timed-out recv consumes nothing, so waiting again is safe.
            give_up = None if timeout is None else time.monotonic() + timeout
            while True:
                left = _remaining(None if give_up is None else give_up - time.monotonic())
                if left is not None and left <= 0:
                    raise httpcore2.ReadTimeout("timed out")
                wait = _READ_SLICE_SECONDS if left is None else min(left, _READ_SLICE_SECONDS)
                try:
                    return self._inner.read(max_bytes, wait)
                except httpcore2.ReadTimeout:
                    continue

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, _remaining(timeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(
            self,
            ssl_context: ssl.SSLContext,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore2.NetworkStream:
            return DeadlineStream(
                self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout))
            )

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    return DeadlineStream


def _backend(inner: httpcore2.NetworkBackend) -> httpcore2.NetworkBackend:
    import httpcore2

    stream = _stream_class()

    class DeadlineBackend(httpcore2.NetworkBackend):
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore2.NetworkStream:
            return stream(
                inner.connect_tcp(host, port, _remaining(timeout), local_address, socket_options)
            )

        def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore2.NetworkStream:
            return stream(inner.connect_unix_socket(path, _remaining(timeout), socket_options))

        def sleep(self, seconds: float) -> None:
            inner.sleep(seconds)

    return DeadlineBackend()


def bounded_client(timeout: float) -> httpx2.Client:
    """A client following no redirect, with `timeout` per phase, honouring the proxy
    variables, whose requests a `request_deadline` bounds as a whole."""
    import h11  # noqa: F401 - loaded now, with the rest: never first imported on a worker
    import httpx2

    client = httpx2.Client(timeout=timeout, follow_redirects=False, trust_env=True)
    wrap_network_backends(client, _backend)
    return client
