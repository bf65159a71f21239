"""Call arguments -> attribute values: numbers, text and HTTP facts, never raising."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from ._errors import report_internal_error

__all__ = [
    "as_text",
    "cf_ray",
    "duration_ms",
    "elapsed_ms",
    "failure",
    "metric_millis",
    "metric_status",
    "opt_int",
    "safe_str",
    "status_code",
    "text_parts",
]

_NS_PER_MS = 1_000_000


def duration_ms(duration: timedelta | float | None) -> int:
    """A timedelta or seconds -> whole milliseconds (truncated, never negative; None is 0)."""
    if duration is None:
        return 0
    if isinstance(duration, timedelta):
        millis = duration // timedelta(milliseconds=1)
    else:
        millis = int(float(duration) * 1000)
    return max(millis, 0)


def elapsed_ms(start_ns: int) -> int:
    return (time.perf_counter_ns() - start_ns) // _NS_PER_MS


def as_text(value: object) -> str:
    """Tool arguments and output: strings as they are, bytes decoded, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    try:
        return json.dumps(value, ensure_ascii=False, default=safe_str)
    except Exception:  # circular, or a mapping with keys JSON cannot take
        return str(safe_str(value))


def status_code(obj: object) -> int | None:
    """The HTTP status of a response, or of an error that carries one (httpx, openai)."""
    for candidate in (obj, getattr(obj, "response", None)):
        status = getattr(candidate, "status_code", None)
        if isinstance(status, int):
            return status
    return None


def cf_ray(response: object) -> str | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("cf-ray")
    return value if isinstance(value, str) else None


def metric_millis(duration: timedelta | float) -> int | None:
    """`duration_ms` for a metric: a bad value skips the histogram instead of raising."""
    try:
        return duration_ms(duration)
    except Exception as exc:
        report_internal_error("recording a metric's duration", exc)
        return None


def metric_status(outcome: object) -> int | None:
    try:
        return status_code(outcome)
    except Exception as exc:
        report_internal_error("reading a response status for a metric", exc)
        return None


def opt_int(value: int | None) -> int | None:
    return None if value is None else int(value)


def safe_str(value: object) -> Any:
    """Text for an attribute: None stays None (left out); bytes are decoded; never raises."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def text_parts(items: Iterable[str | Mapping[str, Any]]) -> Iterable[str]:
    for item in items:
        if isinstance(item, str):
            yield item
        elif isinstance(item, Mapping) and item.get("type") == "text":
            text = item.get("text")
            if isinstance(text, str):
                yield text


def failure(exc: BaseException) -> object:
    """What a failed call records: an Exception itself (its message is read later); for an
    interruption (KeyboardInterrupt, SystemExit, asyncio.CancelledError: any BaseException
    that is not an Exception) a fixed text naming it, the same in every wrapper."""
    if isinstance(exc, Exception):
        return exc
    return f"interrupted ({type(exc).__name__})"
