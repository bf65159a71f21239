"""An httpx2 client whose requests end by a deadline for the whole request.

httpx2's timeouts are per phase, each socket operation timed on its own: a server that
trickles a byte now and then, or reads the body that slowly, holds a request for as long as
it likes. Here every phase of a request (connecting, the TLS handshake, writing the request,
reading the answer) runs on a non-blocking socket in short slices, each looking again at the
request's deadline: the whole request ends by it, and promptly when the owner moves it closer
(stopping at shutdown), so its thread is never left waiting inside OpenSSL or a socket call.
TLS runs over memory buffers (`ssl.SSLObject`) for that reason, a TLS proxy included.

Name resolution is the one phase not sliced: it is the system resolver's, bounded by its own
timeout.

The client follows no redirect (httpx2's default, kept explicitly): a redirect must never
carry the caller's credentials to another address.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from ..export._private_http import wrap_network_backends

if TYPE_CHECKING:
    import httpcore2
    import httpx2

__all__ = ["DeadlineExceeded", "bounded_client", "request_deadline"]

# How long a blocked socket operation waits before looking at the deadline again.
_SLICE_SECONDS = 0.05
# TLS records are at most 16 KiB (RFC 8446).
_TLS_RECORD_BYTES = 16384
# What a non-blocking connect answers while under way (WSAEWOULDBLOCK on Windows).
_IN_PROGRESS = {
    errno.EINPROGRESS,
    errno.EALREADY,
    errno.EWOULDBLOCK,
    getattr(errno, "WSAEWOULDBLOCK", -1),
}

_T = TypeVar("_T")


class DeadlineExceeded(TimeoutError):
    """The request's deadline came before its answer did."""


class _Deadline(threading.local):
    # The deadline of the request the current thread is making (a `time.monotonic()` value).
    at: Callable[[], float] | None = None


_current = _Deadline()


@contextlib.contextmanager
def request_deadline(at: Callable[[], float]) -> Iterator[None]:
    """Bounds every request made inside it on this thread by `at()`, read again at each
    slice of every socket operation (so it may move closer)."""
    _current.at = at
    try:
        yield
    finally:
        _current.at = None


def _give_up(timeout: float | None) -> float | None:
    """When a phase given `timeout` (httpcore2's per-phase timeout) ends."""
    return None if timeout is None else time.monotonic() + timeout


def _slice(give_up: float | None, timed_out: type[Exception]) -> float:
    """How long the next wait may last; raises once the phase's time or the request's
    deadline is up."""
    now = time.monotonic()
    at = _current.at
    if at is not None and at() <= now:
        raise DeadlineExceeded("the request's deadline passed")
    if give_up is not None and give_up <= now:
        raise timed_out("timed out")
    left = _SLICE_SECONDS if give_up is None else give_up - now
    return min(left, _SLICE_SECONDS)


def _sliced(
    sock: socket.socket,
    call: Callable[[], _T],
    give_up: float | None,
    timed_out: type[Exception],
    failed: type[Exception],
) -> _T:
    # A socket operation that timed out did nothing (a recv consumed nothing, a send sent
    # nothing), so it is simply made again.
    while True:
        sock.settimeout(_slice(give_up, timed_out))
        try:
            return call()
        except TimeoutError:
            continue
        except OSError as exc:
            raise failed(str(exc) or type(exc).__name__) from exc


def _readable(sock: socket.socket) -> bool:
    """Whether an idle pooled connection has something to read (the server closed it)."""
    if sock.fileno() == -1:
        return True
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(0))


@functools.cache
def _classes() -> tuple[type[httpcore2.NetworkStream], type[httpcore2.NetworkBackend]]:
    import httpcore2

    class Stream(httpcore2.NetworkStream):
        def start_tls(
            self,
            ssl_context: ssl.SSLContext,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore2.NetworkStream:
            return TlsStream(self, ssl_context, server_hostname, timeout)

    class SocketStream(Stream):
        """A TCP connection whose every read and write waits in slices."""

        def __init__(self, sock: socket.socket) -> None:
            self._sock = sock

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return _sliced(
                self._sock,
                functools.partial(self._sock.recv, max_bytes),
                _give_up(timeout),
                httpcore2.ReadTimeout,
                httpcore2.ReadError,
            )

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            give_up = _give_up(timeout)
            view = memoryview(buffer)
            while view:
                sent = _sliced(
                    self._sock,
                    functools.partial(self._sock.send, view),
                    give_up,
                    httpcore2.WriteTimeout,
                    httpcore2.WriteError,
                )
                view = view[sent:]

        def close(self) -> None:
            self._sock.close()

        def get_extra_info(self, info: str) -> Any:
            if info == "socket":
                return self._sock
            if info == "client_addr":
                return self._sock.getsockname()
            if info == "server_addr":
                return self._sock.getpeername()
            if info == "is_readable":
                return _readable(self._sock)
            return None

    class TlsStream(Stream):
        """TLS over memory buffers on top of another stream (a TCP connection, or a TLS
        proxy's): OpenSSL never waits on a socket, the stream below does, in slices."""

        def __init__(
            self,
            inner: httpcore2.NetworkStream,
            context: ssl.SSLContext,
            server_hostname: str | None,
            timeout: float | None,
        ) -> None:
            self._inner = inner
            self._incoming = ssl.MemoryBIO()
            self._outgoing = ssl.MemoryBIO()
            try:
                self._tls = context.wrap_bio(
                    self._incoming, self._outgoing, server_hostname=server_hostname
                )
                self._io(self._tls.do_handshake, _give_up(timeout))
            except DeadlineExceeded:
                inner.close()
                raise
            except (httpcore2.ReadTimeout, httpcore2.WriteTimeout) as exc:
                inner.close()
                raise httpcore2.ConnectTimeout(str(exc)) from exc
            except (httpcore2.ReadError, httpcore2.WriteError, OSError) as exc:
                inner.close()
                raise httpcore2.ConnectError(str(exc) or type(exc).__name__) from exc
            except BaseException:
                inner.close()
                raise

        def _io(self, call: Callable[[], _T], give_up: float | None) -> _T:
            while True:
                wants_more = False
                try:
                    result = call()
                except ssl.SSLWantReadError:
                    wants_more = True
                pending = self._outgoing.read()
                if pending:
                    self._inner.write(pending, _left(give_up))
                if not wants_more:
                    return result
                data = self._inner.read(_TLS_RECORD_BYTES, _left(give_up))
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            try:
                return self._io(functools.partial(self._tls.read, max_bytes), _give_up(timeout))
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""  # the server closed: h11 tells whether the answer was whole
            except ssl.SSLError as exc:
                raise httpcore2.ReadError(str(exc)) from exc

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            give_up = _give_up(timeout)
            view = memoryview(buffer)
            try:
                while view:
                    view = view[self._io(functools.partial(self._tls.write, view), give_up) :]
            except ssl.SSLError as exc:
                raise httpcore2.WriteError(str(exc)) from exc

        def close(self) -> None:
            self._inner.close()

        def get_extra_info(self, info: str) -> Any:
            if info == "ssl_object":
                return self._tls
            return self._inner.get_extra_info(info)

    class DeadlineBackend(httpcore2.NetworkBackend):
        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore2.NetworkStream:
            give_up = _give_up(timeout)
            try:
                addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
            except OSError as exc:
                raise httpcore2.ConnectError(str(exc)) from exc
            error: Exception = httpcore2.ConnectError(f"no address for {host}")
            for family, kind, proto, _, address in addresses:
                sock = socket.socket(family, kind, proto)
                try:
                    for option in socket_options or ():
                        sock.setsockopt(*option)
                    if family in (socket.AF_INET, socket.AF_INET6):
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    if local_address is not None:
                        sock.bind((local_address, 0))
                    _connect(sock, address, give_up)
                    return SocketStream(sock)
                except (DeadlineExceeded, httpcore2.ConnectTimeout):
                    sock.close()
                    raise
                except OSError as exc:
                    sock.close()
                    error = httpcore2.ConnectError(str(exc) or type(exc).__name__)
            raise error

        def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore2.NetworkStream:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                _connect(sock, path, _give_up(timeout))
            except BaseException as exc:
                sock.close()
                if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
                    raise httpcore2.ConnectError(str(exc)) from exc
                raise
            return SocketStream(sock)

        def sleep(self, seconds: float) -> None:
            time.sleep(seconds)

    return SocketStream, DeadlineBackend


def _left(give_up: float | None) -> float | None:
    return None if give_up is None else give_up - time.monotonic()


def _connect(sock: socket.socket, address: Any, give_up: float | None) -> None:
    """Connects without blocking, waiting for the answer in slices."""
    import httpcore2

    sock.setblocking(False)
    code = sock.connect_ex(address)
    if code in _IN_PROGRESS:
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_WRITE)
            while not selector.select(_slice(give_up, httpcore2.ConnectTimeout)):
                pass
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code not in (0, errno.EISCONN):
        raise OSError(code, os.strerror(code))


def _backend(inner: httpcore2.NetworkBackend) -> httpcore2.NetworkBackend:
    # The pool's own backend is replaced: every connection is made here, in slices.
    del inner
    return _classes()[1]()


def bounded_client(timeout: float) -> httpx2.Client:
    """A client following no redirect, with `timeout` per phase, honouring the proxy
    variables, whose requests a `request_deadline` bounds as a whole."""
    import h11  # noqa: F401 - loaded now, with the rest: never first imported on a worker
    import httpx2

    client = httpx2.Client(timeout=timeout, follow_redirects=False, trust_env=True)
    wrap_network_backends(client, _backend)
    return client
