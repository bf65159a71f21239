"""The `[otel]` table: `OtelConfig`, reading the file and validating the table (config
errors are raised here and in the `_config_*` modules of its parts: exporters, traces).

A table written for Codex loads unchanged: what Codex ignores or drops with a start-up
warning is dropped here with a one-line warning naming the key (`OtelConfig.warnings`,
logged on the `codex_otel` logger when a provider starts from the config)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._config import (
    DEFAULT_HTTP_METRICS_ENDPOINT,
    DEFAULT_HTTP_TRACES_ENDPOINT,
    DEFAULT_METRICS_EXPORT_INTERVAL_MS,
    BatchConfig,
    ExporterConfig,
    MetricsTemporality,
    NoneExporter,
    ToolResultConfig,
)
from ._config_exporters import ExporterParser
from ._config_parser import TableParser, type_name, what_was_given
from ._config_traces import span_attributes, tracestate
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


@dataclass(frozen=True)
class OtelConfig:
    """The resolved `[otel]` table."""

    environment: str = "dev"
    """Exported as the resource attribute `env`."""
    exporter: ExporterConfig = field(default_factory=NoneExporter)
    """Where events go; `NoneExporter` by default."""
    log_user_prompt: bool = False
    """When false, prompt text is exported as `[REDACTED]`."""
    log_agent_responses: bool = False
    """Export the final assistant answer of each turn (`codex.agent_response`); off, as in
    Codex: it is content."""
    log_guardian_assessments: bool = False
    """Export each automated review of an action (`codex.guardian_assessment`), its
    rationale included; off, as in Codex."""
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
    warnings: Sequence[str] = field(default=(), compare=False)
    """One line per key dropped as Codex drops it (unknown, or an invalid entry of
    `span_attributes`/`tracestate`) and per setting that sends nothing (`"statsig"`)."""

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
    return parse_table(document.get("otel", {}), source, env, file.parent)


class _Parser(ExporterParser):
    """The `[otel]` table and its own sub-tables, on top of the exporter tables."""

    def config(self, value: object) -> OtelConfig:
        table = self.table(
            value,
            "otel",
            (
                "environment",
                "exporter",
                *_CONTENT_KEYS,
                *_TRACE_KEYS,
                *_RESOURCE_KEYS,
                *_METRICS_KEYS,
                *_DELIVERY_KEYS,
            ),
        )
        defaults = OtelConfig()
        content: dict[str, Any] = {
            name: self.boolean(table.get(name, getattr(defaults, name)), f"otel.{name}")
            for name in _CONTENT_KEYS
        }
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
            **content,
            **self.metrics(table, defaults),
            source=self.source,
            warnings=tuple(self.warnings),
        )

    def traces(self, table: Mapping[str, Any]) -> dict[str, Any]:
        """The trace keys, as OtelConfig keyword arguments."""
        exporter = self.exporter(
            table.get("trace_exporter", "none"), "otel.trace_exporter", DEFAULT_HTTP_TRACES_ENDPOINT
        )
        return {
            "trace_exporter": exporter,
            "span_attributes": span_attributes(self, table.get("span_attributes", {})),
            "tracestate": tracestate(self, table.get("tracestate", {})),
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
            raise self.fail(key, f"expected a table of strings, got {type_name(attributes)}")
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
                f"{key}.extra_patterns", f"expected an array of strings, got {type_name(patterns)}"
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
            raise self.fail(key, f"expected a positive integer, got {what_was_given(interval)}")
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


_MIN_BYTES = 64 * 1024
_DELIVERY_KEYS = ("shutdown_timeout", "batch", "tool_result")
# What content the events may carry: each off unless set to true.
_CONTENT_KEYS = ("log_user_prompt", "log_agent_responses", "log_guardian_assessments")
_TRACE_KEYS = ("trace_exporter", "span_attributes", "tracestate")
_RESOURCE_KEYS = ("service_name", "resource_attributes")
# Resource attributes with a key of their own in the table: one place to set each.
_RESOURCE_KEYS_OF_THEIR_OWN = {"service.name": "service_name", "env": "environment"}


_METRICS_KEYS = (
    "metrics_exporter",
    "metrics_export_interval_ms",
    "metrics_temporality",
    "metrics_conversation_id",
)


# -- the [analytics] table -----------------------------------------------------------------

_ANALYTICS_KEYS = ("enabled",)


def parse_analytics_table(table: object, source: str) -> AnalyticsConfig:
    """Validate a parsed `[analytics]` table (the value of the `analytics` key)."""
    parser = TableParser(source, {})
    checked = parser.table(table, "analytics", _ANALYTICS_KEYS, strict=True)
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
