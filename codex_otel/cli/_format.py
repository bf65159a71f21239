"""Received events, metrics and spans as readable lines or JSON lines (for `demo` and
`receive`): spans as trees with their events under them."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Iterable

from ..catalog import EVENT_ATTRIBUTES, Attr, Operation, SpanAttr, Tag
from ..testing import Metric, MetricPoint, ReceivedLog, ReceivedSpan

__all__ = [
    "SpanPrinter",
    "event_json",
    "event_line",
    "metric_json",
    "metric_lines",
    "span_json",
    "span_tree_lines",
    "summary_lines",
]

_MAX_VALUE = 60
# Shown first, when present, because they say what the event was about.
_LEADING = (Attr.EVENT_KIND, Attr.TOOL_NAME)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", "\\n")
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _clock(time_unix_nano: int) -> str:
    seconds, nanos = divmod(time_unix_nano, 1_000_000_000)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{nanos // 1_000_000:03d}"


def event_line(log: ReceivedLog) -> str:
    """`12:03:04.567 codex.sse_event  event.kind=response.completed input_token_count=12 …`.

    The event's own fields (in catalog order); the common metadata is left to `--json`.
    An event outside the catalog shows all of its attributes.
    """
    keys = EVENT_ATTRIBUTES.get(log.event_name)
    attributes = log.attributes
    if keys is None:
        keys = tuple(attributes)
    ordered = [key for key in _LEADING if key in keys] + [k for k in keys if k not in _LEADING]
    fields = " ".join(f"{key}={_short(attributes[key])}" for key in ordered if key in attributes)
    stamp = log.time_unix_nano or log.observed_time_unix_nano
    return f"{_clock(stamp)} {log.event_name or '(no event name)':<26} {fields}".rstrip()


def event_json(log: ReceivedLog) -> str:
    """One JSON object per event: name, time, attributes, resource, transport."""
    return json.dumps(
        {
            "event": log.event_name,
            "time_unix_nano": log.time_unix_nano,
            "severity": log.severity_text,
            "attributes": log.attributes,
            "resource": log.resource,
            "transport": log.transport,
        },
        default=lambda value: value.hex() if isinstance(value, bytes) else str(value),
        ensure_ascii=False,
    )


# On every point; left to `--json`, as the events' common metadata is.
_COMMON_TAGS = (
    Tag.AUTH_MODE,
    Tag.MODEL,
    Tag.APP_VERSION,
    Tag.ORIGINATOR,
    Tag.SESSION_SOURCE,
    Tag.SERVICE_NAME,
    Tag.USER_HASH,
    Tag.CONVERSATION_ID,
)


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _point_fields(point: MetricPoint) -> str:
    tags = " ".join(
        f"{key}={_short(value)}"
        for key, value in point.attributes.items()
        if key not in _COMMON_TAGS
    )
    if point.count is None:
        measured = f"value={_number(point.value)}"
    else:
        measured = (
            f"count={point.count} sum={_number(point.sum)} "
            f"min={_number(point.min)} max={_number(point.max)}"
        )
    return f"{tags} {measured}".strip()


def metric_lines(metric: Metric) -> list[str]:
    """One line per data point: `12:03:04.567 metric codex.tool.call  tool=shell … value=1`."""
    kind = metric.kind if metric.temporality is None else f"{metric.kind}/{metric.temporality}"
    return [
        f"{_clock(point.time_unix_nano)} metric {metric.name:<28} {kind:<15} "
        f"{_point_fields(point)}".rstrip()
        for point in metric.points
    ]


def metric_json(metric: Metric) -> str:
    """One JSON object per metric: name, unit, kind, temporality, points, resource, transport."""
    return json.dumps(
        {
            "metric": metric.name,
            "unit": metric.unit,
            "kind": metric.kind,
            "temporality": metric.temporality,
            "points": [
                {
                    key: value
                    for key, value in dataclasses.asdict(point).items()
                    if value is not None and value != ()
                }
                for point in metric.points
            ],
            "resource": metric.resource,
            "transport": metric.transport,
        },
        default=str,
        ensure_ascii=False,
    )


def summary_lines(logs: Iterable[ReceivedLog]) -> list[str]:
    """Events by name, in catalog order, then anything else."""
    counts = Counter(log.event_name for log in logs)
    names = [name for name in EVENT_ATTRIBUTES if name in counts]
    names += sorted(name for name in counts if name not in EVENT_ATTRIBUTES)
    width = max((len(name) for name in names), default=0)
    return [f"  {name:<{width}} {counts[name]:>5}" for name in names]


# The attributes a span's line shows: what it was about and how it went.
_SPAN_FIELDS = (
    SpanAttr.TURN_ID,
    SpanAttr.HTTP_STATUS_CODE,
    SpanAttr.INPUT_TOKENS,
    SpanAttr.OUTPUT_TOKENS,
    SpanAttr.RESPONSE_ID,
    SpanAttr.TOOL_DECISION,
    SpanAttr.TOOL_SUCCESS,
    SpanAttr.ERROR_TYPE,
)
_INDENT = "  "


def span_line(span: ReceivedSpan, depth: int = 0) -> str:
    """`  chat gpt-5-codex  CLIENT 412 ms  http.response.status_code=200 …`."""
    millis = max(0, span.end_time_unix_nano - span.start_time_unix_nano) // 1_000_000
    fields = " ".join(
        f"{key}={_short(span.attributes[key])}" for key in _SPAN_FIELDS if key in span.attributes
    )
    status = " ERROR" if span.status_code == "ERROR" else ""
    head = f"{_INDENT * depth}{span.name}"
    return f"{head:<34} {span.kind:<8} {millis:>5} ms{status}  {fields}".rstrip()


def span_json(span: ReceivedSpan) -> str:
    """One JSON object per span: names, ids, timing, status, attributes, resource."""
    return json.dumps(
        {
            "span": span.name,
            "kind": span.kind,
            "trace_id": span.trace_id,
            "span_id": span.span_id,
            "parent_span_id": span.parent_span_id,
            "start_time_unix_nano": span.start_time_unix_nano,
            "end_time_unix_nano": span.end_time_unix_nano,
            "status": span.status_code,
            "attributes": span.attributes,
            "resource": span.resource,
            "transport": span.transport,
        },
        default=str,
        ensure_ascii=False,
    )


def span_tree_lines(spans: Iterable[ReceivedSpan], logs: Iterable[ReceivedLog] = ()) -> list[str]:
    """Spans indented under their parents (in start order), each followed by the events
    recorded in it, one level deeper. A span whose parent is not among them is a root."""
    spans = list(spans)
    ids = {span.span_id for span in spans}
    children: dict[str, list[ReceivedSpan]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else ""
        children.setdefault(parent, []).append(span)
    events: dict[str, list[ReceivedLog]] = {}
    for log in logs:
        events.setdefault(log.span_id, []).append(log)
    lines: list[str] = []

    def visit(span: ReceivedSpan, depth: int) -> None:
        lines.append(span_line(span, depth))
        for log in events.get(span.span_id, ()):
            lines.append(_INDENT * (depth + 1) + "· " + event_line(log))
        for child in sorted(children.get(span.span_id, ()), key=_started):
            visit(child, depth + 1)

    for root in sorted(children.get("", ()), key=_started):
        visit(root, 0)
    return lines


def _started(span: ReceivedSpan) -> int:
    return span.start_time_unix_nano


class SpanPrinter:
    """Spans as they arrive, as trees: children end (and arrive) before their parents, so
    each is held until its root arrives (a span without a parent, or a turn), then the tree
    is printed whole. `rest()` gives what is still held (at exit)."""

    def __init__(self) -> None:
        self._held: dict[str, ReceivedSpan] = {}

    def add(self, span: ReceivedSpan) -> list[str]:
        is_root = not span.parent_span_id
        if not is_root and span.attributes.get(SpanAttr.OPERATION_NAME) != Operation.INVOKE_AGENT:
            self._held[span.span_id] = span
            return []
        tree = [span, *self._descendants(span.span_id)]
        for done in tree[1:]:
            del self._held[done.span_id]
        # A turn's parent may be remote (TRACEPARENT): not among these, it is the top here.
        return span_tree_lines(tree)

    def _descendants(self, span_id: str) -> list[ReceivedSpan]:
        found: list[ReceivedSpan] = []
        for held in list(self._held.values()):
            if held.parent_span_id == span_id:
                found += [held, *self._descendants(held.span_id)]
        return found

    def rest(self) -> list[str]:
        held, self._held = list(self._held.values()), {}
        return span_tree_lines(held)
