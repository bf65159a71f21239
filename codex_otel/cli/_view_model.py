"""What `codex-otel view` keeps: a bounded store of received events, metrics and spans.

The store keeps the newest `max_events` events and `max_spans` spans (older ones are dropped
and counted, and the page says so) and one entry per metric series, up to `max_series`.
Values are kept as they were exported: a redacted prompt stays `[REDACTED]`; only a string
longer than `MAX_VALUE_CHARS` is cut, and marked. Short strings repeated on every record
(conversation id, model, versions) are kept once. Each kept record remembers the store's
`version` when it arrived, so the page can ask for what changed since a version.

What the page is shown is built from a `Snapshot` of the store (`_view_turns`, `_view_charts`).
"""

from __future__ import annotations

import bisect
import calendar
import math
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from ..catalog import Attr, Event
from ..testing import Metric

if TYPE_CHECKING:  # the receiver's records: a file alone needs no protobuf
    from ..testing import ReceivedLog, ReceivedSpan

__all__ = [
    "MAX_VALUE_CHARS",
    "Keeper",
    "Limits",
    "Snapshot",
    "SpanRecord",
    "StoredEvent",
    "ViewStore",
    "event_is_error",
    "number",
    "span_record",
]

MAX_VALUE_CHARS = 4096
CUT_MARK = "…[cut by the viewer]"
# The last nanosecond of year 9999: a time past it (or before 1970) is no time a record was
# made at, and no page can show it.
MAX_TIME_NANO = 253_402_300_800 * 1_000_000_000 - 1
INTERN_CHARS = 64  # a value this short is likely an id or a name repeated on every record
_INTERN_MAX = 50_000  # then start afresh: a long session's unique ids would pile up


@dataclass(frozen=True)
class Limits:
    """What the viewer keeps at most; said on the page."""

    max_events: int = 20_000
    max_spans: int = 20_000
    max_series: int = 2_000


# Records are named tuples: made in C, tens of thousands per second of a file being read.
class SpanRecord(NamedTuple):
    """One span, as the waterfall needs it (from an OTLP traces export)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    start_unix_nano: int
    end_unix_nano: int
    attributes: dict[str, object]
    status_code: int = 0  # 0 unset, 1 ok, 2 error, as OTLP's Status.code
    status_message: str = ""
    scope: str = ""
    version: int = 0  # the store's version when it arrived


class StoredEvent(NamedTuple):
    """One event as the page needs it (a `ReceivedLog` carries more); as decoded, its `seq` and
    `version` are 0 until the store numbers it."""

    seq: int
    version: int
    name: str
    time_unix_nano: int
    attributes: dict[str, object]
    trace_id: str
    span_id: str
    scope: str


# OTLP's Status.code, as the page reads it, by the decoded name.
_STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


def span_record(span: ReceivedSpan, keep: Keeper) -> SpanRecord:
    """A span as the receiver decoded it, as the waterfall needs it."""
    keep.fresh()
    return SpanRecord(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        name=keep.text(span.name),
        start_unix_nano=span.start_time_unix_nano,
        end_unix_nano=span.end_time_unix_nano,
        attributes=keep.attributes(span.attributes),
        status_code=_STATUS.get(span.status_code, 0),
        status_message=keep.text(span.status_message),
        scope=keep.text(span.scope_name),
    )


def number(value: object) -> float | None:
    """A number as exported: ours are ints and floats, Codex sends `duration_ms` and token
    counts as strings (`"42"`). "NaN" and "Infinity" are not numbers here: no count or
    duration is one, and a chart cannot place them."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and value and len(value) < 32:
        try:
            found = float(value)
        except ValueError:
            return None
        return found if math.isfinite(found) else None
    return None


def event_is_error(name: str, attributes: Mapping[str, object]) -> bool:
    """An event a person should see marked: a failed request, stream wait or tool call."""
    if attributes.get(Attr.ERROR_MESSAGE):
        return True
    if name == Event.API_REQUEST:
        status = number(attributes.get(Attr.HTTP_STATUS_CODE))
        return status is not None and status >= 400
    if name == Event.TOOL_RESULT:
        return str(attributes.get(Attr.SUCCESS)).lower() == "false"
    if name == Event.TOOL_DECISION:
        return attributes.get(Attr.DECISION) in ("denied", "abort")
    return False


def event_name(log: ReceivedLog) -> str:
    """The catalog name: `event.name` first. Codex fills the OTLP EventName field with a source
    location (`event otel/src/events/session_telemetry.rs:803`), not the event's name."""
    named = log.attributes.get(Attr.EVENT_NAME)
    if isinstance(named, str) and named:
        return named
    return log.event_name


def _stamped(attributes: Mapping[str, object]) -> int:
    """A record without a time (Codex's events carry none): its `event.timestamp`, in ns."""
    stamp = attributes.get(Attr.EVENT_TIMESTAMP)
    if not isinstance(stamp, str):
        return 0
    if stamp.endswith(("Z", "z")):  # Python 3.10's fromisoformat takes no "Z"
        stamp = stamp[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    nanos = (calendar.timegm(moment.utctimetuple()) * 1_000_000 + moment.microsecond) * 1000
    return nanos if _timed(nanos) else 0


def _timed(nanos: int) -> bool:
    """A time a record can have been made at (after 1970, before 10000)."""
    return 0 < nanos <= MAX_TIME_NANO


class _Series:
    """One metric series merged over exports: deltas added up, cumulatives replaced."""

    def __init__(self, metric: Metric, attributes: dict[str, object]) -> None:
        self.name = metric.name
        self.kind = metric.kind
        self.attributes = attributes
        self.value: float = 0
        self.count = 0
        self.sum: float = 0
        self.bounds: tuple[float, ...] = ()
        self.buckets: list[int] = []

    def merge(self, metric: Metric, point: Any) -> None:
        replace = metric.temporality != "delta"
        if metric.kind == "histogram":
            counts = list(point.bucket_counts)
            if replace or tuple(point.explicit_bounds) != self.bounds:
                self.bounds, self.buckets = tuple(point.explicit_bounds), counts
                self.count, self.sum = point.count or 0, point.sum or 0
            else:
                self.buckets = [a + b for a, b in zip(self.buckets, counts, strict=False)]
                self.count += point.count or 0
                self.sum += point.sum or 0
        else:
            value = point.value or 0
            self.value = value if replace else self.value + value


@dataclass(frozen=True)
class Snapshot:
    """The store at one version, for building the page's views outside the store's lock."""

    version: int
    events: list[StoredEvent]
    spans: list[SpanRecord]
    series: list[_Series]
    evicted_at: int  # the version at which records were last dropped for the cap
    forgotten_at: int  # the version at which a source's records were last dropped
    header: dict[str, Any]


class Keeper:
    """What is kept of a value: a string longer than `MAX_VALUE_CHARS` cut and marked, a short
    one shared (one copy of each id and name repeated on every record), containers alike.
    A file's decoder keeps what it decodes as it builds it: one dict per record, not two."""

    def __init__(self) -> None:
        self._interned: dict[str, str] = {}
        # The shared copy of a short string: one C call per value.
        self.intern = self._interned.setdefault

    def fresh(self) -> None:
        """Start afresh (once per batch) when a long session's unique ids piled up."""
        if len(self._interned) > _INTERN_MAX:
            self._interned.clear()

    def value(self, value: object) -> object:
        if isinstance(value, str):
            if len(value) > MAX_VALUE_CHARS:
                return value[:MAX_VALUE_CHARS] + CUT_MARK
            if len(value) <= INTERN_CHARS:
                return self.intern(value, value)
            return value
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {str(key): self.value(item) for key, item in value.items()}
        return value

    def text(self, value: str) -> str:
        return str(self.value(value))

    def attributes(self, attributes: Mapping[str, object]) -> dict[str, object]:
        # value() inlined for strings: this runs for every attribute of every record received.
        intern = self.intern
        kept: dict[str, object] = {}
        for key, value in attributes.items():
            if type(value) is str:
                if len(value) <= INTERN_CHARS:
                    value = intern(value, value)
                elif len(value) > MAX_VALUE_CHARS:
                    value = value[:MAX_VALUE_CHARS] + CUT_MARK
            elif not isinstance(value, int | float):
                value = self.value(value)
            kept[intern(key, key)] = value
        return kept


class ViewStore:
    """Thread-safe, bounded; `version` moves on every change so the page polls cheaply."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._events: deque[StoredEvent] = deque()
        self._spans: deque[SpanRecord] = deque()
        self._series: dict[tuple[object, ...], _Series] = {}
        self.keep = Keeper()
        self._seq = 0
        self._evicted_at = 0
        self._forgotten_at = 0
        # The versions at which each named source (a file) added records, as ranges (what
        # it showed): a range grows while no other source adds between.
        self._added_by: dict[str, list[list[int]]] = {}
        self._last_adder = ""
        self.version = 0
        self.dropped = {"events": 0, "spans": 0, "metric_points": 0}
        self.sources: list[str] = []
        self._notes: dict[str, str] = {}
        self._progress: dict[str, tuple[int, int]] = {}
        self._bad_lines: dict[str, int] = {}
        self._failure: str | None = None
        self._untimed = 0  # records whose time was out of range

    # -- ingestion ----------------------------------------------------------------

    def add_source(self, description: str) -> None:
        with self._lock:
            self.sources.append(description)
            self.version += 1

    def set_note(self, key: str, note: str | None) -> None:
        """A note on the page under `key` (replacing the last one), or none when None."""
        with self._lock:
            if note is None:
                self._notes.pop(key, None)
            else:
                self._notes[key] = note
            self.version += 1

    def set_bad_lines(self, path: str, count: int) -> None:
        with self._lock:
            self._bad_lines[path] = count
            self._notes[f"bad {path}"] = (
                f"{path}: {count} lines are neither OTLP/JSON nor receive --output JSON; skipped"
            )
            self.version += 1

    def set_progress(self, path: str, done: int, size: int) -> None:
        with self._lock:
            self._progress[path] = (done, size)
            self.version += 1

    def fail_following(self, message: str) -> None:
        with self._lock:
            self._failure = message
            self._notes["failure"] = message
            self.version += 1

    def add_events(self, logs: Iterable[ReceivedLog]) -> None:
        """Events as the receiver decoded them."""
        keep = self.keep
        keep.fresh()
        self.add_records(
            StoredEvent(
                0,
                0,
                keep.text(event_name(log)),
                log.time_unix_nano or log.observed_time_unix_nano,
                keep.attributes(log.attributes),
                log.trace_id,
                log.span_id,
                keep.text(log.scope_name),
            )
            for log in logs
        )

    def add_records(self, records: Iterable[StoredEvent], source: str = "") -> None:
        """Events as decoded (named by `event_name`'s rule) and kept (by `keep`), numbered
        here; from `source` (a file: see `forget`)."""
        with self._lock:
            self.version += 1
            version = self.version
            self._added(source, version)
            events = self._events
            for record in records:
                self._seq += 1
                nanos = record.time_unix_nano
                if not _timed(nanos):
                    if nanos:
                        self._count_untimed()
                    nanos = _stamped(record.attributes)
                events.append(
                    StoredEvent(
                        self._seq,
                        version,
                        record.name,
                        nanos,
                        record.attributes,
                        record.trace_id,
                        record.span_id,
                        record.scope,
                    )
                )
                if len(events) > self.limits.max_events:
                    events.popleft()
                    self.dropped["events"] += 1
                    self._evicted_at = version

    def add_metrics(self, metrics: Iterable[Metric]) -> None:
        with self._lock:
            for metric in metrics:
                instance = metric.resource.get("service.instance.id", "")
                for point in metric.points:
                    attributes = self.keep.attributes(point.attributes)
                    key = (metric.name, instance, tuple(sorted(attributes.items(), key=str)))
                    series = self._series.get(key)
                    if series is None:
                        if len(self._series) >= self.limits.max_series:
                            self.dropped["metric_points"] += 1
                            continue
                        series = self._series[key] = _Series(metric, attributes)
                    series.merge(metric, point)
            self.version += 1

    def add_spans(self, spans: Iterable[SpanRecord], source: str = "") -> None:
        """Spans as decoded and kept (by `keep`), from `source` (see `forget`)."""
        with self._lock:
            self.version += 1
            version = self.version
            self._added(source, version)
            kept = self._spans
            for span in spans:
                start, end = span.start_unix_nano, span.end_unix_nano
                if any(nanos and not _timed(nanos) for nanos in (start, end)):
                    self._count_untimed()
                    start = start if _timed(start) else 0
                    end = end if _timed(end) else start
                kept.append(
                    span._replace(start_unix_nano=start, end_unix_nano=end, version=version)
                )
                if len(kept) > self.limits.max_spans:
                    kept.popleft()
                    self.dropped["spans"] += 1
                    self._evicted_at = version

    def _added(self, source: str, version: int) -> None:
        last, self._last_adder = self._last_adder, source
        if not source:
            return
        ranges = self._added_by.setdefault(source, [])
        if ranges and last == source:
            ranges[-1][1] = version
            return
        ranges.append([version, version])
        if len(ranges) > 64 and len(ranges).bit_count() == 1:  # at 128, 256…: not every add
            held = [kept[0].version for kept in (self._events, self._spans) if kept]
            oldest = min(held, default=version)
            ranges[:] = [pair for pair in ranges if pair[1] >= oldest]

    def forget(self, source: str) -> int:
        """Drop the events and spans `source` added (a file truncated or replaced, read
        again); how many. Metric series stay as merged."""
        with self._lock:
            ranges = self._added_by.pop(source, [])
            starts = [first for first, _ in ranges]

            def added(version: int) -> bool:
                at = bisect.bisect_right(starts, version) - 1
                return at >= 0 and version <= ranges[at][1]

            before = len(self._events) + len(self._spans)
            self._events = deque(e for e in self._events if not added(e.version))
            self._spans = deque(s for s in self._spans if not added(s.version))
            self.version += 1
            self._forgotten_at = self.version
            return before - len(self._events) - len(self._spans)

    def _count_untimed(self) -> None:
        self._untimed += 1
        self._notes["untimed"] = (
            f"{self._untimed} records carried a time before 1970 or after 9999: "
            "shown without one (an event at its event.timestamp, if any)"
        )

    # -- reading ------------------------------------------------------------------

    def header(self) -> dict[str, Any]:
        """The page's header now: sources, cap, drops, notes, progress, counts (cheap: what
        the page shows while a file is read, with the conversations of an earlier version)."""
        with self._lock:
            return self._header()

    def _header(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "limits": {
                "max_events": self.limits.max_events,
                "max_spans": self.limits.max_spans,
                "max_series": self.limits.max_series,
                "max_value_chars": MAX_VALUE_CHARS,
            },
            "dropped": dict(self.dropped),
            "sources": list(self.sources),
            "notes": list(self._notes.values()),
            "bad_lines": dict(self._bad_lines),
            "progress": {path: list(done) for path, done in self._progress.items()},
            "failure": self._failure,
            "counts": {
                "events": len(self._events),
                "spans": len(self._spans),
                "series": len(self._series),
            },
        }

    def take(self) -> Snapshot:
        """What the store holds now (lists copied under the lock; records are immutable)."""
        with self._lock:
            return Snapshot(
                version=self.version,
                events=list(self._events),
                spans=list(self._spans),
                series=list(self._series.values()),
                evicted_at=self._evicted_at,
                forgotten_at=self._forgotten_at,
                header=self._header(),
            )
