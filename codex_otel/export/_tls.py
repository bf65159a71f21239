"""`tls = {…}` of an OTLP exporter -> what the SDK's HTTP and gRPC exporters take.

The files are read when the exporter starts: one that has gone missing since the config was
loaded raises here, inside the provider's best-effort start, so telemetry turns off (said
once) and the host carries on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from .._config import TlsConfig
from ._grpc_setup import before_importing_grpc
from ._private_sdk_exporters import (
    final_grpc_error,
    retry_connection_errors_unless,
    uses_grpc,
    wrap_grpc_stub,
)

__all__ = [
    "HttpTlsFiles",
    "certificate_failures_are_final",
    "grpc_certificate_failure",
    "grpc_credentials",
    "http_tls_files",
    "pinned_ca_session",
]


def _read(path: Path | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OSError(f"cannot read the TLS {what} {str(path)!r}: {exc.strerror}") from None


class HttpTlsFiles(NamedTuple):
    """The OTLP/HTTP exporters' TLS arguments: paths, which they read per request."""

    certificate_file: str | None = None
    client_certificate_file: str | None = None
    client_key_file: str | None = None


def http_tls_files(tls: TlsConfig | None) -> HttpTlsFiles:
    """Paths for the OTLP/HTTP exporters, each read once now so a missing one is heard at
    start rather than as failed exports."""
    if tls is None:
        return HttpTlsFiles()
    _read(tls.ca_certificate, "ca-certificate")
    _read(tls.client_certificate, "client-certificate")
    _read(tls.client_private_key, "client-private-key")
    return HttpTlsFiles(
        *(
            None if path is None else str(path)
            for path in (tls.ca_certificate, tls.client_certificate, tls.client_private_key)
        )
    )


def pinned_ca_session(tls: TlsConfig | None) -> Any:
    """A `requests.Session` for the OTLP/HTTP protobuf exporter whose CA is the configured one.

    requests lets `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` in the environment replace a
    session's own CA on every request, so a host with either set could never reach a
    collector behind a private CA. This session keeps its own (proxies still come from the
    environment). None without a configured CA: the exporter's default session is right.
    """
    if tls is None or tls.ca_certificate is None:
        return None
    import requests

    class PinnedCaSession(requests.Session):
        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            settings: dict[str, Any] = super().merge_environment_settings(*args, **kwargs)
            settings["verify"] = self.verify
            return settings

    return PinnedCaSession()


def grpc_credentials(tls: TlsConfig | None) -> Any:
    """`grpc.ChannelCredentials` for an https:// endpoint (the system's roots without `tls`)."""
    before_importing_grpc()
    import grpc

    if tls is None:
        return grpc.ssl_channel_credentials()
    return grpc.ssl_channel_credentials(
        root_certificates=_read(tls.ca_certificate, "ca-certificate"),
        private_key=_read(tls.client_private_key, "client-private-key"),
        certificate_chain=_read(tls.client_certificate, "client-certificate"),
    )


def certificate_failures_are_final(exporter: Any) -> None:
    """An OTLP exporter (HTTP or gRPC) that does not retry a failed certificate check.

    The SDK's exporters retry connection errors (gRPC: UNAVAILABLE) with backoff for up to
    their timeout, and a failed certificate check is one to them: the reason was said only
    after about 8 s, so a short-lived process never said why nothing arrived. A certificate
    does not become valid by waiting: the export fails at its first attempt, and its reason
    is said then. A collector that is down is still retried.
    """
    if uses_grpc(exporter):
        wrap_grpc_stub(exporter, _FinalOnCertificateFailure)
    else:
        retry_connection_errors_unless(exporter, _certificate_failure)


# What gRPC's core says of a handshake whose certificate check failed: the only sign of it
# (its Python API gives a code, UNAVAILABLE as for a collector that is down, and text).
# A wrong CA or an expired certificate, then a certificate for another host name.
_GRPC_CERTIFICATE_FAILURES = ("CERTIFICATE_VERIFY_FAILED", "Hostname Verification Check failed")


def grpc_certificate_failure(error: BaseException) -> bool:
    """Whether `error`, raised by a gRPC call, is a failed check of the server's certificate."""
    before_importing_grpc()
    import grpc

    if not isinstance(error, grpc.RpcError) or not isinstance(error, grpc.Call):
        return False
    if error.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    details = error.details() or ""
    return any(marker in details for marker in _GRPC_CERTIFICATE_FAILURES)


class _FinalOnCertificateFailure:
    """An OTLP/gRPC service stub whose failed certificate check fails the export at once."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub

    def Export(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._stub.Export(*args, **kwargs)
        except Exception as error:
            if grpc_certificate_failure(error):
                raise final_grpc_error(error, "certificate verify failed, not retried") from error
            raise


def _certificate_failure(error: BaseException | None) -> bool:
    """Whether a certificate check failed somewhere in `error`'s chain (requests and urllib3
    wrap the `ssl` error in their own, in `args`, `reason`, or as the cause)."""
    import ssl

    seen: set[int] = set()
    pending: list[object] = [error]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLCertVerificationError):
            return True
        pending += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return False
