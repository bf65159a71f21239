"""The exporter tables of `[otel]` (`exporter`, `metrics_exporter`, `trace_exporter`): their
kinds, endpoints, headers (with `${NAME}` expanded) and TLS files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._config import (
    DEFAULT_HTTP_ENDPOINT,
    ExporterConfig,
    Headers,
    NoneExporter,
    OtlpFileExporter,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    TlsConfig,
    redact_url,
)
from ._config_parser import TableParser, choices, type_name

__all__ = ["STATSIG", "ExporterParser"]

# Codex's built-in metrics sink (OpenAI's Statsig ingestion, Codex's default
# `metrics_exporter`): a Codex file may name it; nothing of codex_otel's is ever sent there.
STATSIG = "statsig"

_ENV_REF = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The kinds a plain string may name (`otlp-file` needs its path, so only the table form).
_EXPORTER_KINDS: dict[str, type[NoneExporter | OtlpHttpExporter | OtlpGrpcExporter]] = {
    "none": NoneExporter,
    "otlp-http": OtlpHttpExporter,
    "otlp-grpc": OtlpGrpcExporter,
}


class ExporterParser(TableParser):
    """The exporter tables, on top of the table checks."""

    def exporter(
        self, value: object, key: str, http_default: str = DEFAULT_HTTP_ENDPOINT
    ) -> ExporterConfig:
        """`exporter`, `metrics_exporter` or `trace_exporter`; the short form `"otlp-http"`
        means the local collector's endpoint for that signal (`http_default`)."""
        kinds = tuple(_EXPORTER_KINDS)
        tables = (*kinds[1:], OtlpFileExporter.kind)
        if isinstance(value, str):
            if value == OtlpFileExporter.kind:
                raise self.fail(
                    key, 'expected a table naming the file: { otlp-file = { path = "..." } }'
                )
            if value == STATSIG:
                self.warn(
                    key,
                    "'statsig' is Codex's built-in sink at OpenAI; codex_otel sends nothing "
                    "there (read as 'none')",
                )
                return NoneExporter()
            if value not in _EXPORTER_KINDS:
                raise self.fail(
                    key,
                    f"unknown exporter {value!r}; expected one of {choices(kinds)} or a "
                    f"table with exactly one of {choices(tables)}",
                )
            if value == "otlp-http":
                return OtlpHttpExporter(endpoint=http_default)
            return _EXPORTER_KINDS[value]()
        if not isinstance(value, Mapping) or len(value) != 1:
            raise self.fail(
                key,
                f"expected one of {choices(kinds)} or a table with exactly one of "
                f"{choices(tables)}",
            )
        ((kind, options),) = value.items()
        if kind == "otlp-http":
            return self.otlp_http(options, f"{key}.otlp-http")
        if kind == "otlp-grpc":
            return self.otlp_grpc(options, f"{key}.otlp-grpc")
        if kind == OtlpFileExporter.kind:
            return self.otlp_file(options, f"{key}.{kind}")
        raise self.fail(f"{key}.{kind}", f"unknown exporter; expected one of {choices(tables)}")

    def otlp_file(self, value: object, key: str) -> OtlpFileExporter:
        table = self.table(value, key, ("path",))
        if "path" not in table:
            raise self.fail(
                f"{key}.path", "missing; expected the file to append OTLP/JSON lines to"
            )
        raw = self.string(table["path"], f"{key}.path").strip()
        if not raw:
            raise self.fail(f"{key}.path", "expected a file path, got an empty string")
        path = self.base_dir / Path(raw).expanduser()
        # Only what is certain now: whether the folders can be created is for `config check`
        # and the exporter's start to say (a host must not fail to load over telemetry).
        if path.is_dir():
            raise self.fail(f"{key}.path", f"expected a file, {str(path)!r} is a folder")
        return OtlpFileExporter(path=path)

    def otlp_http(self, value: object, key: str) -> OtlpHttpExporter:
        table = self.table(value, key, ("endpoint", "protocol", "headers", "tls"))
        protocol = self.string(table.get("protocol", "binary"), f"{key}.protocol")
        if protocol not in ("binary", "json"):
            raise self.fail(f"{key}.protocol", f"expected 'binary' or 'json', got {protocol!r}")
        endpoint = self.endpoint(table, key)
        return OtlpHttpExporter(
            endpoint=endpoint,
            protocol="json" if protocol == "json" else "binary",
            headers=self.headers(table.get("headers", {}), f"{key}.headers"),
            tls=self.tls(table, key, endpoint),
        )

    def otlp_grpc(self, value: object, key: str) -> OtlpGrpcExporter:
        table = self.table(value, key, ("endpoint", "headers", "tls"))
        endpoint = self.endpoint(table, key)
        if "@" in urlsplit(endpoint).netloc:
            # gRPC sends no userinfo: the exporter would fail on it (printing it) and deliver
            # nothing, so it is refused here, where it can be said without showing it.
            raise self.fail(
                f"{key}.endpoint",
                "expected no user:password@ in a gRPC endpoint (gRPC does not send it; "
                f"put credentials in headers), got {redact_url(endpoint)!r}",
            )
        return OtlpGrpcExporter(
            endpoint=endpoint,
            headers=self.headers(table.get("headers", {}), f"{key}.headers"),
            tls=self.tls(table, key, endpoint),
        )

    def endpoint(self, table: Mapping[str, Any], key: str) -> str:
        if "endpoint" not in table:
            raise self.fail(f"{key}.endpoint", "missing; expected a URL such as http://host:port")
        endpoint = self.string(table["endpoint"], f"{key}.endpoint").strip()
        scheme, sep, rest = endpoint.partition("://")
        if not sep or scheme not in ("http", "https") or not rest.split("/", 1)[0]:
            raise self.fail(
                f"{key}.endpoint",
                f"expected an http:// or https:// URL, got {redact_url(endpoint)!r}",
            )
        return endpoint

    def headers(self, value: object, key: str) -> Headers:
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a table of strings, got {type_name(value)}")
        resolved: dict[str, str] = {}
        for name, raw in value.items():
            # Never echo the value: it is usually a token.
            if not isinstance(raw, str):
                raise self.fail(f"{key}.{name}", f"expected a string, got {type_name(raw)}")
            resolved[name] = self.expand(raw, f"{key}.{name}")
        return Headers(resolved)

    def expand(self, raw: str, key: str) -> str:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if not _ENV_NAME.fullmatch(name):
                raise self.fail(key, f"expected ${{NAME}} with a variable name, got ${{{name}}}")
            if name not in self.env:
                raise self.fail(key, f"environment variable {name} is not set")
            return self.env[name]

        return _ENV_REF.sub(substitute, raw)

    def tls(self, table: Mapping[str, Any], key: str, endpoint: str) -> TlsConfig | None:
        if "tls" not in table:
            return None
        key = f"{key}.tls"
        tls = self.table(
            table["tls"], key, ("ca-certificate", "client-certificate", "client-private-key")
        )
        if not endpoint.startswith("https://"):
            raise self.fail(key, f"TLS needs an https:// endpoint, got {redact_url(endpoint)!r}")
        if ("client-certificate" in tls) != ("client-private-key" in tls):
            raise self.fail(
                key, "expected client-certificate and client-private-key together, or neither"
            )
        paths = {name: self.pem_file(tls[name], f"{key}.{name}") for name in tls}
        return TlsConfig(
            ca_certificate=paths.get("ca-certificate"),
            client_certificate=paths.get("client-certificate"),
            client_private_key=paths.get("client-private-key"),
        )

    def pem_file(self, value: object, key: str) -> Path:
        path = self.base_dir / Path(self.string(value, key)).expanduser()
        # Checked at load so a typo is heard at once; a file that vanishes later only
        # turns telemetry off (said once), it never breaks the host.
        if not path.is_file():
            raise self.fail(key, f"expected a readable PEM file, {str(path)!r} does not exist")
        return path
