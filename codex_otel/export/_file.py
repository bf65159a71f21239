"""The `otlp-file` exporter: the OpenTelemetry project's OTLP/JSON file exporters, given a
file that lines from several exporters and processes can share.

`opentelemetry-exporter-otlp-json-file` writes each export as one compact OTLP/JSON line,
but opens its `path` as a buffered text file: a line longer than the buffer goes out in
several writes, so two exporters appending to one file (events and metrics, or two agent
processes) could interleave inside a line. Here it writes to `AppendOnlyLines`, which hands
each line to the kernel in one `write` on an `O_APPEND` descriptor. A short write (a full
disk) fails that export, and the torn line is ended before the next one, so every line
written once there is room again reads whole. It also neither expands
`~` nor creates missing folders; `build_file_exporter` does both.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import io
import os
import weakref
from pathlib import Path
from typing import Any

__all__ = ["FILE_EXPORTERS", "AppendOnlyLines", "build_file_exporter"]

# (module, class) of the file exporter for each signal.
FILE_EXPORTERS: dict[str, tuple[str, str]] = {
    "logs": ("opentelemetry.exporter.otlp.json.file._log_exporter", "FileLogExporter"),
    "metrics": ("opentelemetry.exporter.otlp.json.file.metric_exporter", "FileMetricExporter"),
    "traces": ("opentelemetry.exporter.otlp.json.file.trace_exporter", "FileSpanExporter"),
}

# Telemetry may hold prompts and tool output: a new file is readable by its owner only.
_NEW_FILE_MODE = 0o600


class AppendOnlyLines(io.TextIOBase):
    """A text stream appending each `write` to a file in one system call (O_APPEND)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _NEW_FILE_MODE)
        self._torn = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.closed:
            raise ValueError(f"{self.path}: already closed")
        data = text.encode("utf-8")
        if self._torn:
            # The last line this stream began was cut short: end it first, so this line
            # starts a line of its own (the torn one stays unreadable, alone).
            data = b"\n" + data
        written = os.write(self._fd, data)
        if written < len(data):
            # A short write (a full disk): never finish the line in a second write, which
            # another writer's line may already follow. The export fails and is counted.
            self._torn = True
            with contextlib.suppress(OSError):
                self._torn = os.write(self._fd, b"\n") != 1
            raise OSError(
                errno.ENOSPC,
                f"{self.path}: short write ({written} of {len(data)} bytes; disk full?)",
            )
        self._torn = False
        return len(text)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def build_file_exporter(path: Path, signal: str, options: dict[str, Any]) -> Any:
    """The SDK's file exporter for `signal`, appending to `path` (parents created)."""
    module, name = FILE_EXPORTERS[signal]
    exporter_class = getattr(importlib.import_module(module), name)
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    stream = AppendOnlyLines(path)
    exporter = exporter_class(stream=stream, **options)
    # The SDK exporter leaves a stream it did not open to its owner: close ours with it.
    weakref.finalize(exporter, stream.close)
    return exporter
