"""The package's version, read from its metadata (no second copy of the number)."""

from __future__ import annotations

__all__ = ["package_version"]


def package_version() -> str:
    # Imported here: importlib.metadata costs a few ms to import, and only version lookups need it.
    from importlib import metadata

    try:
        return metadata.version("codex-otel")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"
