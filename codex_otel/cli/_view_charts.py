"""The viewer's charts, from events (of one conversation, or the whole session) and the metric
series: request latency and SSE wait distributions, tools' success and duration, tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..catalog import INSTRUMENTS, Attr, Event, MetricName, Tag
from ._view_model import StoredEvent, number

__all__ = ["charts", "tokens"]

_MS_BOUNDS: tuple[float, ...] = next(
    spec.bounds
    for spec in INSTRUMENTS
    if spec.name == MetricName.API_REQUEST_DURATION and spec.bounds
)


def _count(value: object) -> int:
    found = number(value)
    return int(found) if found is not None else 0


def tokens(events: Iterable[StoredEvent]) -> dict[str, int]:
    """A turn's (or conversation's) token usage, from `response.completed` SSE events."""
    totals = {"input": 0, "cached": 0, "output": 0, "reasoning": 0}
    for event in events:
        attributes = event.attributes
        if event.name == Event.SSE_EVENT and Attr.INPUT_TOKEN_COUNT in attributes:
            totals["input"] += _count(attributes.get(Attr.INPUT_TOKEN_COUNT))
            totals["cached"] += _count(attributes.get(Attr.CACHED_TOKEN_COUNT))
            totals["output"] += _count(attributes.get(Attr.OUTPUT_TOKEN_COUNT))
            totals["reasoning"] += _count(attributes.get(Attr.REASONING_TOKEN_COUNT))
    return totals


def _bucket(bounds: tuple[float, ...], value: float) -> int:
    """OTLP explicit buckets: bucket i holds (bounds[i-1], bounds[i]]."""
    for index, bound in enumerate(bounds):
        if value <= bound:
            return index
    return len(bounds)


def _distribution(
    events: Sequence[StoredEvent], name: str, series: Sequence[Any], metric: str
) -> dict[str, Any]:
    """A duration distribution from the events, and from the metric's histograms if any."""
    counts = [0] * (len(_MS_BOUNDS) + 1)
    for event in events:
        if event.name == name:
            millis = number(event.attributes.get(Attr.DURATION_MS))
            if millis is not None:
                counts[_bucket(_MS_BOUNDS, millis)] += 1
    merged: list[int] | None = None
    for item in series:
        if item.name == metric and item.bounds == _MS_BOUNDS:
            merged = merged or [0] * len(item.buckets)
            merged = [a + b for a, b in zip(merged, item.buckets, strict=False)]
    return {"bounds": list(_MS_BOUNDS), "events": counts, "metrics": merged}


def charts(events: Sequence[StoredEvent], series: Sequence[Any]) -> dict[str, Any]:
    """The four charts' data; `series` are the metric series (none for one conversation:
    metrics carry no conversation id)."""
    tools: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.name != Event.TOOL_RESULT:
            continue
        name = str(event.attributes.get(Attr.TOOL_NAME, "?"))
        entry = tools.setdefault(name, {"ok": 0, "failed": 0, "duration_ms": 0})
        failed = str(event.attributes.get(Attr.SUCCESS)).lower() == "false"
        entry["failed" if failed else "ok"] += 1
        entry["duration_ms"] += _count(event.attributes.get(Attr.DURATION_MS))
    tool_metrics: dict[str, dict[str, float]] = {}
    token_metrics: dict[str, float] = {}
    for item in series:
        tool = str(item.attributes.get(Tag.TOOL, "?"))
        if item.name == MetricName.TOOL_CALL:
            entry = tool_metrics.setdefault(tool, {"ok": 0, "failed": 0, "duration_ms": 0})
            ok = item.attributes.get(Tag.SUCCESS) != "false"
            entry["ok" if ok else "failed"] += item.value
        elif item.name == MetricName.TOOL_CALL_DURATION:
            entry = tool_metrics.setdefault(tool, {"ok": 0, "failed": 0, "duration_ms": 0})
            entry["duration_ms"] += item.sum
        elif item.name == MetricName.TOKEN_USAGE:
            token_type = str(item.attributes.get(Tag.TOKEN_TYPE, "?"))
            token_metrics[token_type] = token_metrics.get(token_type, 0) + item.sum
    return {
        "api_latency": _distribution(
            events, Event.API_REQUEST, series, MetricName.API_REQUEST_DURATION
        ),
        "sse_wait": _distribution(events, Event.SSE_EVENT, series, MetricName.SSE_EVENT_DURATION),
        "tools": tools,
        "tool_metrics": tool_metrics,
        "token_metrics": token_metrics,
    }
