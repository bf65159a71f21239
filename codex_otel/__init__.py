"""OpenTelemetry events for AI coding agents: config, provider, event manager."""

from ._config import (
    BatchConfig,
    ExporterConfig,
    Headers,
    NoneExporter,
    OtlpFileExporter,
    OtlpGrpcExporter,
    OtlpHttpExporter,
    TlsConfig,
    ToolResultConfig,
)
from ._config_load import OtelConfig, default_config_path, load_config
from ._errors import ConfigError
from ._event_fields import AuthEnv, RequestAuth
from ._manager import OtelEventManager
from ._provider import OtelProvider
from ._version import package_version
from .catalog import (
    AgentType,
    Attr,
    Event,
    GuardianOutcome,
    RiskLevel,
    ToolDecision,
    ToolDecisionSource,
)
from .export import DeliveryStats


def __getattr__(name: str) -> str:
    # `__version__` is looked up on first use, as structlog does: importlib.metadata is not free.
    if name == "__version__":
        return package_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AgentType",
    "Attr",
    "AuthEnv",
    "BatchConfig",
    "ConfigError",
    "DeliveryStats",
    "Event",
    "ExporterConfig",
    "GuardianOutcome",
    "Headers",
    "NoneExporter",
    "OtelConfig",
    "OtelEventManager",
    "OtelProvider",
    "OtlpFileExporter",
    "OtlpGrpcExporter",
    "OtlpHttpExporter",
    "RequestAuth",
    "RiskLevel",
    "TlsConfig",
    "ToolDecision",
    "ToolDecisionSource",
    "ToolResultConfig",
    "__version__",
    "default_config_path",
    "load_config",
]
