"""The catalog as data: event names, attribute keys and the closed value sets.

The event methods and the tests both read these, so a name is spelled once.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "COMMON_ATTRIBUTES",
    "EVENT_ATTRIBUTES",
    "EVENT_NAMES",
    "REDACTED",
    "SECRET_MARKER",
    "TRUNCATED_MARKER",
    "Attr",
    "Event",
    "ToolDecision",
    "ToolDecisionSource",
]

REDACTED = "[REDACTED]"
# Stands in for a secret scrubbed from tool arguments or output; repeats none of it.
SECRET_MARKER = "[SECRET]"
# Appended to tool arguments or output cut at `tool_result.max_bytes`.
TRUNCATED_MARKER = "…[truncated]"


class Event:
    """Event names (the log record's EventName and its `event.name` attribute)."""

    CONVERSATION_STARTS = "codex.conversation_starts"
    API_REQUEST = "codex.api_request"
    SSE_EVENT = "codex.sse_event"
    USER_PROMPT = "codex.user_prompt"
    TOOL_DECISION = "codex.tool_decision"
    TOOL_RESULT = "codex.tool_result"


class Attr:
    """Attribute keys."""

    # Common to every event.
    EVENT_NAME = "event.name"
    EVENT_TIMESTAMP = "event.timestamp"
    CONVERSATION_ID = "conversation.id"
    APP_VERSION = "app.version"
    AUTH_MODE = "auth_mode"
    ACCOUNT_ID = "user.account_id"
    TERMINAL_TYPE = "terminal.type"
    MODEL = "model"
    SLUG = "slug"
    # Correlation: every event's place in its conversation, and its turn when inside one.
    EVENT_SEQUENCE = "event.sequence"
    TURN_ID = "turn.id"
    # codex.conversation_starts
    PROVIDER_NAME = "provider_name"
    REASONING_EFFORT = "reasoning_effort"
    REASONING_SUMMARY = "reasoning_summary"
    CONTEXT_WINDOW = "context_window"
    MAX_OUTPUT_TOKENS = "max_output_tokens"
    AUTO_COMPACT_TOKEN_LIMIT = "auto_compact_token_limit"
    APPROVAL_POLICY = "approval_policy"
    SANDBOX_POLICY = "sandbox_policy"
    MCP_SERVERS = "mcp_servers"
    ACTIVE_PROFILE = "active_profile"
    # codex.api_request
    ATTEMPT = "attempt"
    DURATION_MS = "duration_ms"
    HTTP_STATUS_CODE = "http.response.status_code"
    ERROR_MESSAGE = "error.message"
    CF_RAY = "cf_ray"
    # codex.sse_event
    EVENT_KIND = "event.kind"
    INPUT_TOKEN_COUNT = "input_token_count"
    OUTPUT_TOKEN_COUNT = "output_token_count"
    CACHED_TOKEN_COUNT = "cached_token_count"
    REASONING_TOKEN_COUNT = "reasoning_token_count"
    TOOL_TOKEN_COUNT = "tool_token_count"
    # codex.user_prompt
    PROMPT_LENGTH = "prompt_length"
    PROMPT = "prompt"
    # codex.tool_decision / codex.tool_result
    TOOL_NAME = "tool_name"
    CALL_ID = "call_id"
    DECISION = "decision"
    SOURCE = "source"
    ARGUMENTS = "arguments"
    SUCCESS = "success"
    OUTPUT = "output"
    # Sizes in UTF-8 bytes of arguments / output before they were cut (only when cut).
    ARGUMENTS_ORIGINAL_BYTES = "arguments_original_bytes"
    OUTPUT_ORIGINAL_BYTES = "output_original_bytes"


COMMON_ATTRIBUTES = (
    Attr.EVENT_NAME,
    Attr.EVENT_TIMESTAMP,
    Attr.CONVERSATION_ID,
    Attr.APP_VERSION,
    Attr.AUTH_MODE,
    Attr.ACCOUNT_ID,
    Attr.TERMINAL_TYPE,
    Attr.MODEL,
    Attr.SLUG,
    Attr.EVENT_SEQUENCE,
    Attr.TURN_ID,
)

# Every attribute each event may carry besides the common ones.
EVENT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    Event.CONVERSATION_STARTS: (
        Attr.PROVIDER_NAME,
        Attr.REASONING_EFFORT,
        Attr.REASONING_SUMMARY,
        Attr.CONTEXT_WINDOW,
        Attr.MAX_OUTPUT_TOKENS,
        Attr.AUTO_COMPACT_TOKEN_LIMIT,
        Attr.APPROVAL_POLICY,
        Attr.SANDBOX_POLICY,
        Attr.MCP_SERVERS,
        Attr.ACTIVE_PROFILE,
    ),
    Event.API_REQUEST: (
        Attr.ATTEMPT,
        Attr.DURATION_MS,
        Attr.HTTP_STATUS_CODE,
        Attr.ERROR_MESSAGE,
        Attr.CF_RAY,
    ),
    Event.SSE_EVENT: (
        Attr.EVENT_KIND,
        Attr.DURATION_MS,
        Attr.ERROR_MESSAGE,
        Attr.INPUT_TOKEN_COUNT,
        Attr.OUTPUT_TOKEN_COUNT,
        Attr.CACHED_TOKEN_COUNT,
        Attr.REASONING_TOKEN_COUNT,
        Attr.TOOL_TOKEN_COUNT,
    ),
    Event.USER_PROMPT: (Attr.PROMPT_LENGTH, Attr.PROMPT),
    Event.TOOL_DECISION: (Attr.TOOL_NAME, Attr.CALL_ID, Attr.DECISION, Attr.SOURCE),
    Event.TOOL_RESULT: (
        Attr.TOOL_NAME,
        Attr.CALL_ID,
        Attr.ARGUMENTS,
        Attr.DURATION_MS,
        Attr.SUCCESS,
        Attr.OUTPUT,
        Attr.ARGUMENTS_ORIGINAL_BYTES,
        Attr.OUTPUT_ORIGINAL_BYTES,
    ),
}

EVENT_NAMES = tuple(EVENT_ATTRIBUTES)


class ToolDecision(str, Enum):
    """How a tool call was decided."""

    APPROVED = "approved"
    APPROVED_FOR_SESSION = "approved_for_session"
    DENIED = "denied"
    ABORT = "abort"


class ToolDecisionSource(str, Enum):
    """Who decided: the configuration or the user."""

    CONFIG = "config"
    USER = "user"
