"""Every exception type of the package, and the one way an internal error is reported.

Never break the host: an error inside telemetry is logged once and swallowed. This module
imports nothing of the package's, so every layer can use it. (Private exceptions used only as
control flow inside one module stay beside the code that raises and catches them.)
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = [
    "EXIT_USAGE",
    "IDLE_TIMEOUT_MESSAGE",
    "CliError",
    "ConfigError",
    "ReplayError",
    "SseIdleTimeout",
    "internal_logger",
    "report_internal_error",
    "set_strict",
]

internal_logger = logging.getLogger("codex_otel")

# Under the package's own test suite internal errors surface instead of hiding.
_strict = os.environ.get("CODEX_OTEL_STRICT") == "1"
_reported: set[str] = set()
_lock = threading.Lock()


class ConfigError(ValueError):
    """A bad `[otel]` table: names the file, the key path and what was expected."""

    def __init__(self, source: str, key: str, expected: str) -> None:
        self.source = source
        self.key = key
        self.expected = expected
        super().__init__(f"{source}: {key}: {expected}")


# Codex's own wording, recorded as the failed wait's error message too.
IDLE_TIMEOUT_MESSAGE = "idle timeout waiting for SSE"


class SseIdleTimeout(TimeoutError):
    """No server-sent event arrived within the idle timeout."""

    def __init__(self, message: str = IDLE_TIMEOUT_MESSAGE) -> None:
        super().__init__(message)


class ReplayError(ValueError):
    """A recorded app-server session that cannot be replayed: names the file, the line and
    what was expected."""


EXIT_USAGE = 2


class CliError(Exception):
    """A `codex-otel` failure to report as one line on stderr, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


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
