"""How a test receiver is set up: its TLS, and the faults it answers exports with."""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass

__all__ = ["Fault", "ServerTls"]


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
