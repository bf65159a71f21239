"""Instrument names, data point tag keys and the instruments, as data (read by the metrics
pipeline and the tests alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["INSTRUMENTS", "InstrumentSpec", "MetricName", "Tag"]


class MetricName:
    """Instrument names."""

    API_REQUEST = "codex.api_request"
    API_REQUEST_DURATION = "codex.api_request.duration_ms"
    SSE_EVENT = "codex.sse_event"
    SSE_EVENT_DURATION = "codex.sse_event.duration_ms"
    TOOL_CALL = "codex.tool.call"
    TOOL_CALL_DURATION = "codex.tool.call.duration_ms"
    TOKEN_USAGE = "codex.turn.token_usage"
    CONVERSATION_STARTS = "codex.conversation.starts"


class Tag:
    """Data point attribute keys."""

    # On every point.
    AUTH_MODE = "auth_mode"
    MODEL = "model"
    APP_VERSION = "app.version"
    USER_HASH = "user.hash"  # OpenTelemetry's key for an anonymised user id
    CONVERSATION_ID = "conversation.id"  # only when `metrics_conversation_id` is on
    # Per instrument.
    STATUS = "status"
    SUCCESS = "success"
    KIND = "kind"
    TOOL = "tool"
    TOKEN_TYPE = "token_type"


# Durations run from a cached SSE delta (~0 ms) to a long tool call or request (minutes).
_MS_BOUNDS = (0, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000)
# Tokens per turn run up to a full context window (~272k).
_TOKEN_BOUNDS = (0, 100, 500, 1000, 5000, 10000, 25000, 50000, 100000, 200000, 500000, 1000000)


@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    kind: Literal["counter", "histogram"]
    unit: str
    description: str
    bounds: tuple[float, ...] | None = None


INSTRUMENTS = (
    InstrumentSpec(
        MetricName.API_REQUEST, "counter", "{request}", "API requests to the model provider"
    ),
    InstrumentSpec(
        MetricName.API_REQUEST_DURATION, "histogram", "ms", "API request duration", _MS_BOUNDS
    ),
    InstrumentSpec(MetricName.SSE_EVENT, "counter", "{event}", "Server-sent events received"),
    InstrumentSpec(
        MetricName.SSE_EVENT_DURATION,
        "histogram",
        "ms",
        "Wait for each server-sent event",
        _MS_BOUNDS,
    ),
    InstrumentSpec(MetricName.TOOL_CALL, "counter", "{call}", "Tool calls"),
    InstrumentSpec(
        MetricName.TOOL_CALL_DURATION, "histogram", "ms", "Tool call duration", _MS_BOUNDS
    ),
    InstrumentSpec(
        MetricName.TOKEN_USAGE,
        "histogram",
        "{token}",
        "Tokens used per response, by token type",
        _TOKEN_BOUNDS,
    ),
    InstrumentSpec(
        MetricName.CONVERSATION_STARTS, "counter", "{conversation}", "Conversations started"
    ),
)
