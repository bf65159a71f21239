"""Names on every signal's resource and instrumentation scope."""

from __future__ import annotations

__all__ = ["DEFAULT_SERVICE_NAME", "ENVIRONMENT_KEY", "SCOPE_NAME"]

# Codex's own service name, so dashboards built for Codex work unchanged.
DEFAULT_SERVICE_NAME = "codex-cli"
# The instrumentation scope of every log record, metric (and span).
SCOPE_NAME = "codex_otel"
# `[otel].environment` on the resource.
ENVIRONMENT_KEY = "env"
