"""What `codex-otel view` keeps and shows: a bounded store of received events, metrics and
spans, and the page's model built from it (conversations -> turns -> timelines, charts).

The store keeps the newest `max_events` events and `max_spans` spans (older ones are dropped
and counted, and the page says so) and one entry per metric series, up to `max_series`.
Values are kept as they were exported: a redacted prompt stays `[REDACTED]`; only a string
longer than `MAX_VALUE_CHARS` is cut, and marked.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..catalog import INSTRUMENTS, Attr, Event, MetricName, Tag
from ..testing import Metric, ReceivedLog, ReceivedSpan

__all__ = [
    "MAX_VALUE_CHARS",
    "Limits",
    "SpanRecord",
    "ViewStore",
    "event_is_error",
    "span_record",
]

MAX_VALUE_CHARS = 4096
_CUT_MARK = "…[cut by the viewer]"
_NO_CONVERSATION = "(no conversation.id)"
_MS_BOUNDS: tuple[float, ...] = next(
    spec.bounds
    for spec in INSTRUMENTS
    if spec.name == MetricName.API_REQUEST_DURATION and spec.bounds
)


@dataclass(frozen=True)
class Limits:
    """What the viewer keeps at most; said on the page."""

    max_events: int = 20_000
    max_spans: int = 20_000
    max_series: int = 2_000


@dataclass(frozen=True)
class SpanRecord:
    """One span, as the waterfall needs it (from an OTLP traces export)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    start_unix_nano: int
    end_unix_nano: int
    attributes: dict[str, object] = field(default_factory=dict)
    status_code: int = 0  # 0 unset, 1 ok, 2 error, as OTLP's Status.code
    status_message: str = ""


# OTLP's Status.code, as the page reads it, by the decoded name.
_STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


def span_record(span: ReceivedSpan) -> SpanRecord:
    """A span as the receiver or a file decoded it, as the waterfall needs it."""
    return SpanRecord(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_span_id=span.parent_span_id,
        name=span.name,
        start_unix_nano=span.start_time_unix_nano,
        end_unix_nano=span.end_time_unix_nano,
        attributes={key: _cut(value) for key, value in span.attributes.items()},
        status_code=_STATUS.get(span.status_code, 0),
        status_message=span.status_message,
    )


@dataclass(frozen=True)
class _StoredEvent:
    name: str
    time_unix_nano: int
    attributes: dict[str, object]
    trace_id: str
    span_id: str
    transport: str
    arrival: int


def _cut(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + _CUT_MARK
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_cut(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _cut(item) for key, item in value.items()}
    return value


def event_is_error(name: str, attributes: Mapping[str, object]) -> bool:
    """An event a person should see marked: a failed request, stream wait or tool call."""
    if Attr.ERROR_MESSAGE in attributes:
        return True
    if name == Event.API_REQUEST:
        status = attributes.get(Attr.HTTP_STATUS_CODE)
        return isinstance(status, int) and status >= 400
    if name == Event.TOOL_RESULT:
        return attributes.get(Attr.SUCCESS) == "false"
    if name == Event.TOOL_DECISION:
        return attributes.get(Attr.DECISION) in ("denied", "abort")
    return False


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _bucket(bounds: tuple[float, ...], value: float) -> int:
    """OTLP explicit buckets: bucket i holds (bounds[i-1], bounds[i]]."""
    for index, bound in enumerate(bounds):
        if value <= bound:
            return index
    return len(bounds)


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


class ViewStore:
    """Thread-safe, bounded; `version` moves on every change so the page polls cheaply."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._events: deque[_StoredEvent] = deque()
        self._spans: deque[SpanRecord] = deque()
        self._series: dict[tuple[object, ...], _Series] = {}
        self._arrivals = 0
        self.version = 0
        self.dropped = {"events": 0, "spans": 0, "metric_points": 0}
        self.sources: list[str] = []
        self._notes: dict[str, str] = {}
        self._progress: dict[str, tuple[int, int]] = {}
        self._bad_lines: dict[str, int] = {}
        self._failure: str | None = None

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
            self._notes[f"bad {path}"] = f"{path}: {count} lines are not OTLP/JSON and were skipped"
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
        with self._lock:
            for log in logs:
                trace_id, span_id = log.trace_id, log.span_id
                self._arrivals += 1
                self._events.append(
                    _StoredEvent(
                        name=log.event_name or str(log.attributes.get(Attr.EVENT_NAME, "")),
                        time_unix_nano=log.time_unix_nano or log.observed_time_unix_nano,
                        attributes={key: _cut(v) for key, v in log.attributes.items()},
                        trace_id=trace_id,
                        span_id=span_id,
                        transport=log.transport,
                        arrival=self._arrivals,
                    )
                )
                if len(self._events) > self.limits.max_events:
                    self._events.popleft()
                    self.dropped["events"] += 1
            self.version += 1

    def add_metrics(self, metrics: Iterable[Metric]) -> None:
        with self._lock:
            for metric in metrics:
                instance = metric.resource.get("service.instance.id", "")
                for point in metric.points:
                    attributes = {key: _cut(v) for key, v in point.attributes.items()}
                    key = (metric.name, instance, tuple(sorted(attributes.items(), key=str)))
                    series = self._series.get(key)
                    if series is None:
                        if len(self._series) >= self.limits.max_series:
                            self.dropped["metric_points"] += 1
                            continue
                        series = self._series[key] = _Series(metric, attributes)
                    series.merge(metric, point)
            self.version += 1

    def add_spans(self, spans: Iterable[SpanRecord]) -> None:
        with self._lock:
            for span in spans:
                self._spans.append(span)
                if len(self._spans) > self.limits.max_spans:
                    self._spans.popleft()
                    self.dropped["spans"] += 1
            self.version += 1

    # -- the page's model ----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            events = list(self._events)
            spans = list(self._spans)
            series = list(self._series.values())
            state = {
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
            }
        state["counts"] = {"events": len(events), "spans": len(spans), "series": len(series)}
        state["conversations"] = _conversations(events, spans)
        state["charts"] = _charts(events, series)
        return state


def _event_view(event: _StoredEvent) -> dict[str, Any]:
    return {
        "name": event.name,
        "time": event.time_unix_nano,
        "attributes": event.attributes,
        "error": event_is_error(event.name, event.attributes),
        "trace_id": event.trace_id,
        "span_id": event.span_id,
    }


def _tokens(events: Iterable[_StoredEvent]) -> dict[str, int]:
    totals = {"input": 0, "cached": 0, "output": 0, "reasoning": 0}
    for event in events:
        attributes = event.attributes
        if event.name == Event.SSE_EVENT and Attr.INPUT_TOKEN_COUNT in attributes:
            totals["input"] += _int(attributes.get(Attr.INPUT_TOKEN_COUNT))
            totals["cached"] += _int(attributes.get(Attr.CACHED_TOKEN_COUNT))
            totals["output"] += _int(attributes.get(Attr.OUTPUT_TOKEN_COUNT))
            totals["reasoning"] += _int(attributes.get(Attr.REASONING_TOKEN_COUNT))
    return totals


def _span_view(span: SpanRecord) -> dict[str, Any]:
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name,
        "start": span.start_unix_nano,
        "end": span.end_unix_nano,
        "attributes": span.attributes,
        "error": span.status_code == 2,
        "status_message": span.status_message,
    }


def _conversations(events: list[_StoredEvent], spans: list[SpanRecord]) -> list[dict[str, Any]]:
    """Conversations (by `conversation.id`), each split into turns: a turn starts at a
    `codex.user_prompt`; what comes before the first prompt is the conversation's start."""
    by_id: dict[str, list[_StoredEvent]] = {}
    for event in events:
        conversation = event.attributes.get(Attr.CONVERSATION_ID)
        key = conversation if isinstance(conversation, str) and conversation else _NO_CONVERSATION
        by_id.setdefault(key, []).append(event)
    spans_by_trace: dict[str, list[SpanRecord]] = {}
    for span in spans:
        spans_by_trace.setdefault(span.trace_id, []).append(span)
    placed: set[str] = set()
    conversations: list[dict[str, Any]] = []
    for conversation_id, members in by_id.items():
        members.sort(key=lambda event: (event.time_unix_nano, event.arrival))
        turns: list[list[_StoredEvent]] = []
        for event in members:
            if not turns or event.name == Event.USER_PROMPT:
                turns.append([])
            turns[-1].append(event)
        turn_views: list[dict[str, Any]] = []
        for index, turn in enumerate(turns):
            prompt = next((e for e in turn if e.name == Event.USER_PROMPT), None)
            traces = sorted({e.trace_id for e in turn if e.trace_id})
            turn_spans = [s for trace in traces for s in spans_by_trace.get(trace, [])]
            placed.update(traces)
            turn_views.append(
                {
                    "index": index,
                    "prompt": None if prompt is None else prompt.attributes.get(Attr.PROMPT),
                    "start": turn[0].time_unix_nano,
                    "end": max(e.time_unix_nano for e in turn),
                    "errors": sum(event_is_error(e.name, e.attributes) for e in turn),
                    "tokens": _tokens(turn),
                    "events": [_event_view(e) for e in turn],
                    "spans": [_span_view(s) for s in turn_spans],
                }
            )
        first = members[0].attributes
        conversations.append(
            {
                "id": conversation_id,
                "model": first.get(Attr.MODEL),
                "start": members[0].time_unix_nano,
                "end": members[-1].time_unix_nano,
                "events": len(members),
                "errors": sum(turn["errors"] for turn in turn_views),
                "turns": turn_views,
            }
        )
    # Spans no event points at: a trace of their own, shown as a conversation of spans.
    loose = [s for s in spans if s.trace_id not in placed]
    if loose:
        conversations.append(
            {
                "id": "(spans without events)",
                "model": None,
                "start": min(s.start_unix_nano for s in loose),
                "end": max(s.end_unix_nano for s in loose),
                "events": 0,
                "errors": sum(s.status_code == 2 for s in loose),
                "turns": [
                    {
                        "index": 0,
                        "prompt": None,
                        "start": min(s.start_unix_nano for s in loose),
                        "end": max(s.end_unix_nano for s in loose),
                        "errors": sum(s.status_code == 2 for s in loose),
                        "tokens": _tokens([]),
                        "events": [],
                        "spans": [_span_view(s) for s in loose],
                    }
                ],
            }
        )
    conversations.sort(key=lambda conversation: conversation["start"])
    return conversations


def _distribution(
    events: list[_StoredEvent], name: str, series: list[_Series], metric: str
) -> dict[str, Any]:
    """A duration distribution from the events, and from the metric's histograms if any."""
    counts = [0] * (len(_MS_BOUNDS) + 1)
    for event in events:
        millis = event.attributes.get(Attr.DURATION_MS)
        if event.name == name and isinstance(millis, int | float):
            counts[_bucket(_MS_BOUNDS, millis)] += 1
    merged: list[int] | None = None
    for item in series:
        if item.name == metric and item.bounds == _MS_BOUNDS:
            merged = merged or [0] * len(item.buckets)
            merged = [a + b for a, b in zip(merged, item.buckets, strict=False)]
    return {"bounds": list(_MS_BOUNDS), "events": counts, "metrics": merged}


def _charts(events: list[_StoredEvent], series: list[_Series]) -> dict[str, Any]:
    tools: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.name != Event.TOOL_RESULT:
            continue
        name = str(event.attributes.get(Attr.TOOL_NAME, "?"))
        entry = tools.setdefault(name, {"ok": 0, "failed": 0, "duration_ms": 0})
        entry["failed" if event.attributes.get(Attr.SUCCESS) == "false" else "ok"] += 1
        entry["duration_ms"] += _int(event.attributes.get(Attr.DURATION_MS))
    tool_metrics: dict[str, dict[str, float]] = {}
    for item in series:
        tool = str(item.attributes.get(Tag.TOOL, "?"))
        if item.name == MetricName.TOOL_CALL:
            entry = tool_metrics.setdefault(tool, {"ok": 0, "failed": 0, "duration_ms": 0})
            ok = item.attributes.get(Tag.SUCCESS) != "false"
            entry["ok" if ok else "failed"] += item.value
        elif item.name == MetricName.TOOL_CALL_DURATION:
            entry = tool_metrics.setdefault(tool, {"ok": 0, "failed": 0, "duration_ms": 0})
            entry["duration_ms"] += item.sum
    tokens_metrics: dict[str, float] = {}
    for item in series:
        if item.name == MetricName.TOKEN_USAGE:
            token_type = str(item.attributes.get(Tag.TOKEN_TYPE, "?"))
            tokens_metrics[token_type] = tokens_metrics.get(token_type, 0) + item.sum
    return {
        "api_latency": _distribution(
            events, Event.API_REQUEST, series, MetricName.API_REQUEST_DURATION
        ),
        "sse_wait": _distribution(events, Event.SSE_EVENT, series, MetricName.SSE_EVENT_DURATION),
        "tools": tools,
        "tool_metrics": tool_metrics,
        "token_metrics": tokens_metrics,
    }
