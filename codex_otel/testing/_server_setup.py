"""How a test receiver is set up: its TLS, the faults it answers exports with, what it reads
at most, and which `Host` it answers (the viewer's page shares the last two)."""

from __future__ import annotations

import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Fault", "HttpLimits", "ServerTls", "is_loopback", "loopback_request"]

_LOCAL_NAMES = ("localhost", "localhost.")


@dataclass(frozen=True)
class HttpLimits:
    """What an HTTP request may carry (more is answered 413: a collector's default request
    limit is 20 MiB), and how many connections stay open, how long."""

    max_body_bytes: int = 20 << 20
    """The request body as sent (compressed or not): refused before it is read."""
    max_inflated_bytes: int = 64 << 20
    """What a gzip or deflate body may inflate to: refused as soon as it inflates past it
    (what inflated so far is held meanwhile)."""
    max_records: int = 100_000
    """Log records, spans or metric data points in one request (senders batch 512 to 8,192):
    counted in the body before it is decoded (each record decoded is an object, whatever its
    size). gRPC requests too."""
    max_json_objects: int = 2_000_000
    """JSON objects (`{`) in one OTLP/JSON body, counted before it is parsed (each parsed
    is a dict, whatever its size): about 20 for each of `max_records` records."""
    max_connections: int = 64
    """Connections open at once (kept alive between requests, each holds a thread); one more
    is closed as soon as it is accepted."""
    idle_seconds: float = 30.0
    """How long a connection may stay silent, idle between requests or stalled within one,
    before it is closed."""


def is_loopback(host: str) -> bool:
    """`host` (a name or address, an IPv6 one bracketed or not) is this machine only."""
    host = host.strip("[]").lower()
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_of(authority: str) -> str:
    if authority.startswith("["):  # [::1]:4318
        return authority[: authority.find("]") + 1]
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def loopback_request(host_header: str | None, origin_header: str | None) -> bool:
    """A request a local program sent, not a web page through a name pointed at 127.0.0.1 (DNS
    rebinding: its `Host` is that name) nor another site's page (its `Origin` is that site)."""
    if not host_header or not is_loopback(_host_of(host_header.strip())):
        return False
    if origin_header is None:
        return True
    origin = urlsplit(origin_header.strip())
    return origin.scheme in ("http", "https") and is_loopback(origin.hostname or "")


@dataclass(frozen=True)
class Fault:
    """How the receiver refuses one export request, as a misbehaving collector would.

    `http_status` (with `retry_after` as the `Retry-After` header) answers an HTTP export;
    `grpc_code` (a `grpc.StatusCode` name) aborts a gRPC one; `reset` drops the connection
    of an HTTP export with a TCP reset after reading the request, before any answer.
    """

    http_status: int = 503
    retry_after: str | None = None
    grpc_code: str = "UNAVAILABLE"
    reset: bool = False


@dataclass(frozen=True)
class ServerTls:
    """TLS for the receiver: its PEM certificate chain and key; with `client_ca`, clients
    must present a certificate signed by it (mutual TLS)."""

    certificate: bytes
    private_key: bytes
    client_ca: bytes | None = None

    def __repr__(self) -> str:  # never show the key
        return f"ServerTls(mutual={self.client_ca is not None})"

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # load_cert_chain only reads files: hand it a private temporary copy.
        with tempfile.TemporaryDirectory() as folder:
            cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
            with open(cert, "wb") as out:
                out.write(self.certificate)
            with open(key, "wb") as out:
                out.write(self.private_key)
            context.load_cert_chain(cert, key)
        if self.client_ca is not None:
            context.load_verify_locations(cadata=self.client_ca.decode("ascii"))
            context.verify_mode = ssl.CERT_REQUIRED
        return context
