"""The `[otel]` table: `OtelConfig`, and reading and validating it (the one place config
errors are raised)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._config import (
    DEFAULT_HTTP_ENDPOINT,
    DEFAULT_HTTP_METRICS_ENDPOINT,
    DEFAULT_HTTP_TRACES_ENDPOINT,
    DEFAULT_METRICS_EXPORT_INTERVAL_MS,
    BatchConfig,
    ExporterConfig,
    Headers,
    MetricsTemporality,
    NoneExporter,
    OtlpFileExporter,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    TlsConfig,
    ToolResultConfig,
    redact_url,
)
from ._errors import ConfigError
from .catalog import DEFAULT_SERVICE_NAME

__all__ = [
    "AnalyticsConfig",
    "OtelConfig",
    "default_config_path",
    "load_analytics_config",
    "load_config",
    "parse_analytics_table",
    "parse_table",
]

_ENV_REF = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class OtelConfig:
    """The resolved `[otel]` table."""

    environment: str = "dev"
    """Exported as the resource attribute `env`."""
    exporter: ExporterConfig = field(default_factory=NoneExporter)
    """Where events go; `NoneExporter` by default."""
    log_user_prompt: bool = False
    """When false, prompt text is exported as `[REDACTED]`."""
    shutdown_timeout: float = 3.0
    """Seconds `shutdown()` and the exit-time flush may take, even with the collector down."""
    batch: BatchConfig = field(default_factory=BatchConfig)
    """Queue and batch sizes of the background worker."""
    tool_result: ToolResultConfig = field(default_factory=ToolResultConfig)
    """Size cap and secret scrubbing of tool arguments and output."""
    metrics_exporter: ExporterConfig = field(default_factory=NoneExporter)
    """Where metrics go; `NoneExporter` by default (no MeterProvider at all)."""
    metrics_export_interval_ms: int = DEFAULT_METRICS_EXPORT_INTERVAL_MS
    """How often metrics are exported; shutdown exports what is left."""
    metrics_temporality: MetricsTemporality = "delta"
    """`delta` (each export holds what happened since the last) or `cumulative`."""
    metrics_conversation_id: bool = False
    """Tag every data point with `conversation.id` (off: one series per conversation is costly)."""
    trace_exporter: ExporterConfig = field(default_factory=NoneExporter)
    """Where spans go; `NoneExporter` by default (no TracerProvider, no tracing SDK import)."""
    span_attributes: Mapping[str, str | bool | int | float] = field(default_factory=dict)
    """Extra attributes stamped on every span."""
    tracestate: Mapping[str, str] = field(default_factory=dict)
    """W3C tracestate entries merged into what requests carry (they win over inherited ones)."""
    service_name: str = DEFAULT_SERVICE_NAME
    """`service.name` on the resource of every signal."""
    resource_attributes: Mapping[str, str] = field(default_factory=dict)
    """More resource attributes for every signal; over inherited `OTEL_RESOURCE_ATTRIBUTES`,
    under what code passes."""
    source: str = field(default="<defaults>", compare=False)
    """Where this config was read from, for messages."""

    @classmethod
    def from_mapping(
        cls,
        table: Mapping[str, Any],
        *,
        env: Mapping[str, str] = os.environ,
        source: str = "<mapping>",
        base_dir: str | os.PathLike[str] | None = None,
    ) -> OtelConfig:
        """Validate an already-parsed `[otel]` table (the value of the `otel` key).

        Relative certificate paths resolve against `base_dir` (default: the working folder).
        """
        return parse_table(table, source, env, Path(base_dir) if base_dir is not None else None)


@dataclass(frozen=True)
class AnalyticsConfig:
    """The resolved `[analytics]` table (Codex's product analytics)."""

    enabled: bool = True
    """Track facts and send analytics events; on unless set to false, as in Codex."""
    source: str = field(default="<defaults>", compare=False)
    """Where this config was read from, for messages."""

    @classmethod
    def from_mapping(
        cls, table: Mapping[str, Any], *, source: str = "<mapping>"
    ) -> AnalyticsConfig:
        """Validate an already-parsed `[analytics]` table (the value of the `analytics` key)."""
        return parse_analytics_table(table, source)


def parse_table(
    table: object, source: str, env: Mapping[str, str], base_dir: Path | None
) -> OtelConfig:
    """Validate a parsed `[otel]` table (see `OtelConfig.from_mapping`)."""
    return _Parser(source, env, base_dir).config(table)


def default_config_path(env: Mapping[str, str] = os.environ) -> Path:
    """`$CODEX_HOME/config.toml`, else `~/.codex/config.toml`."""
    home = env.get("CODEX_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".codex"
    return base / "config.toml"


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] = os.environ
) -> OtelConfig:
    """Read the `[otel]` table of a TOML file; a missing table gives the defaults.

    With no `path`, the default file may be missing (the defaults then); a `path` the caller
    names must exist.
    """
    file = Path(path) if path is not None else default_config_path(env)
    source = str(file)
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        if path is None:
            return OtelConfig(source=source)
        raise ConfigError(source, "otel", "could not read the file: no such file") from None
    except IsADirectoryError:
        raise ConfigError(source, "otel", "could not read the file: it is a directory") from None
    except OSError as exc:
        # strerror: the reason in words, without the "[Errno 13]" prefix str() adds.
        reason = (exc.strerror or type(exc).__name__).lower()
        raise ConfigError(source, "otel", f"could not read the file: {reason}") from None
    except UnicodeDecodeError:
        raise ConfigError(source, "otel", "expected UTF-8 text") from None
    # Imported here, not at the top: a host that never reads a file does not pay for the parser.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "otel", f"expected valid TOML ({exc})") from None
    table = document.get("otel", {})
    return _Parser(source, env, file.parent).config(table)


class _Parser:
    """Walks the table once, keeping the file name for every error."""

    def __init__(self, source: str, env: Mapping[str, str], base_dir: Path | None = None) -> None:
        self.source = source
        self.env = env
        self.base_dir = base_dir if base_dir is not None else Path.cwd()

    def fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(self.source, key, expected)

    def table(self, value: object, key: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a table, got {_type_name(value)}")
        for name in value:
            if name not in allowed:
                raise self.fail(
                    f"{key}.{name}", f"unknown key; expected one of {_choices(allowed)}"
                )
        return value

    def string(self, value: object, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_type_name(value)}")
        return value

    def boolean(self, value: object, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_type_name(value)}")
        return value

    def integer(self, value: object, key: str, minimum: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"expected an integer, got {_type_name(value)}")
        if value < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}, got {value}")
        return value

    def seconds(self, value: object, key: str) -> float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.fail(key, f"expected a number of seconds, got {_type_name(value)}")
        if not 0 < value <= 600:
            raise self.fail(key, f"expected seconds > 0 and <= 600, got {value}")
        return float(value)

    def config(self, value: object) -> OtelConfig:
        table = self.table(
            value,
            "otel",
            (
                "environment",
                "exporter",
                "log_user_prompt",
                *_TRACE_KEYS,
                *_RESOURCE_KEYS,
                *_METRICS_KEYS,
                *_DELIVERY_KEYS,
            ),
        )
        defaults = OtelConfig()
        return OtelConfig(
            shutdown_timeout=self.seconds(
                table.get("shutdown_timeout", defaults.shutdown_timeout), "otel.shutdown_timeout"
            ),
            batch=self.batch(table.get("batch", {}), "otel.batch"),
            tool_result=self.tool_result(table.get("tool_result", {}), "otel.tool_result"),
            environment=self.string(
                table.get("environment", defaults.environment), "otel.environment"
            ),
            exporter=self.exporter(table.get("exporter", "none"), "otel.exporter"),
            **self.traces(table),
            **self.resource(table),
            log_user_prompt=self.boolean(
                table.get("log_user_prompt", defaults.log_user_prompt), "otel.log_user_prompt"
            ),
            **self.metrics(table, defaults),
            source=self.source,
        )

    def traces(self, table: Mapping[str, Any]) -> dict[str, Any]:
        """The trace keys, as OtelConfig keyword arguments."""
        exporter = self.exporter(
            table.get("trace_exporter", "none"), "otel.trace_exporter", DEFAULT_HTTP_TRACES_ENDPOINT
        )
        key = "otel.span_attributes"
        attributes = table.get("span_attributes", {})
        if not isinstance(attributes, Mapping):
            raise self.fail(key, f"expected a table, got {_type_name(attributes)}")
        for name, value in attributes.items():
            if not name:
                raise self.fail(key, "expected non-empty attribute names")
            if not isinstance(value, (str, bool, int, float)):
                raise self.fail(
                    f"{key}.{name}",
                    f"expected a string, boolean, integer or float, got {_type_name(value)}",
                )
        key = "otel.tracestate"
        state = table.get("tracestate", {})
        if not isinstance(state, Mapping):
            raise self.fail(key, f"expected a table of strings, got {_type_name(state)}")
        if len(state) > _TRACESTATE_MAX_ENTRIES:
            raise self.fail(key, f"expected at most {_TRACESTATE_MAX_ENTRIES} entries")
        for name, value in state.items():
            if not _TRACESTATE_KEY.fullmatch(name):
                raise self.fail(
                    f"{key}.{name}",
                    "expected a W3C tracestate key (lower-case letters, digits, _-*/, "
                    "optionally tenant@system)",
                )
            if not isinstance(value, str) or not _TRACESTATE_VALUE.fullmatch(value):
                raise self.fail(
                    f"{key}.{name}",
                    "expected a W3C tracestate value (1-256 printable ASCII characters, "
                    "no ',' or '=', not ending in a space)",
                )
        return {
            "trace_exporter": exporter,
            "span_attributes": dict(attributes),
            "tracestate": dict(state),
        }

    def resource(self, table: Mapping[str, Any]) -> dict[str, Any]:
        """`service_name` and `resource_attributes`, as OtelConfig keyword arguments."""
        key = "otel.service_name"
        name = self.string(table.get("service_name", DEFAULT_SERVICE_NAME), key).strip()
        if not name:
            raise self.fail(key, "expected a non-empty string")
        key = "otel.resource_attributes"
        attributes = table.get("resource_attributes", {})
        if not isinstance(attributes, Mapping):
            raise self.fail(key, f"expected a table of strings, got {_type_name(attributes)}")
        for attribute, value in attributes.items():
            if attribute in _RESOURCE_KEYS_OF_THEIR_OWN:
                raise self.fail(
                    f"{key}.{attribute}",
                    f"set by otel.{_RESOURCE_KEYS_OF_THEIR_OWN[attribute]} instead",
                )
            self.string(value, f"{key}.{attribute}")
        return {"service_name": name, "resource_attributes": dict(attributes)}

    def batch(self, value: object, key: str) -> BatchConfig:
        table = self.table(
            value,
            key,
            (
                "max_queue_size",
                "max_queue_bytes",
                "max_export_batch_size",
                "max_export_bytes",
                "schedule_delay_ms",
            ),
        )
        defaults = BatchConfig()
        queue = self.integer(
            table.get("max_queue_size", defaults.max_queue_size), f"{key}.max_queue_size", 1
        )
        size = self.integer(
            table.get("max_export_batch_size", min(defaults.max_export_batch_size, queue)),
            f"{key}.max_export_batch_size",
            1,
        )
        if size > queue:
            raise self.fail(
                f"{key}.max_export_batch_size",
                f"expected at most max_queue_size ({queue}), got {size}",
            )
        delay = self.integer(
            table.get("schedule_delay_ms", defaults.schedule_delay_ms),
            f"{key}.schedule_delay_ms",
            1,
        )
        # At least 64 KiB: smaller would refuse ordinary events on their own.
        queue_bytes = self.integer(
            table.get("max_queue_bytes", defaults.max_queue_bytes),
            f"{key}.max_queue_bytes",
            _MIN_BYTES,
        )
        export_bytes = self.integer(
            table.get("max_export_bytes", defaults.max_export_bytes),
            f"{key}.max_export_bytes",
            _MIN_BYTES,
        )
        return BatchConfig(
            max_queue_size=queue,
            max_queue_bytes=queue_bytes,
            max_export_batch_size=size,
            max_export_bytes=export_bytes,
            schedule_delay_ms=delay,
        )

    def tool_result(self, value: object, key: str) -> ToolResultConfig:
        table = self.table(value, key, ("max_bytes", "scrub_secrets", "extra_patterns"))
        defaults = ToolResultConfig()
        patterns = table.get("extra_patterns", [])
        if not isinstance(patterns, list):
            raise self.fail(
                f"{key}.extra_patterns", f"expected an array of strings, got {_type_name(patterns)}"
            )
        for index, pattern in enumerate(patterns):
            item = f"{key}.extra_patterns[{index}]"
            self.string(pattern, item)
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.fail(item, f"expected a regular expression ({exc})") from None
        return ToolResultConfig(
            max_bytes=self.integer(
                table.get("max_bytes", defaults.max_bytes), f"{key}.max_bytes", 64
            ),
            scrub_secrets=self.boolean(
                table.get("scrub_secrets", defaults.scrub_secrets), f"{key}.scrub_secrets"
            ),
            extra_patterns=tuple(patterns),
        )

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

    def metrics(self, table: Mapping[str, Any], defaults: OtelConfig) -> dict[str, Any]:
        """The `metrics_*` keys, as OtelConfig keyword arguments."""
        exporter = self.exporter(
            table.get("metrics_exporter", "none"),
            "otel.metrics_exporter",
            DEFAULT_HTTP_METRICS_ENDPOINT,
        )
        key = "otel.metrics_export_interval_ms"
        interval = table.get("metrics_export_interval_ms", defaults.metrics_export_interval_ms)
        if isinstance(interval, bool) or not isinstance(interval, int) or interval <= 0:
            raise self.fail(key, f"expected a positive integer, got {_what_was_given(interval)}")
        key = "otel.metrics_temporality"
        temporality = self.string(table.get("metrics_temporality", "delta"), key)
        if temporality not in ("delta", "cumulative"):
            raise self.fail(key, f"expected 'delta' or 'cumulative', got {temporality!r}")
        return {
            "metrics_exporter": exporter,
            "metrics_export_interval_ms": interval,
            "metrics_temporality": "cumulative" if temporality == "cumulative" else "delta",
            "metrics_conversation_id": self.boolean(
                table.get("metrics_conversation_id", defaults.metrics_conversation_id),
                "otel.metrics_conversation_id",
            ),
        }

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
            if value not in _EXPORTER_KINDS:
                raise self.fail(
                    key,
                    f"unknown exporter {value!r}; expected one of {_choices(kinds)} or a "
                    f"table with exactly one of {_choices(tables)}",
                )
            if value == "otlp-http":
                return OtlpHttpExporter(endpoint=http_default)
            return _EXPORTER_KINDS[value]()
        if not isinstance(value, Mapping) or len(value) != 1:
            raise self.fail(
                key,
                f"expected one of {_choices(kinds)} or a table with exactly one of "
                f"{_choices(tables)}",
            )
        ((kind, options),) = value.items()
        if kind == "otlp-http":
            return self.otlp_http(options, f"{key}.otlp-http")
        if kind == "otlp-grpc":
            return self.otlp_grpc(options, f"{key}.otlp-grpc")
        if kind == OtlpFileExporter.kind:
            return self.otlp_file(options, f"{key}.{kind}")
        raise self.fail(f"{key}.{kind}", f"unknown exporter; expected one of {_choices(tables)}")

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
            raise self.fail(key, f"expected a table of strings, got {_type_name(value)}")
        resolved: dict[str, str] = {}
        for name, raw in value.items():
            # Never echo the value: it is usually a token.
            if not isinstance(raw, str):
                raise self.fail(f"{key}.{name}", f"expected a string, got {_type_name(raw)}")
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


_MIN_BYTES = 64 * 1024
_DELIVERY_KEYS = ("shutdown_timeout", "batch", "tool_result")
_TRACE_KEYS = ("trace_exporter", "span_attributes", "tracestate")
_RESOURCE_KEYS = ("service_name", "resource_attributes")
# Resource attributes with a key of their own in the table: one place to set each.
_RESOURCE_KEYS_OF_THEIR_OWN = {"service.name": "service_name", "env": "environment"}

# W3C Trace Context: a key is `name` or `tenant@system`; a value is printable ASCII without
# ',' and '=', not ending in a space; at most 32 entries.
_TRACESTATE_KEY = re.compile(
    r"[a-z0-9][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13}"
)
_TRACESTATE_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
_TRACESTATE_MAX_ENTRIES = 32

# The kinds a plain string may name (`otlp-file` needs its path, so only the table form).
_EXPORTER_KINDS: dict[str, type[NoneExporter | OtlpHttpExporter | OtlpGrpcExporter]] = {
    "none": NoneExporter,
    "otlp-http": OtlpHttpExporter,
    "otlp-grpc": OtlpGrpcExporter,
}


_METRICS_KEYS = (
    "metrics_exporter",
    "metrics_export_interval_ms",
    "metrics_temporality",
    "metrics_conversation_id",
)


def _what_was_given(value: object) -> str:
    """A type name, or the number itself when a number was given but out of range."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _type_name(value)


def _choices(names: tuple[str, ...]) -> str:
    return ", ".join(repr(name) for name in names)


def _type_name(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a float"}
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return names.get(type(value), type(value).__name__)


# -- the [analytics] table -----------------------------------------------------------------

_ANALYTICS_KEYS = ("enabled",)


def parse_analytics_table(table: object, source: str) -> AnalyticsConfig:
    """Validate a parsed `[analytics]` table (the value of the `analytics` key)."""
    parser = _Parser(source, {})
    checked = parser.table(table, "analytics", _ANALYTICS_KEYS)
    enabled = True
    if "enabled" in checked:
        enabled = parser.boolean(checked["enabled"], "analytics.enabled")
    return AnalyticsConfig(enabled=enabled, source=source)


def load_analytics_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] = os.environ
) -> AnalyticsConfig:
    """Read the `[analytics]` table of a TOML file; a missing file or table gives the defaults."""
    file = Path(path) if path is not None else default_config_path(env)
    source = str(file)
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return AnalyticsConfig(source=source)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, "analytics", f"could not read the file ({exc})") from None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "analytics", f"expected valid TOML ({exc})") from None
    return parse_analytics_table(document.get("analytics", {}), source)
