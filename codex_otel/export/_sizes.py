"""What one record costs on the wire, estimated without encoding it, and batches cut to size.

Collectors (and gRPC) refuse a request over 4 MiB by default, and the SDK would retry the
same refused request until its timeout, losing the whole batch. The estimate is an upper
bound of the protobuf encoding for ordinary records (text is counted as its UTF-8 bytes,
each field with its framing), cheap enough for the caller's thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

__all__ = [
    "clean_attributes_size",
    "log_record_size",
    "record_size",
    "span_size",
    "split_by_size",
]

T = TypeVar("T")

# Timestamps, severity, flags, trace and span ids, and the record's own framing.
_RECORD_OVERHEAD = 80
# A KeyValue's and its AnyValue's tags and lengths.
_ATTRIBUTE_OVERHEAD = 12
_NUMBER = 10


def _value_size(value: object) -> int:
    if type(value) is str:
        return len(value) if value.isascii() else len(value.encode("utf-8", "replace"))
    if isinstance(value, (bool, int, float)) or value is None:
        return _NUMBER
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_ATTRIBUTE_OVERHEAD + _value_size(k) + _value_size(v) for k, v in value.items())
    if isinstance(value, Sequence):
        return sum(_ATTRIBUTE_OVERHEAD + _value_size(item) for item in value)
    return _value_size(str(value))


def clean_attributes_size(attributes: Mapping[str, object]) -> int | None:
    """What `attributes` add to a record's size, if each value is text, a number or a
    boolean (what the SDK keeps as it is); None if one is anything else."""
    size = 0
    for key, value in attributes.items():
        kind = type(value)
        if kind is str:
            text: str = value  # type: ignore[assignment]
            size += len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
        elif kind is int or kind is bool or kind is float:
            size += _NUMBER
        else:
            return None
        size += _ATTRIBUTE_OVERHEAD + len(key)
    return size


def record_size(body: str, severity_text: str, attributes_size: int) -> int:
    """Upper bound of a log record's protobuf size whose body and event name are `body`, with
    attributes of `attributes_size` (from `clean_attributes_size`)."""
    return _RECORD_OVERHEAD + 2 * _value_size(body) + _value_size(severity_text) + attributes_size


def log_record_size(record: Any) -> int:
    """Upper bound of one log record's protobuf size (an SDK `ReadableLogRecord` or
    `ReadWriteLogRecord`)."""
    log = record.log_record
    size = _RECORD_OVERHEAD + _value_size(log.body) + _value_size(log.event_name)
    size += _value_size(log.severity_text)
    attributes = log.attributes
    # Estimated as the record was built (`CleanRecords`), unless a processor changed them.
    known = getattr(attributes, "wire_size", None)
    if known is not None:
        return size + int(known)
    for key, value in (attributes or {}).items():
        size += _ATTRIBUTE_OVERHEAD + len(key) + _value_size(value)
    return size


def span_size(span: Any) -> int:
    """Upper bound of one span's protobuf size (an SDK `ReadableSpan`)."""
    size = _RECORD_OVERHEAD + _value_size(span.name)
    for key, value in (span.attributes or {}).items():
        size += _ATTRIBUTE_OVERHEAD + len(key) + _value_size(value)
    for event in span.events or ():
        size += _RECORD_OVERHEAD + _value_size(event.name)
        for key, value in (event.attributes or {}).items():
            size += _ATTRIBUTE_OVERHEAD + len(key) + _value_size(value)
    size += _RECORD_OVERHEAD * len(span.links or ())
    return size


def split_by_size(
    batch: Sequence[T], sizes: Sequence[int], limit: int
) -> tuple[list[list[T]], list[T]]:
    """`batch` in order as chunks of at most `limit` bytes each, and the items bigger than
    `limit` on their own (which no request could carry)."""
    chunks: list[list[T]] = []
    too_large: list[T] = []
    chunk: list[T] = []
    total = 0
    for item, size in zip(batch, sizes, strict=True):
        if size > limit:
            too_large.append(item)
            continue
        if chunk and total + size > limit:
            chunks.append(chunk)
            chunk, total = [], 0
        chunk.append(item)
        total += size
    if chunk:
        chunks.append(chunk)
    return chunks, too_large
