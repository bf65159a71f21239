"""The `otlp-file` exporter: the OpenTelemetry project's OTLP/JSON file exporters, given a
file that lines from several exporters and processes can share.

`opentelemetry-exporter-otlp-json-file` writes each export as one compact OTLP/JSON line,
but opens its `path` as a buffered text file: a line longer than the buffer goes out in
several writes, so two exporters appending to one file (events and metrics, or two agent
processes) could interleave inside a line. Here it writes to `AppendOnlyLines`, which hands
each line to the kernel in one `write` on an `O_APPEND` descriptor. It also neither expands
`~` nor creates missing folders; `build_file_exporter` does both.
"""

from __future__ import annotations

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

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.closed:
            raise ValueError(f"{self.path}: already closed")
        data = memoryview(text.encode("utf-8"))
        # A regular file takes the whole buffer at once; the loop covers a short write
        # (a full disk reports an error instead).
        while data:
            written = os.write(self._fd, data)
            data = data[written:]
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
