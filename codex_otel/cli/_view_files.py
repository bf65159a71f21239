"""The viewer's files: OTLP/JSON lines (the `otlp-file` exporter's) read streaming, line by line,
then followed as they grow, with progress, bad lines counted and a failure said out loud."""

from __future__ import annotations

import base64
import binascii
import json
import threading
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from .._errors import CliError
from ..catalog import Attr
from ..testing._otlp_decode import decode_metrics_request, parse_otlp_json_into
from ._view_model import EventRecord, SpanRecord, ViewStore

__all__ = ["FileFollower", "check_readable", "read_otlp_line"]

_FOLLOW_INTERVAL_S = 0.5
# A line longer than this is not an export this package writes (its batches are far smaller):
# it is skipped and counted, never held whole.
MAX_LINE_BYTES = 64 << 20
_PROGRESS_EVERY = 4 << 20
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


def _value(value: Any) -> object:
    """An OTLP/JSON AnyValue as python."""
    if "stringValue" in value:
        return str(value["stringValue"])
    if "intValue" in value:
        return int(value["intValue"])  # int64 travels as a string in OTLP/JSON
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [_value(item) for item in value["arrayValue"].get("values", ())]
    if "kvlistValue" in value:
        return _key_values(value["kvlistValue"].get("values", ()))
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"]).hex()
    return None


def _key_values(items: Any) -> dict[str, object]:
    decoded: dict[str, object] = {}
    for item in items:
        value = item.get("value") or {}
        text = value.get("stringValue")  # most values are strings: no call for them
        decoded[str(item["key"])] = text if type(text) is str else _value(value)
    return decoded


def _id(value: Any) -> str:
    """OTLP/JSON writes ids as hex (protobuf's own JSON mapping would write base64)."""
    if not value:
        return ""
    text = str(value)
    if len(text) in (16, 32):
        try:
            return bytes.fromhex(text).hex()
        except ValueError:
            pass  # base64 of the same length
    return base64.b64decode(text).hex()


def _events(document: Any) -> list[EventRecord]:
    records = []
    for resource_logs in document["resourceLogs"]:
        for scope_logs in resource_logs.get("scopeLogs", ()):
            scope = str(scope_logs.get("scope", {}).get("name", ""))
            for record in scope_logs.get("logRecords", ()):
                attributes = _key_values(record.get("attributes", ()))
                named = attributes.get(Attr.EVENT_NAME)  # before EventName: see `event_name`
                records.append(
                    EventRecord(
                        named
                        if isinstance(named, str) and named
                        else str(record.get("eventName", "")),
                        int(record.get("timeUnixNano") or record.get("observedTimeUnixNano") or 0),
                        attributes,
                        _id(record.get("traceId")),
                        _id(record.get("spanId")),
                        scope,
                    )
                )
    return records


def _status(status: Any) -> int:
    code = status.get("code", 0)
    return _STATUS_NAMES.get(code, 0) if isinstance(code, str) else int(code)


def _spans(document: Any) -> list[SpanRecord]:
    return [
        SpanRecord(
            trace_id=_id(span.get("traceId")),
            span_id=_id(span.get("spanId")),
            parent_span_id=_id(span.get("parentSpanId")),
            name=str(span.get("name", "")),
            start_unix_nano=int(span.get("startTimeUnixNano", 0) or 0),
            end_unix_nano=int(span.get("endTimeUnixNano", 0) or 0),
            attributes=_key_values(span.get("attributes", ())),
            status_code=_status(span.get("status", {})),
            status_message=str(span.get("status", {}).get("message", "")),
            scope=str(scope_spans.get("scope", {}).get("name", "")),
        )
        for resource_spans in document["resourceSpans"]
        for scope_spans in resource_spans.get("scopeSpans", ())
        for span in scope_spans.get("spans", ())
    ]


def read_otlp_line(line: bytes, store: ViewStore) -> bool:
    """One OTLP/JSON line (an export request of any signal) into `store`; False if it is not
    one (then nothing is added). Decoded straight from JSON: protobuf's JSON parser takes ten
    times as long, and a session file is mostly events and spans."""
    try:
        document = json.loads(line)
        if not isinstance(document, dict):
            return False
        if "resourceLogs" in document:
            store.add_records(_events(document))
        elif "resourceSpans" in document:
            store.add_spans(_spans(document))
        elif "resourceMetrics" in document:
            metrics = parse_otlp_json_into(line, ExportMetricsServiceRequest())
            store.add_metrics(decode_metrics_request(metrics, "file", {}))
        else:
            return False
    # RecursionError: a line nested deeper than the parser goes is bad input, not a crash.
    except (
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
        RecursionError,
        binascii.Error,
        json_format.ParseError,
    ):
        return False
    return True


def check_readable(path: Path) -> None:
    """Raise the one-line error `view` exits with when `path` cannot be read."""
    if path.is_dir():
        raise CliError(f"{path}: is a directory; expected an OTLP/JSON lines file")
    try:
        with path.open("rb") as file:
            file.read(1)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except OSError as exc:
        raise CliError(f"{path}: cannot read ({exc.strerror or exc})") from None


class FileFollower:
    """Reads OTLP/JSON lines files line by line (memory does not grow with their size), then
    the lines appended to them, until stopped; on its own thread, so the page is up at once."""

    def __init__(self, paths: list[Path], store: ViewStore, err: TextIO | None = None) -> None:
        self._paths = paths
        self._store = store
        self._err = err
        self._offsets = dict.fromkeys(paths, 0)
        self._bad = dict.fromkeys(paths, 0)
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
        if size < self._offsets[path]:
            self._offsets[path] = 0  # truncated or replaced: read it anew
        offset = self._offsets[path]
        if offset == size:
            return
        file.seek(offset)
        bad = 0
        reported = offset
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
            elif line.strip() and not read_otlp_line(line, self._store):
                bad += 1
            offset += len(line)
            if offset - reported >= _PROGRESS_EVERY:
                reported = offset
                self._store.set_progress(str(path), offset, size)
        self._offsets[path] = offset
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
