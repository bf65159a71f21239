"""How many records (log records, spans, metric data points) an OTLP export request carries,
counted before it is decoded: decoding holds an object per record whatever its size, so a
small body of empty records (two bytes each in protobuf, `{}` in JSON) would take gigabytes.

The three signals nest alike: the request's field 1 holds resource entries, their field 2 scope
entries, their field 2 the records (a metric's points one level further, under its data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["TooManyRecords", "records_in_json", "records_in_message", "records_in_protobuf"]

# Field numbers, level by level, down to the records counted (OTLP's .proto files).
_LOGS_OR_SPANS: tuple[frozenset[int], ...] = (frozenset({1}), frozenset({2}), frozenset({2}))
# Metric data: gauge 5, sum 7, histogram 9, exponential histogram 10, summary 11; points 1.
_METRICS = (*_LOGS_OR_SPANS, frozenset({5, 7, 9, 10, 11}), frozenset({1}))

_JSON_LEVELS: dict[str, tuple[tuple[str, ...], ...]] = {
    "logs": (
        ("resourceLogs", "resource_logs"),
        ("scopeLogs", "scope_logs"),
        ("logRecords", "log_records"),
    ),
    "traces": (("resourceSpans", "resource_spans"), ("scopeSpans", "scope_spans"), ("spans",)),
    "metrics": (
        ("resourceMetrics", "resource_metrics"),
        ("scopeMetrics", "scope_metrics"),
        ("metrics",),
        ("gauge", "sum", "histogram", "exponentialHistogram", "exponential_histogram", "summary"),
        ("dataPoints", "data_points"),
    ),
}


class TooManyRecords(Exception):
    """The request carries more records than the limit (raised as soon as that is known)."""


class _Malformed(Exception):
    pass


def _at_most(found: int, limit: int) -> int:
    if found > limit:
        raise TooManyRecords(f"more than {limit} records in one request")
    return found


def _varint(data: bytes | bytearray, at: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while at < end and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
    raise _Malformed


def _count(
    data: bytes | bytearray,
    start: int,
    end: int,
    levels: Sequence[frozenset[int]],
    limit: int,
    found: int,
) -> int:
    """`found` plus the records under `levels` in the message at data[start:end]."""
    at = start
    while at < end:
        key, at = _varint(data, at, end)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, at = _varint(data, at, end)
            continue
        if wire in (1, 5):
            at += 8 if wire == 1 else 4
            continue
        if wire in (3, 4):
            # A group (no OTLP message has one): its fields are read on as this level's, so
            # records hidden after one are still counted (a few more, never fewer).
            continue
        if wire != 2:
            raise _Malformed
        length, at = _varint(data, at, end)
        if at + length > end:
            raise _Malformed
        if number in levels[0]:
            if len(levels) == 1:
                found = _at_most(found + 1, limit)
            else:
                found = _count(data, at, at + length, levels[1:], limit, found)
        at += length
    return found


def records_in_protobuf(body: bytes | bytearray, signal: str, limit: int) -> int:
    """The records of a protobuf request of `signal` ("logs", "traces", "metrics"), read
    from its wire form without decoding it; raises `TooManyRecords` past `limit`. A malformed
    body counts as none (the decoder then refuses it)."""
    levels = _METRICS if signal == "metrics" else _LOGS_OR_SPANS
    try:
        return _count(body, 0, len(body), levels, limit, 0)
    except _Malformed:
        return 0


def records_in_json(document: object, signal: str, limit: int) -> int:
    """The records of a parsed OTLP/JSON request of `signal`; raises `TooManyRecords` past
    `limit`. What is not shaped as OTLP counts nothing (the decoder then refuses it)."""
    nodes: list[object] = [document]
    for names in _JSON_LEVELS[signal]:
        below: list[object] = []
        for node in nodes:
            if not isinstance(node, Mapping):
                continue
            for name in names:
                value = node.get(name)
                if isinstance(value, list):
                    below.extend(value)
                elif isinstance(value, Mapping):  # a metric's data: one object
                    below.append(value)
        nodes = below
    return _at_most(len(nodes), limit)


def records_in_message(request: Any, signal: str, limit: int) -> int:
    """The records of a decoded request (as gRPC hands it over) of `signal`; raises
    `TooManyRecords` past `limit`, before each becomes a Python object."""
    if signal == "metrics":
        found = 0
        for resource in request.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    data = metric.WhichOneof("data")
                    found += len(getattr(metric, data).data_points) if data else 0
    elif signal == "traces":
        found = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
    else:
        found = sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
    return _at_most(found, limit)
