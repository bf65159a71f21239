"""OpenTelemetry events for AI coding agents: config, provider, event manager."""

from ._config import (
    BatchConfig,
    ConfigError,
    ExporterConfig,
    Headers,
    NoneExporter,
    OtelConfig,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    TlsConfig,
    ToolResultConfig,
    default_config_path,
    load_config,
)
from ._delivery import DeliveryStats
from ._events import Attr, Event, ToolDecision, ToolDecisionSource
from ._manager import OtelEventManager
from ._provider import OtelProvider, package_version

__version__ = package_version()

__all__ = [
    "Attr",
    "BatchConfig",
    "ConfigError",
    "DeliveryStats",
    "Event",
    "ExporterConfig",
    "Headers",
    "NoneExporter",
    "OtelConfig",
    "OtelEventManager",
    "OtelProvider",
    "OtlpGrpcExporter",
    "OtlpHttpExporter",
    "TlsConfig",
    "ToolDecision",
    "ToolDecisionSource",
    "ToolResultConfig",
    "__version__",
    "default_config_path",
    "load_config",
]
