"""Every private attribute of the OpenTelemetry SDK this package touches, named in one place.

`tests/test_sdk_private.py` fails if an SDK release inside the pinned range renames one.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["BATCH_PROCESSOR", "import_tracing_sdk", "inner_batch_processor", "pin_headers"]

# `BatchLogRecordProcessor._batch_processor`: the SDK's generic `BatchProcessor`, whose
# `shutdown(timeout_millis=...)` takes a bound where the public wrapper waits a fixed 30 s.
BATCH_PROCESSOR = "_batch_processor"
# OTLP/HTTP exporters (protobuf and JSON): `_client._headers`, the dict sent on every export.
HTTP_CLIENT = "_client"
HTTP_HEADERS = "_headers"
# OTLP/gRPC exporters: `_headers`, the metadata tuple sent on every export.
GRPC_HEADERS = "_headers"
# What the OTLP/HTTP exporters send besides the user's headers, kept when pinning.
_TRANSPORT_HEADERS = ("content-type", "user-agent")


def inner_batch_processor(processor: object) -> Any:
    """The SDK's generic batch processor inside a `BatchLogRecordProcessor`."""
    return getattr(processor, BATCH_PROCESSOR)


def pin_headers(exporter: object, headers: Mapping[str, str]) -> None:
    """Drop the headers an SDK exporter took from inherited `OTEL_EXPORTER_OTLP_*HEADERS`.

    The exporters merge those into every export even when given headers of their own, so a
    token the host set for some other backend would be sent to this collector. Only the
    `[otel]` table's headers (and the exporter's content-type and user-agent) remain.
    """
    ours = {name.lower(): value for name, value in headers.items()}
    client = getattr(exporter, HTTP_CLIENT, None)
    current = getattr(client, HTTP_HEADERS, None)
    if isinstance(current, dict):  # OTLP/HTTP, protobuf and JSON
        transport = {k: v for k, v in current.items() if k in _TRANSPORT_HEADERS}
        setattr(client, HTTP_HEADERS, {**transport, **ours})
    elif isinstance(getattr(exporter, GRPC_HEADERS, None), tuple):  # OTLP/gRPC
        setattr(exporter, GRPC_HEADERS, tuple(ours.items()))
    else:
        raise TypeError(f"{type(exporter).__name__}: no header field to pin")


# Read by `opentelemetry.sdk.trace` when imported, for a module constant kept for backward
# compatibility: a value that is not a non-negative integer makes the import raise.
_SPAN_ATTRIBUTE_COUNT_LIMIT = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"
_TRACING_SDK = "opentelemetry.sdk.trace"


def import_tracing_sdk() -> None:
    """Import the tracing SDK even under an invalid inherited `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`.

    Every OTLP exporter imports it (their encoders do, for spans), so such a value would
    stop events and metrics too. The variable is hidden for the import only; the traces
    pipeline passes explicit limits, so it never applies anyway.
    """
    if _TRACING_SDK in sys.modules:
        return
    value = os.environ.get(_SPAN_ATTRIBUTE_COUNT_LIMIT)
    try:
        valid = value is None or int(value) >= 0
    except ValueError:
        valid = False
    if valid or value is None:
        importlib.import_module(_TRACING_SDK)
        return
    del os.environ[_SPAN_ATTRIBUTE_COUNT_LIMIT]
    try:
        importlib.import_module(_TRACING_SDK)
    finally:
        os.environ[_SPAN_ATTRIBUTE_COUNT_LIMIT] = value
