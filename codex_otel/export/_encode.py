"""OTLP/protobuf for log records, written as bytes: what the SDK's encoder sends, faster.

The SDK's encoder builds a protobuf message object per record, attribute and value, resource
and scope included, then serializes the lot. Here the resource and scope are written once per
request and each record straight to bytes; a (key, value) pair seen before is copied from a
bounded cache, and so is the whole metadata of a manager's direct records (`_records`). A batch
holding a value of another form than text, a number, a boolean or bytes (lists, mappings, None)
is left to the SDK's encoder, whole.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from ._private_sdk_logs import ATTRIBUTES_DICT
from ._records import SEVERITY, SEVERITY_TEXT, DirectRecord, readables

__all__ = ["encode_logs_request", "request_bytes"]

# Distinct (key, value) pairs kept encoded; past this the cache starts afresh.
_MAX_CACHED_PAIRS = 4096
_MAX_CACHED_TEXT = 128
_MAX_CACHED_INT = 4096
_pairs: dict[tuple[int, str, type, object], bytes] = {}
_pack_double = struct.Struct("<d").pack
_pack_fixed64 = struct.Struct("<Q").pack
_pack_fixed32 = struct.Struct("<I").pack


class Unencodable(Exception):
    """A value this encoder does not write; the SDK's encoder takes the batch."""


def _varint_slow(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 as protobuf writes it: ten bytes of two's complement
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# Varints below 16,384 (lengths, mostly) from a table.
_SMALL = [_varint_slow(n) if n >= 0x80 else bytes((n,)) for n in range(1 << 14)]


def _varint(value: int) -> bytes:
    return _SMALL[value] if 0 <= value < 16384 else _varint_slow(value)


_TAGS = [bytes((n,)) for n in range(128)]


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (`tag` already holds the field number and wire type)."""
    size = len(payload)
    return _TAGS[tag] + (_SMALL[size] if size < 16384 else _varint_slow(size)) + payload


def _any_value(value: object) -> bytes:
    """An AnyValue message; its oneof is written even at its default (presence counts)."""
    kind = type(value)
    if kind is str:
        return _field(0x0A, value.encode("utf-8"))  # type: ignore[attr-defined]
    if kind is bool:
        return b"\x10\x01" if value else b"\x10\x00"
    if kind is int:
        return b"\x18" + _varint(value)  # type: ignore[arg-type]
    if kind is float:
        return b"\x21" + _pack_double(value)
    if kind is bytes:
        return _field(0x3A, value)  # type: ignore[arg-type]
    raise Unencodable(kind.__name__)


def _key_value(tag: int, key: str, value: object) -> bytes:
    """A KeyValue as field `tag`, kept in the cache when the pair is likely to come again."""
    kind = type(value)
    encoded = _encode_key_value(tag, key, value)
    # Floats are not kept (0.0 and -0.0 are equal keys with different bytes), nor long text
    # and large numbers (outputs, sequence numbers): they rarely repeat, and would push out
    # the pairs that do.
    if (
        (kind is str and len(value) <= _MAX_CACHED_TEXT)  # type: ignore[arg-type]
        or (kind is int and -_MAX_CACHED_INT < value < _MAX_CACHED_INT)  # type: ignore[operator]
        or kind is bool
    ):
        if len(_pairs) >= _MAX_CACHED_PAIRS:
            _pairs.clear()
        _pairs[(tag, key, kind, value)] = encoded
    return encoded


# Key -> its KeyValue.key field, written once (keys are few: the catalog's and the resource's).
_MAX_CACHED_KEYS = 1024
_keys: dict[str, bytes] = {}


def _encode_key_value(tag: int, key: str, value: object) -> bytes:
    key_field = _keys.get(key)
    if key_field is None:
        if type(key) is not str:
            raise Unencodable("key")
        if len(_keys) >= _MAX_CACHED_KEYS:
            _keys.clear()
        key_field = _keys[key] = _field(0x0A, key.encode("utf-8"))
    value_field = _field(0x12, _any_value(value))
    size = len(key_field) + len(value_field)
    return b"".join(
        (_TAGS[tag], _SMALL[size] if size < 16384 else _varint_slow(size), key_field, value_field)
    )


def _attributes(tag: int, attributes: Mapping[str, object] | None) -> bytes:
    if not attributes:
        return b""
    # The dict behind the SDK's BoundedAttributes: its own items() takes a lock per read.
    items = getattr(attributes, ATTRIBUTES_DICT, attributes).items()
    get = _pairs.get
    try:
        return b"".join([get((tag, k, type(v), v)) or _key_value(tag, k, v) for k, v in items])
    except TypeError:  # an unhashable value
        raise Unencodable("value") from None


def _resource(resource: Any) -> bytes:
    return _attributes(0x0A, resource.attributes)


def _scope(scope: Any) -> bytes:
    if scope is None:
        return b""
    out = b""
    if scope.name:
        out += _field(0x0A, scope.name.encode("utf-8"))
    if scope.version:
        out += _field(0x12, scope.version.encode("utf-8"))
    return out + _attributes(0x1A, scope.attributes)


def _span_fields(out: list[bytes], flags: int, trace_id: int | None, span_id: int | None) -> None:
    """A LogRecord's flags, trace id and span id, each left out at its default."""
    if flags:
        out.append(b"\x45" + _pack_fixed32(flags))
    if trace_id:
        out.append(_field(0x4A, trace_id.to_bytes(16, "big")))
    if span_id:
        out.append(_field(0x52, span_id.to_bytes(8, "big")))


def _log_record(data: Any) -> bytes:
    log = data.log_record
    out = []
    if log.timestamp:
        out.append(b"\x09" + _pack_fixed64(log.timestamp))
    severity = getattr(log.severity_number, "value", None)
    if severity:
        out.append(b"\x10" + _varint(severity))
    if log.severity_text:
        out.append(_field(0x1A, log.severity_text.encode("utf-8")))
    # A None body is an empty AnyValue, as the SDK writes it.
    out.append(_field(0x2A, _any_value(log.body)) if log.body is not None else b"\x2a\x00")
    attributes = log.attributes
    if attributes:
        out.append(_attributes(0x32, attributes))
    dropped = data.dropped_attributes
    if dropped:
        out.append(b"\x38" + _varint(dropped))
    flags = int(log.trace_flags) if log.trace_flags is not None else 0
    _span_fields(out, flags, log.trace_id, log.span_id)
    if log.observed_timestamp:
        out.append(b"\x59" + _pack_fixed64(log.observed_timestamp))
    if log.event_name:
        out.append(_field(0x62, log.event_name.encode("utf-8")))
    return b"".join(out)


# The manager's metadata of each direct record, encoded once: id -> (the dict, its bytes).
# The dict is kept, so its id is not reused while cached; it is never changed once queued.
_MAX_CACHED_CONTEXTS = 256
_contexts: dict[int, tuple[dict[str, Any], bytes]] = {}
# Event name -> (severity, severity text and body; the event name field).
_MAX_CACHED_NAMES = 256
_names: dict[str, tuple[bytes, bytes]] = {}
_SEVERITY = b"\x10" + _varint(SEVERITY.value) + _field(0x1A, SEVERITY_TEXT.encode("utf-8"))


def _direct_record(record: DirectRecord) -> bytes:
    """A `DirectRecord` as the LogRecord `_log_record` writes for its `ReadableLogRecord`."""
    name = record.event_name
    named = _names.get(name)
    if named is None:
        if len(_names) >= _MAX_CACHED_NAMES:
            _names.clear()
        named = _names[name] = (
            _SEVERITY + _field(0x2A, _any_value(name)),
            _field(0x62, name.encode("utf-8")),
        )
    context = record.context
    cached = _contexts.get(id(context))
    if cached is None or cached[0] is not context:
        if len(_contexts) >= _MAX_CACHED_CONTEXTS:
            _contexts.clear()
        cached = _contexts[id(context)] = (context, _attributes(0x32, context))
    timestamp = _pack_fixed64(record.timestamp)
    # A repeated field is its entries one after another: the metadata's, then the fields'.
    out = [b"\x09", timestamp, named[0], cached[1], _attributes(0x32, record.fields)]
    _span_fields(out, int(record.trace_flags), record.trace_id, record.span_id)
    out += (b"\x59", timestamp, named[1])
    return b"".join(out)


def encode_logs_request(batch: Sequence[Any]) -> bytes:
    """An ExportLogsServiceRequest of SDK `ReadableLogRecord`s and `DirectRecord`s,
    serialized; raises `Unencodable` for a batch the SDK's encoder must take."""
    # Grouped as the SDK groups them: by equal resource, then by equal scope (compared once
    # per distinct object, not hashed per record).
    groups: list[tuple[Any, list[tuple[Any, list[bytes]]]]] = []
    by_id: dict[tuple[int, int], list[bytes]] = {}
    for data in batch:
        direct = type(data) is DirectRecord
        if direct:
            resource, scope = data.origin.resource, data.origin.scope or None
        else:
            resource, scope = data.resource, data.instrumentation_scope or None
        records = by_id.get((id(resource), id(scope)))
        if records is None:
            records = by_id[(id(resource), id(scope))] = _group(groups, resource, scope)
        records.append(_field(0x12, _direct_record(data) if direct else _log_record(data)))
    out = []
    for resource, scopes in groups:
        body = [_field(0x0A, _resource(resource))]
        for scope, records in scopes:
            scope_logs = [_field(0x0A, _scope(scope)), *records]
            schema = scope.schema_url if scope is not None else None
            if schema:
                scope_logs.append(_field(0x1A, schema.encode("utf-8")))
            body.append(_field(0x12, b"".join(scope_logs)))
        if resource.schema_url:
            body.append(_field(0x1A, resource.schema_url.encode("utf-8")))
        out.append(_field(0x0A, b"".join(body)))
    return b"".join(out)


def _group(
    groups: list[tuple[Any, list[tuple[Any, list[bytes]]]]], resource: Any, scope: Any
) -> list[bytes]:
    """The records of `resource` and `scope` in `groups`, added in order if new."""
    scopes = next((found for known, found in groups if known == resource), None)
    if scopes is None:
        scopes = []
        groups.append((resource, scopes))
    for known_scope, records in scopes:
        if known_scope == scope:
            return records
    records = []
    scopes.append((scope, records))
    return records


def request_bytes(batch: Sequence[Any]) -> bytes:
    """The serialized ExportLogsServiceRequest of `batch`: this encoder's, or the SDK's for a
    batch holding another value form."""
    try:
        return encode_logs_request(batch)
    except (Unencodable, UnicodeEncodeError):
        from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs

        return encode_logs(readables(list(batch))).SerializeToString()  # type: ignore[no-any-return]
