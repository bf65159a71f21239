"""The `otlp-file` exporter: the OpenTelemetry project's OTLP/JSON file exporters, given a
file that lines from several exporters and processes can share.

`opentelemetry-exporter-otlp-json-file` writes each export as one compact OTLP/JSON line,
but opens its `path` as a buffered text file: a line longer than the buffer goes out in
several writes, so two exporters appending to one file (events and metrics, or two agent
processes) could interleave inside a line. Here it writes to `AppendOnlyLines`, which hands
each line to the kernel in one `write` on an `O_APPEND` descriptor. A short write (a full
disk) fails that export, and the torn line is ended before the next one, whichever writer of
the file in this process writes it, so every line written once there is room again reads
whole. It also neither expands `~` nor creates missing folders; `build_file_exporter` does
both.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import io
import os
import threading
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


class _SharedFile:
    """What every writer of one file in this process shares: the lock that serializes their
    writes, and whether the last line written was torn (cut short by a full disk). Events and
    metrics exporters to one file each have a stream of their own; a line one of them tore
    must be ended by whichever writes next."""

    __slots__ = ("__weakref__", "lock", "torn")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.torn = False


# One `_SharedFile` per file (device and inode: two spellings of a path are one file), for
# as long as a stream writing it lives.
_SHARED: weakref.WeakValueDictionary[tuple[int, int], _SharedFile] = weakref.WeakValueDictionary()
_SHARED_LOCK = threading.Lock()


def _shared_file(fd: int) -> _SharedFile:
    status = os.fstat(fd)
    key = (status.st_dev, status.st_ino)
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = _SharedFile()
        return shared


def _new_locks_in_child() -> None:
    # A lock a parent thread held at the fork stays held in the child: the child's writers
    # would wait forever.
    global _SHARED_LOCK
    _SHARED_LOCK = threading.Lock()
    for shared in list(_SHARED.values()):
        shared.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_locks_in_child)


class AppendOnlyLines(io.TextIOBase):
    """A text stream appending each `write` to a file in one system call (O_APPEND)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _NEW_FILE_MODE)
        try:
            self._shared = _shared_file(self._fd)
        except BaseException:
            os.close(self._fd)
            raise

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.closed:
            raise ValueError(f"{self.path}: already closed")
        data = text.encode("utf-8")
        shared = self._shared
        with shared.lock:
            ending = int(shared.torn)  # the newline that ends the torn line, if any
            if ending:
                # The last line begun in this file (by any of its writers here) was cut
                # short: end it first, so this line starts a line of its own (the torn one
                # stays unreadable, alone).
                data = b"\n" + data
            written = os.write(self._fd, data)
            if written < len(data):
                # A short write (a full disk): never finish the line in a second write, which
                # another process's line may already follow. The export fails and is counted.
                # The file ends inside a line unless exactly the ending newline went out.
                shared.torn = written != ending
                if shared.torn:
                    with contextlib.suppress(OSError):
                        shared.torn = os.write(self._fd, b"\n") != 1
                raise OSError(
                    errno.ENOSPC,
                    f"{self.path}: short write ({written} of {len(data)} bytes; disk full?)",
                )
            shared.torn = False
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
