"""The viewer's files read streaming, line by line (`_view_decode` says which lines it takes),
then followed as they grow, with progress, bad lines counted and a failure said out loud."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import stat
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from .._errors import CliError
from ._view_decode import read_line
from ._view_model import ViewStore

__all__ = ["FileFollower", "check_readable"]

_FOLLOW_INTERVAL_S = 0.5
# A line longer than this is not an export this package writes (its batches are far smaller):
# it is skipped and counted, never held whole.
MAX_LINE_BYTES = 64 << 20
_PROGRESS_EVERY = 4 << 20
_TRIM_EVERY = 32 << 20


def _give_back_memory() -> None:
    """Hand freed heap back to the system. Each line's JSON document is freed once read, but
    glibc keeps the pages (the records kept are scattered among them): without this, what a
    viewer holds at its cap grew with the size of the file read."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def check_readable(path: Path) -> None:
    """Raise the one-line error `view` exits with when `path` cannot be read: it must be a
    regular file (a pipe, `<(cat s.jsonl)` among them, can be read once only and not followed,
    and opening a named pipe no one writes to waits for ever)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise CliError(f"{path}: {kind}; expected an OTLP/JSON lines file")
    try:
        with path.open("rb") as file:
            file.read(1)
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror or exc})") from None


_KINDS = {
    stat.S_IFDIR: "is a directory",
    stat.S_IFIFO: "is a pipe",
    stat.S_IFCHR: "is a character device",
    stat.S_IFBLK: "is a block device",
    stat.S_IFSOCK: "is a socket",
}


def _identity(file: BinaryIO) -> tuple[int, int]:
    status = os.fstat(file.fileno())
    return status.st_dev, status.st_ino


class FileFollower:
    """Reads OTLP/JSON lines files line by line (memory does not grow with their size), then
    the lines appended to them, until stopped; on its own thread, so the page is up at once."""

    def __init__(self, paths: list[Path], store: ViewStore, err: TextIO | None = None) -> None:
        self._paths = paths
        self._store = store
        self._err = err
        self._offsets = dict.fromkeys(paths, 0)
        self._bad = dict.fromkeys(paths, 0)
        self._identities: dict[Path, tuple[int, int]] = {}  # (device, inode) as first read
        self._unreadable: dict[Path, str] = {}
        self._stop = threading.Event()
        self._read_once = threading.Event()
        self._thread: threading.Thread | None = None

    def read_available(self) -> None:
        """Every complete line not read yet, of every file."""
        for path in self._paths:
            if self._stop.is_set():
                return
            try:
                with path.open("rb") as file:
                    self._read(path, file)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                if self._unreadable.get(path) != reason:  # said once per new reason
                    self._unreadable[path] = reason
                    self._store.set_note(f"read {path}", f"{path}: cannot read ({reason})")
                continue
            if path in self._unreadable:
                del self._unreadable[path]
                self._store.set_note(f"read {path}", None)

    def _read(self, path: Path, file: BinaryIO) -> None:
        size = file.seek(0, 2)
        identity = _identity(file)
        known = self._identities.setdefault(path, identity)
        if size < self._offsets[path] or identity != known:
            self._read_anew(path, identity, "truncated" if identity == known else "replaced")
        offset = self._offsets[path]
        if offset == size:
            return
        file.seek(offset)
        if size - offset >= _PROGRESS_EVERY:  # a long read: the page says so from its start
            self._store.set_progress(str(path), offset, size)
        # No collection while reading: decoding makes no reference cycles, and the collector
        # would scan the tens of thousands of records kept, again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._read_lines(path, file, offset, size)
        finally:
            if collecting:
                gc.enable()

    def _read_anew(self, path: Path, identity: tuple[int, int], how: str) -> None:
        """A file truncated or replaced while followed (as `tail -F` sees it): what it showed
        is dropped and it is read again from its start, so nothing shows twice."""
        self._identities[path] = identity
        self._offsets[path] = 0
        self._bad[path] = 0
        dropped = self._store.forget(str(path))
        self._store.set_note(
            f"anew {path}",
            f"{path}: {how} while followed: its {dropped} events and spans dropped and it is "
            "read again from its start (metric series keep what it sent)",
        )

    def _read_lines(self, path: Path, file: BinaryIO, offset: int, size: int) -> None:
        bad = 0
        source = str(path)
        start = reported = trimmed = offset
        while not self._stop.is_set():
            line = file.readline(MAX_LINE_BYTES)
            if not line.endswith(b"\n"):
                if len(line) < MAX_LINE_BYTES:
                    break  # a line still being written waits for its newline
                while line and not line.endswith(b"\n"):  # too long: skip to its end
                    offset += len(line)
                    line = file.readline(MAX_LINE_BYTES)
                if not line:
                    break
                bad += 1
            elif not line.isspace() and not read_line(line, self._store, source):
                bad += 1
            offset += len(line)
            if offset - reported >= _PROGRESS_EVERY:
                reported = offset
                self._store.set_progress(str(path), offset, size)
            if offset - trimmed >= _TRIM_EVERY:
                trimmed = offset
                _give_back_memory()
        self._offsets[path] = offset
        if offset - start >= _PROGRESS_EVERY:
            _give_back_memory()
        self._store.set_progress(str(path), offset, max(size, offset))
        if bad:
            self._bad[path] += bad
            self._store.set_bad_lines(str(path), self._bad[path])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._follow, name="codex-otel-view-files")
        self._thread.daemon = True
        self._thread.start()

    def _follow(self) -> None:
        try:
            self.read_available()
            self._read_once.set()
            while not self._stop.wait(_FOLLOW_INTERVAL_S):
                self.read_available()
        except BaseException as exc:  # the thread's end is said, not lost
            message = f"stopped following the files: {type(exc).__name__}: {exc}"
            self._store.fail_following(message)
            if self._err is not None:
                print(f"codex-otel: {message}", file=self._err, flush=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait_read(self, timeout: float) -> bool:
        """For tests and the first read: True once every file was read to its end once."""
        return self._read_once.wait(timeout)
