"""Never break the host: an error inside telemetry is logged once and swallowed."""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["internal_logger", "report_internal_error", "set_strict"]

internal_logger = logging.getLogger("codex_otel")

# Under the package's own test suite internal errors surface instead of hiding.
_strict = os.environ.get("CODEX_OTEL_STRICT") == "1"
_reported: set[str] = set()
_lock = threading.Lock()


def set_strict(strict: bool) -> None:
    """Re-raise internal errors (for tests) instead of logging them once."""
    global _strict
    _strict = strict


def report_internal_error(where: str, exc: BaseException) -> None:
    """Log the first failure of `where` with its cause, then stay quiet about it.

    Must be called from an `except` block: in strict mode it re-raises.
    """
    if _strict:
        raise exc
    with _lock:
        if where in _reported:
            return
        _reported.add(where)
    internal_logger.warning(
        "codex_otel: %s failed (%s: %s); telemetry carries on without it",
        where,
        type(exc).__name__,
        exc,
    )
