"""OTLP/JSON for log records, written as text: the line the SDK's file exporter writes, faster.

The SDK's JSON encoder builds a message object per record, attribute and value, turns them all
into dicts, then `json.dumps` the lot: some 50 µs a record on the worker thread, which bounds
how many events a second an `otlp-file` exporter takes. Here a batch of the manager's direct
records (`_records.DirectRecord`) is written straight to text, the metadata of each manager
once. Any other batch (SDK records, a value of another form than text, a finite number or a
boolean, a schema URL) is left to the SDK's encoder, whole: `encode_logs_line` returns None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from ._records import SEVERITY, SEVERITY_TEXT, DirectRecord

__all__ = ["encode_logs_line"]


class _Unwritten(Exception):
    """A value or shape this encoder does not write; the SDK's encoder takes the batch."""


def _value(value: object) -> str:
    """An AnyValue, as the SDK's JSON encoder writes it (`json.dumps`, ASCII only)."""
    kind = type(value)
    if kind is str:
        return '{"stringValue":' + encode_basestring_ascii(value) + "}"  # type: ignore[arg-type]
    if kind is bool:
        return '{"boolValue":true}' if value else '{"boolValue":false}'
    if kind is int:
        return '{"intValue":"' + str(value) + '"}'
    if kind is float and math.isfinite(value):  # type: ignore[arg-type]
        return '{"doubleValue":' + float.__repr__(value) + "}"
    raise _Unwritten(kind.__name__)


def _attributes(attributes: Mapping[str, object]) -> list[str]:
    out = []
    for key, value in attributes.items():
        if type(key) is not str or not key:  # the SDK drops or writes these otherwise
            raise _Unwritten("key")
        out.append('{"key":' + encode_basestring_ascii(key) + ',"value":' + _value(value) + "}")
    return out


# The manager's metadata of each direct record, written once: id -> (the dict, its text).
# The dict is kept, so its id is not reused while cached; it is never changed once queued.
_MAX_CACHED_CONTEXTS = 256
_contexts: dict[int, tuple[dict[str, Any], list[str]]] = {}
# Event name -> (the record's fields before its attributes, its event name field).
_MAX_CACHED_NAMES = 256
_names: dict[str, tuple[str, str]] = {}


def _named(name: str) -> tuple[str, str]:
    named = _names.get(name)
    if named is None:
        if len(_names) >= _MAX_CACHED_NAMES:
            _names.clear()
        quoted = encode_basestring_ascii(name)
        named = _names[name] = (
            f'","severityNumber":{SEVERITY.value},"severityText":"{SEVERITY_TEXT}"'
            f',"body":{{"stringValue":{quoted}}},"attributes":[',
            f',"eventName":{quoted}}}',
        )
    return named


def _record(record: DirectRecord) -> str:
    """A `DirectRecord` as the SDK's encoder writes its `ReadableLogRecord`."""
    context = record.context
    cached = _contexts.get(id(context))
    if cached is None or cached[0] is not context:
        if len(_contexts) >= _MAX_CACHED_CONTEXTS:
            _contexts.clear()
        cached = _contexts[id(context)] = (context, _attributes(context))
    before, after = _named(record.event_name)
    stamp = str(record.timestamp)
    # The metadata's attributes, then the fields' (their keys never overlap).
    text = [
        '{"timeUnixNano":"',
        stamp,
        '","observedTimeUnixNano":"',
        stamp,
        before,
        ",".join(cached[1] + _attributes(record.fields)),
        "]",
    ]
    flags = int(record.trace_flags)
    if flags:
        text.append(f',"flags":{flags}')
    if record.trace_id:
        text.append(',"traceId":"' + record.trace_id.to_bytes(16, "big").hex() + '"')
    if record.span_id:
        text.append(',"spanId":"' + record.span_id.to_bytes(8, "big").hex() + '"')
    text.append(after)
    return "".join(text)


def _scope(scope: Any) -> str:
    if scope.schema_url or scope.attributes:
        raise _Unwritten("scope")
    fields = []
    if scope.name:
        fields.append('"name":' + encode_basestring_ascii(scope.name))
    if scope.version:
        fields.append('"version":' + encode_basestring_ascii(scope.version))
    return "{" + ",".join(fields) + "}"


def encode_logs_line(batch: Sequence[Any]) -> str | None:
    """The OTLP/JSON line (with its newline) the SDK's file exporter writes for `batch`, or
    None when the batch is not all direct records of one origin in forms written here."""
    if not batch or type(batch[0]) is not DirectRecord:
        return None
    origin = batch[0].origin
    resource = origin.resource
    scope = origin.scope
    if resource.schema_url or scope is None:
        return None
    try:
        records = []
        for record in batch:
            if type(record) is not DirectRecord or record.origin is not origin:
                return None
            records.append(_record(record))
        resource_text = ",".join(_attributes(resource.attributes))
        scope_text = _scope(scope)
    except (_Unwritten, OverflowError):
        return None
    return (
        '{"resourceLogs":[{"resource":'
        + ('{"attributes":[' + resource_text + "]}" if resource_text else "{}")
        + ',"scopeLogs":[{"scope":'
        + scope_text
        + ',"logRecords":['
        + ",".join(records)
        + "]}]}]}\n"
    )
