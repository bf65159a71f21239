"""The lines `codex-otel view` reads: OTLP/JSON export requests (the `otlp-file` exporter's, a
collector's file exporter's) and the JSON lines `codex-otel receive --output` writes (one event,
metric or span a line: how the recorded Codex sessions are kept). Decoded straight from JSON:
protobuf's JSON parser takes ten times as long, and a session file is mostly events and spans.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any, NamedTuple

from ..catalog import Attr
from ..testing import Metric, MetricPoint
from ._view_model import (
    CUT_MARK,
    INTERN_CHARS,
    MAX_VALUE_CHARS,
    Keeper,
    SpanRecord,
    StoredEvent,
    ViewStore,
)

__all__ = ["read_line"]

_STATUS_NAMES = {
    "STATUS_CODE_UNSET": 0,
    "STATUS_CODE_OK": 1,
    "STATUS_CODE_ERROR": 2,
    "UNSET": 0,
    "OK": 1,
    "ERROR": 2,
}
_NO_VALUE: dict[str, Any] = {}


def _value(value: Any, keep: Keeper) -> object:
    """An OTLP/JSON AnyValue as python (kept by the caller, `Keeper.value`)."""
    if "stringValue" in value:
        return str(value["stringValue"])
    if "intValue" in value:
        return int(value["intValue"])  # int64 travels as a string in OTLP/JSON
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [_value(item, keep) for item in value["arrayValue"].get("values", ())]
    if "kvlistValue" in value:
        return _key_values(value["kvlistValue"].get("values", ()), keep)
    if "bytesValue" in value:
        return base64.b64decode(value["bytesValue"]).hex()
    return None


def _key_values(items: Any, keep: Keeper) -> dict[str, object]:
    """OTLP/JSON attributes, kept as the store keeps them (`Keeper.attributes`, inlined for
    strings: this runs for every attribute of every record of a file)."""
    intern = keep.intern
    decoded: dict[str, object] = {}
    for item in items:
        key = item["key"]
        value = item.get("value") or _NO_VALUE
        text = value.get("stringValue")  # most values are strings: no call for them
        if type(text) is str and type(key) is str:
            decoded[intern(key, key)] = (
                intern(text, text)
                if len(text) <= INTERN_CHARS
                else text
                if len(text) <= MAX_VALUE_CHARS
                else text[:MAX_VALUE_CHARS] + CUT_MARK
            )
        else:
            key = str(key)
            number = value.get("intValue")  # int64 travels as a string in OTLP/JSON
            decoded[intern(key, key)] = (
                int(number) if type(number) is str else keep.value(_value(value, keep))
            )
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


def _scoped(resources: Any, scopes: str, items: str, keep: Keeper) -> Iterator[tuple[str, Any]]:
    """Each record of an export request's resources (`resourceLogs`, `resourceSpans`), with
    the name of its instrumentation scope."""
    for resource in resources:
        for scoped in resource.get(scopes, ()):
            scope = keep.text(str(scoped.get("scope", {}).get("name", "")))
            for item in scoped.get(items, ()):
                yield scope, item


def _events(document: Any, keep: Keeper) -> list[StoredEvent]:
    records = []
    for scope, record in _scoped(document["resourceLogs"], "scopeLogs", "logRecords", keep):
        attributes = _key_values(record.get("attributes", ()), keep)
        records.append(
            StoredEvent(
                0,
                0,
                _named(attributes, record.get("eventName"), keep),
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


def _spans(document: Any, keep: Keeper) -> list[SpanRecord]:
    spans = []
    for scope, span in _scoped(document["resourceSpans"], "scopeSpans", "spans", keep):
        status = span.get("status", {})
        spans.append(
            SpanRecord(
                _id(span.get("traceId")),
                _id(span.get("spanId")),
                _id(span.get("parentSpanId")),
                keep.text(str(span.get("name", ""))),
                int(span.get("startTimeUnixNano", 0) or 0),
                int(span.get("endTimeUnixNano", 0) or 0),
                _key_values(span.get("attributes", ()), keep),
                _status(status),
                keep.text(str(status.get("message", ""))),
                scope,
            )
        )
    return spans


def _named(attributes: dict[str, object], fallback: object, keep: Keeper) -> str:
    """`event.name` before the record's own name (see `_view_model.event_name`)."""
    named = attributes.get(Attr.EVENT_NAME)
    return named if isinstance(named, str) and named else keep.text(str(fallback or ""))


class _Records(NamedTuple):
    """What one line holds, decoded before any of it goes to the store."""

    events: list[StoredEvent]
    spans: list[SpanRecord]
    metrics: list[Metric]


def _received(document: dict[str, Any], keep: Keeper) -> _Records | None:
    """One line of `codex-otel receive --output`; None if it is not one."""
    if "event" in document:
        attributes = keep.attributes(dict(document.get("attributes") or {}))
        event = StoredEvent(
            0,
            0,
            _named(attributes, document["event"], keep),
            int(document.get("time_unix_nano") or 0),
            attributes,
            str(document.get("trace_id") or ""),
            str(document.get("span_id") or ""),
            keep.text(str(document.get("scope") or "")),
        )
        return _Records([event], [], [])
    if "span" in document:
        span = SpanRecord(
            trace_id=str(document.get("trace_id") or ""),
            span_id=str(document.get("span_id") or ""),
            parent_span_id=str(document.get("parent_span_id") or ""),
            name=keep.text(str(document["span"])),
            start_unix_nano=int(document.get("start_time_unix_nano") or 0),
            end_unix_nano=int(document.get("end_time_unix_nano") or 0),
            attributes=keep.attributes(dict(document.get("attributes") or {})),
            status_code=_STATUS_NAMES.get(str(document.get("status")), 0),
            status_message=keep.text(str(document.get("status_message") or "")),
            scope=keep.text(str(document.get("scope") or "")),
        )
        return _Records([], [span], [])
    if "metric" in document:
        points = tuple(
            MetricPoint(
                **{
                    **point,
                    "bucket_counts": tuple(point.get("bucket_counts", ())),
                    "explicit_bounds": tuple(point.get("explicit_bounds", ())),
                }
            )
            for point in document.get("points", ())
        )
        metric = Metric(
            name=str(document["metric"]),
            unit=str(document.get("unit") or ""),
            description="",
            kind=document["kind"],
            temporality=document.get("temporality"),
            monotonic=None,
            points=points,
            resource=dict(document.get("resource") or {}),
            scope_name="",
            transport="file",
        )
        return _Records([], [], [metric])
    return None


def _metrics(line: bytes) -> list[Metric]:
    """An OTLP/JSON metrics export, decoded as the receiver decodes one: by protobuf, imported
    at the first such line (a session's lines are mostly events and spans)."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    from ..testing._otlp_decode import decode_metrics_request, parse_otlp_json_into

    try:
        request = parse_otlp_json_into(line, ExportMetricsServiceRequest())
    except json_format.ParseError as exc:
        raise ValueError(str(exc)) from None
    return decode_metrics_request(request, "file", {})


def _decode(line: bytes, keep: Keeper) -> _Records | None:
    document = json.loads(line)
    if not isinstance(document, dict):
        return None
    keep.fresh()
    if "resourceLogs" in document:
        return _Records(_events(document, keep), [], [])
    if "resourceSpans" in document:
        return _Records([], _spans(document, keep), [])
    if "resourceMetrics" in document:
        return _Records([], [], _metrics(line))
    return _received(document, keep)


def read_line(line: bytes, store: ViewStore, source: str = "") -> bool:
    """One line (of the file `source`) into `store`: an OTLP/JSON export request of any
    signal, or a line of `codex-otel receive --output`; False if it is neither (then nothing
    is added)."""
    try:
        records = _decode(line, store.keep)
    # RecursionError: a line nested deeper than the parser goes is bad input, not a crash.
    except (
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
        RecursionError,
        binascii.Error,
    ):
        return False
    if records is None:
        return False
    # Outside the try: a failure of the store is not a bad line (the follower says it).
    if records.events:
        store.add_records(records.events, source)
    if records.spans:
        store.add_spans(records.spans, source)
    if records.metrics:
        store.add_metrics(records.metrics)
    return True
