"""Walking a parsed TOML table: the checks every `[otel]` key is read with, the one error
type they raise, and the warnings for what Codex itself would skip.

A key Codex ignores (an unknown one) or drops with a start-up warning (an invalid
`span_attributes` or `tracestate` entry) is dropped here too, with a one-line warning naming
it, so a `config.toml` written for Codex never stops the host; a value Codex refuses
(a wrong type, an unknown exporter) is a `ConfigError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._errors import ConfigError

__all__ = ["TableParser", "choices", "type_name", "what_was_given"]


class TableParser:
    """Walks a table once, keeping the file name for every error and warning."""

    def __init__(self, source: str, env: Mapping[str, str], base_dir: Path | None = None) -> None:
        self.source = source
        self.env = env
        self.base_dir = base_dir if base_dir is not None else Path.cwd()
        self.warnings: list[str] = []
        """One line per key dropped, in the order met: `file: key: what happened`."""

    def fail(self, key: str, expected: str) -> ConfigError:
        return ConfigError(self.source, key, expected)

    def warn(self, key: str, message: str) -> None:
        line = f"{self.source}: {key}: {message}"
        if line not in self.warnings:
            self.warnings.append(line)

    def table(
        self, value: object, key: str, allowed: tuple[str, ...], *, strict: bool = False
    ) -> Mapping[str, Any]:
        """`value` as a table of `allowed` keys. Another key is dropped with a warning, as
        Codex ignores it (`strict`: a ConfigError)."""
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected a table, got {type_name(value)}")
        unknown = [name for name in value if name not in allowed]
        if not unknown:
            return value
        for name in unknown:
            if strict:
                raise self.fail(f"{key}.{name}", f"unknown key; expected one of {choices(allowed)}")
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.warn(f"{key}.{name}", f"unknown key, ignored{hint}")
        return {name: item for name, item in value.items() if name in allowed}

    def string(self, value: object, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type_name(value)}")
        return value

    def boolean(self, value: object, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {type_name(value)}")
        return value

    def integer(self, value: object, key: str, minimum: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"expected an integer, got {type_name(value)}")
        if value < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}, got {value}")
        return value

    def seconds(self, value: object, key: str) -> float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self.fail(key, f"expected a number of seconds, got {type_name(value)}")
        if not 0 < value <= 600:
            raise self.fail(key, f"expected seconds > 0 and <= 600, got {value}")
        return float(value)


def what_was_given(value: object) -> str:
    """A type name, or the number itself when a number was given but out of range."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return type_name(value)


def choices(names: tuple[str, ...]) -> str:
    return ", ".join(repr(name) for name in names)


def type_name(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a float"}
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return names.get(type(value), type(value).__name__)
