"""The `codex-otel` command line: demo, receive, config check. Nothing imports this package."""

from ._main import main

__all__ = ["main"]
