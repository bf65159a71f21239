"""The parts of the `[otel]` table as frozen dataclasses: exporters, TLS, batch, content.

The table itself, `OtelConfig`, is built where it is read and validated (`_config_load`), so
that its public `from_mapping` needs no import back up from this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

__all__ = [
    "DEFAULT_GRPC_ENDPOINT",
    "DEFAULT_HTTP_ENDPOINT",
    "DEFAULT_HTTP_METRICS_ENDPOINT",
    "DEFAULT_HTTP_TRACES_ENDPOINT",
    "BatchConfig",
    "ExporterConfig",
    "Headers",
    "MetricsTemporality",
    "NoneExporter",
    "OtlpFileExporter",
    "OtlpGrpcExporter",
    "OtlpHttpExporter",
    "TlsConfig",
    "ToolResultConfig",
    "redact_url",
]

DEFAULT_HTTP_ENDPOINT = "http://localhost:4318/v1/logs"
DEFAULT_GRPC_ENDPOINT = "http://localhost:4317"
DEFAULT_HTTP_METRICS_ENDPOINT = "http://localhost:4318/v1/metrics"
DEFAULT_HTTP_TRACES_ENDPOINT = "http://localhost:4318/v1/traces"
DEFAULT_METRICS_EXPORT_INTERVAL_MS = 60_000


class Headers(Mapping[str, str]):
    """Export headers. Values are secrets: `repr` and `str` show only the names."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = dict(items or {})

    def __getitem__(self, name: str) -> str:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return "Headers({" + ", ".join(f"{name!r}: '***'" for name in self._items) + "})"

    __str__ = __repr__


@dataclass(frozen=True)
class TlsConfig:
    """TLS for an OTLP exporter. Paths are absolute once loaded (relative ones resolve
    against the config file's folder)."""

    ca_certificate: Path | None = None
    """PEM bundle that verifies the collector's certificate (else the system's roots)."""
    client_certificate: Path | None = None
    """PEM client certificate for mutual TLS; given together with `client_private_key`."""
    client_private_key: Path | None = None
    """PEM private key of `client_certificate`."""


@dataclass(frozen=True)
class NoneExporter:
    """Export nothing: no network, no files; the event calls stay valid and cheap."""

    kind: ClassVar[str] = "none"


@dataclass(frozen=True)
class OtlpHttpExporter:
    """OTLP over HTTP to one signal's endpoint of a collector."""

    kind: ClassVar[str] = "otlp-http"

    endpoint: str = DEFAULT_HTTP_ENDPOINT
    """Full URL of the signal's endpoint, e.g. `https://otel.example.com/v1/logs` for events."""
    protocol: Literal["binary", "json"] = "binary"
    """`binary` (protobuf) or `json` (OTLP/JSON)."""
    headers: Headers = field(default_factory=Headers)
    """Sent with every export; `${NAME}` already expanded from the environment."""
    tls: TlsConfig | None = None
    """Custom CA and/or client certificate (needs an `https://` endpoint)."""

    def __repr__(self) -> str:
        return (
            f"OtlpHttpExporter(endpoint={redact_url(self.endpoint)!r}, "
            f"protocol={self.protocol!r}, headers={self.headers!r}, tls={self.tls!r})"
        )


@dataclass(frozen=True)
class OtlpGrpcExporter:
    """OTLP over gRPC to a collector."""

    kind: ClassVar[str] = "otlp-grpc"

    endpoint: str = DEFAULT_GRPC_ENDPOINT
    """Collector address, e.g. `https://otel.example.com:4317` (`http://` means no TLS)."""
    headers: Headers = field(default_factory=Headers)
    """Sent as gRPC metadata with every export; `${NAME}` already expanded."""
    tls: TlsConfig | None = None
    """Custom CA and/or client certificate (needs an `https://` endpoint)."""

    def __repr__(self) -> str:
        return (
            f"OtlpGrpcExporter(endpoint={redact_url(self.endpoint)!r}, "
            f"headers={self.headers!r}, tls={self.tls!r})"
        )


@dataclass(frozen=True)
class OtlpFileExporter:
    """OTLP/JSON lines appended to a file: one export request per line, the OpenTelemetry
    file exporter's format, which `codex-otel view` and the Collector's file receivers read."""

    kind: ClassVar[str] = "otlp-file"

    path: Path
    """The file; `~` expanded and relative paths resolved against the config file's folder
    at load. Missing parent folders are created when the exporter starts."""


def redact_url(url: str) -> str:
    """The URL with any `user:password@` replaced by `***@`, for messages and reprs."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    # The last "@" of the authority ends the userinfo: a password may contain "@" itself.
    _, at, host = authority.rpartition("@")
    if sep and at:
        return f"{scheme}{sep}***@{host}{slash}{path}"
    if not sep and "@" in url:
        # Not a URL we can parse (a mistyped scheme): keep nothing before the last "@".
        return "***@" + url.rpartition("@")[2]
    return url


ExporterConfig = NoneExporter | OtlpHttpExporter | OtlpGrpcExporter | OtlpFileExporter
MetricsTemporality = Literal["delta", "cumulative"]


@dataclass(frozen=True)
class BatchConfig:
    """The background batch worker: sized so a burst of thousands of events loses nothing."""

    max_queue_size: int = 24576
    """Events held while waiting for export; beyond it new events are dropped (and counted).
    Larger than a 20,000-event burst, so one is never cut even if no export got through yet."""
    max_queue_bytes: int = 16 * 1024 * 1024
    """Estimated wire size of the events held; beyond it new events are dropped (and
    counted), so large tool results cannot grow the queue past a bounded memory."""
    max_export_batch_size: int = 1024
    """Events per export request."""
    max_export_bytes: int = 3 * 1024 * 1024
    """Largest export request, by estimated protobuf size (OTLP/JSON is counted double):
    collectors and gRPC refuse requests over 4 MiB by default. A batch is cut to fit; an
    event bigger than this on its own is dropped and counted as `too_large`."""
    schedule_delay_ms: int = 500
    """Longest wait before a partial batch is sent."""


@dataclass(frozen=True)
class ToolResultConfig:
    """What `codex.tool_result` keeps of tool arguments and output."""

    max_bytes: int = 2048
    """Cap on `arguments` and `output` (UTF-8 bytes); longer text is cut and marked."""
    scrub_secrets: bool = True
    """Replace API keys, bearer tokens, URL passwords, private keys, `password=` pairs."""
    extra_patterns: tuple[str, ...] = ()
    """More regular expressions whose matches are scrubbed."""
