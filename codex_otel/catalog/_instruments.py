"""Instrument names, data point tag keys and the instruments, as data (read by the metrics
pipeline and the tests alike).

Codex's own instruments as Codex records them (counters without a unit, durations as
histograms in `ms`, token counts without a unit), and the OpenTelemetry GenAI client
metrics beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GEN_AI_TOKEN_TYPES",
    "INSTRUMENTS",
    "SHELL_TAGS",
    "TOKEN_TYPES",
    "InstrumentSpec",
    "MetricName",
    "Tag",
]


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
    # Codex's newer instruments.
    PROCESS_START = "codex.process.start"
    THREAD_STARTED = "codex.thread.started"
    CONVERSATION_TURN_COUNT = "codex.conversation.turn.count"
    TURN_E2E_DURATION = "codex.turn.e2e_duration_ms"
    TURN_TTFT_DURATION = "codex.turn.ttft.duration_ms"
    TURN_TTFM_DURATION = "codex.turn.ttfm.duration_ms"
    TURN_TOOL_CALL = "codex.turn.tool.call"
    STARTUP_PHASE_DURATION = "codex.startup.phase.duration_ms"
    WEBSOCKET_REQUEST = "codex.websocket.request"
    WEBSOCKET_REQUEST_DURATION = "codex.websocket.request.duration_ms"
    WEBSOCKET_EVENT = "codex.websocket.event"
    WEBSOCKET_EVENT_DURATION = "codex.websocket.event.duration_ms"
    PLUGIN_INSTALL_ELICITATION_SENT = "codex.plugins.install_elicitation.sent"
    PLUGIN_INSTALL_SUGGESTION = "codex.plugins.install_suggestion"
    # The OpenTelemetry GenAI semantic conventions' client metrics.
    GEN_AI_TOKEN_USAGE = "gen_ai.client.token.usage"
    GEN_AI_OPERATION_DURATION = "gen_ai.client.operation.duration"


class Tag:
    """Data point attribute keys."""

    # On every point.
    AUTH_MODE = "auth_mode"
    MODEL = "model"
    APP_VERSION = "app.version"
    ORIGINATOR = "originator"
    SESSION_SOURCE = "session_source"
    SERVICE_NAME = "service_name"  # only when a service name was set
    USER_HASH = "user.hash"  # OpenTelemetry's key for an anonymised user id
    CONVERSATION_ID = "conversation.id"  # only when `metrics_conversation_id` is on
    # Per instrument.
    STATUS = "status"
    SUCCESS = "success"
    KIND = "kind"
    TOOL = "tool"
    TOKEN_TYPE = "token_type"
    PHASE = "phase"
    IS_GIT = "is_git"
    IS_WORKTREE = "is_worktree"
    TOOL_TYPE = "tool_type"
    RESPONSE_ACTION = "response_action"
    COMPLETED = "completed"
    COMMAND_CATEGORY = "command_category"
    SANDBOX = "sandbox"
    SANDBOX_POLICY = "sandbox_policy"
    SHELL_SNAPSHOT_MODE = "shell_snapshot_mode"
    # The GenAI metrics' attributes.
    GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
    GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
    GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
    GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
    ERROR_TYPE = "error.type"


# `codex.tool.call`'s tags for a shell tool, in the order `tool_result` takes them.
SHELL_TAGS = (Tag.COMMAND_CATEGORY, Tag.SANDBOX, Tag.SANDBOX_POLICY, Tag.SHELL_SNAPSHOT_MODE)

TOKEN_TYPES = (
    "total",
    "input",
    "cached_input",
    "cache_write_input",
    "output",
    "reasoning_output",
)
"""`token_type` of `codex.turn.token_usage`: one point per turn and type."""

GEN_AI_TOKEN_TYPES = ("input", "output")
"""`gen_ai.token.type` of `gen_ai.client.token.usage`."""

# Durations run from a cached SSE delta (~0 ms) to a long tool call or request (minutes).
_MS_BOUNDS = (0, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000)
# Tokens per turn run up to a full context window (~272k).
_TOKEN_BOUNDS = (0, 100, 500, 1000, 5000, 10000, 25000, 50000, 100000, 200000, 500000, 1000000)
# Tool calls in one turn.
_COUNT_BOUNDS = (0, 1, 2, 5, 10, 25, 50, 100, 250)
# The GenAI semantic conventions' advised boundaries.
_GEN_AI_SECONDS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
_GEN_AI_TOKENS = tuple(float(4**n) for n in range(14))


@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    kind: Literal["counter", "histogram"]
    unit: str
    description: str
    bounds: tuple[float, ...] | None = None
    tags: tuple[str, ...] = ()
    """The tags of its own, besides those on every point."""


def _counter(name: str, description: str, *tags: str) -> InstrumentSpec:
    # Codex's counters carry no unit.
    return InstrumentSpec(name, "counter", "", description, None, tags)


def _ms(name: str, description: str, *tags: str) -> InstrumentSpec:
    return InstrumentSpec(name, "histogram", "ms", description, _MS_BOUNDS, tags)


INSTRUMENTS = (
    _counter(MetricName.API_REQUEST, "API requests to the model provider", Tag.STATUS, Tag.SUCCESS),
    _ms(MetricName.API_REQUEST_DURATION, "API request duration", Tag.STATUS, Tag.SUCCESS),
    _counter(MetricName.SSE_EVENT, "Server-sent events received", Tag.KIND, Tag.SUCCESS),
    _ms(MetricName.SSE_EVENT_DURATION, "Wait for each server-sent event", Tag.KIND, Tag.SUCCESS),
    _counter(
        MetricName.TOOL_CALL,
        "Tool calls",
        Tag.TOOL,
        Tag.SUCCESS,
        *SHELL_TAGS,
    ),
    _ms(MetricName.TOOL_CALL_DURATION, "Tool call duration", Tag.TOOL, Tag.SUCCESS),
    InstrumentSpec(
        MetricName.TOKEN_USAGE,
        "histogram",
        "",
        "Tokens used per turn, by token type",
        _TOKEN_BOUNDS,
        (Tag.TOKEN_TYPE,),
    ),
    _counter(MetricName.CONVERSATION_STARTS, "Conversations started"),
    _counter(MetricName.PROCESS_START, "Processes started (once per process)"),
    _counter(MetricName.THREAD_STARTED, "Threads started", Tag.IS_GIT, Tag.IS_WORKTREE),
    _counter(MetricName.CONVERSATION_TURN_COUNT, "Turns"),
    _ms(MetricName.TURN_E2E_DURATION, "Turn duration, from its start to its end"),
    _ms(MetricName.TURN_TTFT_DURATION, "Time to a turn's first output token"),
    _ms(MetricName.TURN_TTFM_DURATION, "Time to a turn's first output message"),
    InstrumentSpec(
        MetricName.TURN_TOOL_CALL, "histogram", "", "Tool calls in a turn", _COUNT_BOUNDS
    ),
    _ms(MetricName.STARTUP_PHASE_DURATION, "Duration of a start-up phase", Tag.PHASE, Tag.STATUS),
    _counter(MetricName.WEBSOCKET_REQUEST, "Requests over a WebSocket", Tag.SUCCESS),
    _ms(MetricName.WEBSOCKET_REQUEST_DURATION, "WebSocket request duration", Tag.SUCCESS),
    _counter(MetricName.WEBSOCKET_EVENT, "WebSocket events received", Tag.KIND, Tag.SUCCESS),
    _ms(
        MetricName.WEBSOCKET_EVENT_DURATION,
        "Wait for each WebSocket event",
        Tag.KIND,
        Tag.SUCCESS,
    ),
    _counter(
        MetricName.PLUGIN_INSTALL_ELICITATION_SENT, "Plugin install prompts shown", Tag.TOOL_TYPE
    ),
    _counter(
        MetricName.PLUGIN_INSTALL_SUGGESTION,
        "Plugin install suggestions answered",
        Tag.TOOL_TYPE,
        Tag.RESPONSE_ACTION,
        Tag.COMPLETED,
    ),
    InstrumentSpec(
        MetricName.GEN_AI_TOKEN_USAGE,
        "histogram",
        "{token}",
        "Number of input and output tokens used",
        _GEN_AI_TOKENS,
        (
            Tag.GEN_AI_OPERATION_NAME,
            Tag.GEN_AI_PROVIDER_NAME,
            Tag.GEN_AI_REQUEST_MODEL,
            Tag.GEN_AI_TOKEN_TYPE,
        ),
    ),
    InstrumentSpec(
        MetricName.GEN_AI_OPERATION_DURATION,
        "histogram",
        "s",
        "GenAI operation duration",
        _GEN_AI_SECONDS,
        (
            Tag.GEN_AI_OPERATION_NAME,
            Tag.GEN_AI_PROVIDER_NAME,
            Tag.GEN_AI_REQUEST_MODEL,
            Tag.ERROR_TYPE,
        ),
    ),
)
