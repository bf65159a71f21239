"""Call arguments -> attribute values: numbers, text and HTTP facts, never raising."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from ._errors import report_internal_error
from .catalog import safe_url_path

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "as_text",
    "cf_ray",
    "clamp_int",
    "duration_ms",
    "elapsed_ms",
    "error_text",
    "failure",
    "metric_millis",
    "metric_status",
    "opt_int",
    "request_facts",
    "safe_str",
    "seconds_since",
    "status_code",
    "text_parts",
]

_NS_PER_MS = 1_000_000
_NS_PER_SECOND = 1_000_000_000
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def clamp_int(value: int) -> int:
    """An integer as OTLP carries it: one outside int64 is clamped to int64's range (a single
    out-of-range value would otherwise fail the encoding of its event, or of its whole batch)."""
    return INT64_MIN if value < INT64_MIN else INT64_MAX if value > INT64_MAX else value


def duration_ms(duration: timedelta | float | None) -> int:
    """A timedelta or seconds -> whole milliseconds, never raising: truncated; None, negative,
    NaN and anything `float()` refuses are 0; beyond int64 (or +inf) is int64's maximum."""
    if duration is None:
        return 0
    if isinstance(duration, timedelta):
        return clamp_int(max(duration // timedelta(milliseconds=1), 0))
    try:
        millis = float(duration) * 1000
    except Exception:
        return 0
    if not millis > 0:  # negative, zero or NaN
        return 0
    return INT64_MAX if millis >= INT64_MAX else int(millis)


def elapsed_ms(start_ns: int) -> int:
    """Whole milliseconds since `start_ns` (a `time.perf_counter_ns()` reading)."""
    return (time.perf_counter_ns() - start_ns) // _NS_PER_MS


def seconds_since(start_ns: int) -> float:
    """Seconds since `start_ns` (a `time.perf_counter_ns()` reading)."""
    return (time.perf_counter_ns() - start_ns) / _NS_PER_SECOND


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


# Headers that carry a request's credential (OpenAI, Anthropic, Azure): only the name is read.
_AUTH_HEADERS = ("authorization", "x-api-key", "api-key")
_REQUEST_ID_HEADERS = ("x-request-id", "request-id")


def _safe_getattr(obj: object, name: str) -> object:
    try:
        return getattr(obj, name, None)
    except Exception:  # httpx raises for a `.request` it never had
        return None


def request_facts(outcome: object, request: object = None) -> tuple[str, str | None, str | None]:
    """What Codex records of a request, read from the request (else the one its response or
    error carries) and its response (or error): the endpoint (the URL path after the API
    version, e.g. `/responses`, a segment holding a key shape `REDACTED`; `unknown` when no
    request is known), the name of the header its credential went in (None: none), and the
    response's request id. Never a header's value but the request id's."""
    if request is None:
        request = _safe_getattr(outcome, "request")
    if request is None:
        request = _safe_getattr(_safe_getattr(outcome, "response"), "request")
    endpoint = "unknown"
    path = _safe_getattr(_safe_getattr(request, "url"), "path")
    if isinstance(path, str) and path:
        path = safe_url_path(path)  # a key in a path segment stays out of the event
        parts = path.rstrip("/").split("/")
        endpoint = path
        for index, part in enumerate(parts):
            if len(part) > 1 and part[0] == "v" and part[1:].isdigit():
                endpoint = "/" + "/".join(parts[index + 1 :])
                break
    header_name = None
    headers: Any = _safe_getattr(request, "headers")
    if headers is not None:
        header_name = next((name for name in _AUTH_HEADERS if name in headers), None)
    request_id = None
    response_headers: Any = _safe_getattr(outcome, "headers")
    if response_headers is None:
        response_headers = _safe_getattr(_safe_getattr(outcome, "response"), "headers")
    if response_headers is not None:
        for name in _REQUEST_ID_HEADERS:
            value = response_headers.get(name)
            if isinstance(value, str):
                request_id = value
                break
    return endpoint, header_name, request_id


def metric_millis(duration: timedelta | float) -> int | None:
    """`duration_ms` for a metric: a value that is no number (NaN, or one `float()` refuses)
    skips the histogram rather than skew it with the 0 an event carries."""
    if duration is None or isinstance(duration, timedelta):
        return duration_ms(duration)
    try:
        seconds = float(duration)
    except Exception as exc:
        report_internal_error("recording a metric's duration", exc)
        return None
    return None if math.isnan(seconds) else duration_ms(seconds)


def metric_status(outcome: object) -> int | None:
    try:
        return status_code(outcome)
    except Exception as exc:
        report_internal_error("reading a response status for a metric", exc)
        return None


def opt_int(value: int | None) -> int | None:
    """A count or code as an attribute, never raising: clamped to int64 (±inf to its bounds),
    a float truncated; None, NaN and what `int()` refuses are None (left out, like None)."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return INT64_MAX if value > 0 else INT64_MIN
    try:
        return clamp_int(int(value))
    except Exception:
        return None


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


def error_text(error: BaseException) -> str:
    """The recorded text of a call that raised, never raising: an Exception's message (its
    type's name if empty); an interruption's fixed text (see `failure`)."""
    outcome = failure(error)
    if isinstance(outcome, str):
        return outcome
    return safe_str(error) or type(error).__name__


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
