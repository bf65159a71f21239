"""Received events and metrics as readable lines, or JSON lines (for `demo` and `receive`)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Iterable

from ..catalog import EVENT_ATTRIBUTES, Attr, Tag
from ..testing import Metric, MetricPoint, ReceivedLog

__all__ = ["event_json", "event_line", "metric_json", "metric_lines", "summary_lines"]

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
_COMMON_TAGS = (Tag.AUTH_MODE, Tag.MODEL, Tag.APP_VERSION, Tag.USER_HASH, Tag.CONVERSATION_ID)


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
    return [f"  {name:<28} {counts[name]:>5}" for name in names]
