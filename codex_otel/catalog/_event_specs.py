"""Every event of the catalog, declared once: its fields with their types, which may be
absent, how free text is capped and scrubbed, its metrics, and when it is emitted.

The manager's event methods build their attributes from these declarations (the newer
events through one generic path), the README's tables and the tests read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._events import Attr, Event
from ._instruments import MetricName

__all__ = [
    "AUTH_ENV_FIELDS",
    "COMMON_ATTRIBUTES",
    "EVENTS",
    "EVENT_ATTRIBUTES",
    "EVENT_NAMES",
    "RESPONSE_MAX_BYTES",
    "EventSpec",
    "FieldKind",
    "FieldSpec",
]

# Codex's cap on an agent response and a guardian rationale (UTF-8 bytes).
RESPONSE_MAX_BYTES = 65_536

FieldKind = Literal["name", "text", "int", "bool", "flag"]
"""How a value is sent: `name` a short text (an id, kind or policy) capped at 1 KiB; `text`
free text, secrets scrubbed and capped (at `cap`, else `[otel].tool_result.max_bytes`);
`int` an integer (durations in whole milliseconds); `bool` a boolean; `flag` the string
`"true"` or `"false"`, as the seed's `success` is."""


@dataclass(frozen=True)
class FieldSpec:
    key: str
    kind: FieldKind
    optional: bool = False
    """May be absent (when unknown, or on one outcome only)."""
    cap: int | None = None
    """For `text`: the cap in UTF-8 bytes (else `[otel].tool_result.max_bytes`)."""
    length_key: str | None = None
    """For `text`: the field that carries the original length in UTF-8 bytes."""
    truncated_key: str | None = None
    """For `text`: the boolean field that says whether it was cut."""


@dataclass(frozen=True)
class EventSpec:
    name: str
    when: str
    """When it is emitted, for the README's table."""
    fields: tuple[FieldSpec, ...]
    metrics: tuple[str, ...] = ()
    """The instruments recorded beside it."""
    opt_in: str | None = None
    """The `[otel]` switch it needs (off by default), if any."""

    @property
    def keys(self) -> tuple[str, ...]:
        """Every attribute it may carry besides the common ones, companions included."""
        keys: list[str] = []
        for spec in self.fields:
            keys.append(spec.key)
            keys += [key for key in (spec.length_key, spec.truncated_key) if key is not None]
        return tuple(keys)


def _name(key: str, *, optional: bool = False) -> FieldSpec:
    return FieldSpec(key, "name", optional)


def _int(key: str, *, optional: bool = False) -> FieldSpec:
    return FieldSpec(key, "int", optional)


def _bool(key: str, *, optional: bool = False) -> FieldSpec:
    return FieldSpec(key, "bool", optional)


def _text(key: str, *, optional: bool = False) -> FieldSpec:
    return FieldSpec(key, "text", optional)


COMMON_ATTRIBUTES = (
    Attr.EVENT_NAME,
    Attr.EVENT_TIMESTAMP,
    Attr.CONVERSATION_ID,
    Attr.APP_VERSION,
    Attr.AUTH_MODE,
    Attr.ACCOUNT_ID,
    Attr.ACCOUNT_EMAIL,
    Attr.ORIGINATOR,
    Attr.TERMINAL_TYPE,
    Attr.MODEL,
    Attr.SLUG,
    Attr.EVENT_SEQUENCE,
    Attr.TURN_ID,
)
"""On every event: `user.account_id`, `user.email`, `auth_mode` and `turn.id` when known."""

AUTH_ENV_FIELDS = (
    _bool(Attr.AUTH_ENV_OPENAI_API_KEY_PRESENT),
    _bool(Attr.AUTH_ENV_CODEX_API_KEY_PRESENT),
    _bool(Attr.AUTH_ENV_CODEX_API_KEY_ENABLED),
    _name(Attr.AUTH_ENV_PROVIDER_KEY_NAME, optional=True),
    _bool(Attr.AUTH_ENV_PROVIDER_KEY_PRESENT, optional=True),
    _bool(Attr.AUTH_ENV_REFRESH_TOKEN_URL_OVERRIDE_PRESENT),
)
"""Which credentials the environment holds (presence only), on conversation starts and
requests."""

# What the response said of an authentication: its request id, `cf-ray`, the error.
_AUTH_RESPONSE = (
    _name(Attr.AUTH_REQUEST_ID, optional=True),
    _name(Attr.AUTH_CF_RAY, optional=True),
    _text(Attr.AUTH_ERROR, optional=True),
    _name(Attr.AUTH_ERROR_CODE, optional=True),
)
_AUTH_REQUEST = (
    _bool(Attr.AUTH_HEADER_ATTACHED),
    _name(Attr.AUTH_HEADER_NAME, optional=True),
    _bool(Attr.AUTH_RETRY_AFTER_UNAUTHORIZED),
    _name(Attr.AUTH_RECOVERY_MODE, optional=True),
    _name(Attr.AUTH_RECOVERY_PHASE, optional=True),
    _name(Attr.ENDPOINT),
    *AUTH_ENV_FIELDS,
    *_AUTH_RESPONSE,
)
"""How a request or connection was authenticated: `auth.header_attached` and
`auth.retry_after_unauthorized` are sent even when false."""

# The plugin or connector an install prompt is about.
_PLUGIN_TOOL = (
    _name(Attr.PLUGIN_TOOL_TYPE),
    _name(Attr.PLUGIN_TOOL_ID),
    _name(Attr.PLUGIN_TOOL_NAME),
)

_EVENTS = (
    EventSpec(
        Event.CONVERSATION_STARTS,
        "a conversation (thread) starts",
        (
            _name(Attr.PROVIDER_NAME),
            _name(Attr.REASONING_EFFORT, optional=True),
            _name(Attr.REASONING_SUMMARY),
            _int(Attr.CONTEXT_WINDOW, optional=True),
            _int(Attr.MAX_OUTPUT_TOKENS, optional=True),
            _int(Attr.AUTO_COMPACT_TOKEN_LIMIT, optional=True),
            _name(Attr.APPROVAL_POLICY),
            _name(Attr.SANDBOX_POLICY),
            _name(Attr.MCP_SERVERS),
            _name(Attr.ACTIVE_PROFILE, optional=True),
            *AUTH_ENV_FIELDS,
        ),
        (MetricName.CONVERSATION_STARTS, MetricName.THREAD_STARTED),
    ),
    EventSpec(
        Event.API_REQUEST,
        "each HTTP request to the model API (each attempt; the first is 0)",
        (
            _int(Attr.ATTEMPT),
            _int(Attr.DURATION_MS),
            _int(Attr.HTTP_STATUS_CODE, optional=True),
            _text(Attr.ERROR_MESSAGE, optional=True),
            _name(Attr.CF_RAY, optional=True),
            *_AUTH_REQUEST,
        ),
        (
            MetricName.API_REQUEST,
            MetricName.API_REQUEST_DURATION,
            MetricName.GEN_AI_OPERATION_DURATION,
        ),
    ),
    EventSpec(
        Event.SSE_EVENT,
        "each server-sent event of a response stream; its completion with the token usage",
        (
            _name(Attr.EVENT_KIND, optional=True),
            _int(Attr.DURATION_MS, optional=True),
            _text(Attr.ERROR_MESSAGE, optional=True),
            _int(Attr.INPUT_TOKEN_COUNT, optional=True),
            _int(Attr.OUTPUT_TOKEN_COUNT, optional=True),
            _int(Attr.CACHED_TOKEN_COUNT, optional=True),
            _int(Attr.CACHE_WRITE_TOKEN_COUNT, optional=True),
            _int(Attr.REASONING_TOKEN_COUNT, optional=True),
            _int(Attr.TOOL_TOKEN_COUNT, optional=True),
            _int(Attr.TTFT_MS, optional=True),
            _name(Attr.MODEL_REASONING_EFFORT, optional=True),
        ),
        (
            MetricName.SSE_EVENT,
            MetricName.SSE_EVENT_DURATION,
            MetricName.TOKEN_USAGE,
            MetricName.GEN_AI_TOKEN_USAGE,
        ),
    ),
    EventSpec(
        Event.USER_PROMPT,
        "a turn's user input",
        (_int(Attr.PROMPT_LENGTH), FieldSpec(Attr.PROMPT, "text")),
    ),
    EventSpec(
        Event.TOOL_DECISION,
        "who decided whether a tool call may run, and how",
        (
            _name(Attr.TOOL_NAME),
            _name(Attr.TOOL_NAMESPACE, optional=True),
            _name(Attr.CALL_ID),
            _name(Attr.DECISION),
            _name(Attr.SOURCE),
        ),
    ),
    EventSpec(
        Event.TOOL_RESULT,
        "a tool ran (or failed before it could)",
        (
            _name(Attr.TOOL_NAME),
            _name(Attr.TOOL_NAMESPACE, optional=True),
            _name(Attr.CALL_ID, optional=True),
            _text(Attr.ARGUMENTS, optional=True),
            _int(Attr.DURATION_MS),
            FieldSpec(Attr.SUCCESS, "flag"),
            _text(Attr.OUTPUT),
            _bool(Attr.OUTPUT_TRUNCATED),
            _int(Attr.ARGUMENTS_ORIGINAL_BYTES, optional=True),
            _int(Attr.OUTPUT_ORIGINAL_BYTES, optional=True),
            _name(Attr.MCP_SERVER),
            _name(Attr.MCP_SERVER_ORIGIN),
        ),
        (MetricName.TOOL_CALL, MetricName.TOOL_CALL_DURATION),
    ),
    EventSpec(
        Event.WEBSOCKET_CONNECT,
        "a Responses API WebSocket connect",
        (
            _int(Attr.DURATION_MS),
            _int(Attr.HTTP_STATUS_CODE, optional=True),
            FieldSpec(Attr.SUCCESS, "flag"),
            _text(Attr.ERROR_MESSAGE, optional=True),
            _bool(Attr.AUTH_CONNECTION_REUSED),
            *_AUTH_REQUEST,
        ),
    ),
    EventSpec(
        Event.WEBSOCKET_REQUEST,
        "each request over a Responses API WebSocket",
        (
            _int(Attr.DURATION_MS),
            FieldSpec(Attr.SUCCESS, "flag"),
            _text(Attr.ERROR_MESSAGE, optional=True),
            _bool(Attr.AUTH_CONNECTION_REUSED),
            *AUTH_ENV_FIELDS,
        ),
        (MetricName.WEBSOCKET_REQUEST, MetricName.WEBSOCKET_REQUEST_DURATION),
    ),
    EventSpec(
        Event.AUTH_RECOVERY,
        "each step of recovering from a 401",
        (
            _name(Attr.RECOVERY_AUTH_MODE),
            _name(Attr.AUTH_STEP),
            _name(Attr.AUTH_OUTCOME),
            *_AUTH_RESPONSE,
            _name(Attr.AUTH_RECOVERY_REASON, optional=True),
            _bool(Attr.AUTH_STATE_CHANGED, optional=True),
        ),
    ),
    EventSpec(
        Event.SANDBOX_OUTCOME,
        "after a sandboxed command ran (and, if it was escalated, ran again)",
        (
            _name(Attr.TOOL_NAME),
            _name(Attr.CALL_ID),
            _name(Attr.OUTCOME),
            _int(Attr.INITIAL_DURATION_MS),
            _int(Attr.ESCALATED_DURATION_MS, optional=True),
        ),
    ),
    EventSpec(
        Event.STARTUP_PHASE,
        "each coarse start-up phase",
        (
            _name(Attr.STARTUP_PHASE),
            _name(Attr.STARTUP_STATUS, optional=True),
            _int(Attr.DURATION_MS),
        ),
        (MetricName.STARTUP_PHASE_DURATION,),
    ),
    EventSpec(
        Event.TURN_TTFT,
        "a turn's first output token (by `turn()`, or the host)",
        (_int(Attr.DURATION_MS),),
        (MetricName.TURN_TTFT_DURATION,),
    ),
    EventSpec(
        Event.PLUGIN_INSTALL_ELICITATION_SENT,
        "a plugin or connector install prompt is shown",
        _PLUGIN_TOOL,
        (MetricName.PLUGIN_INSTALL_ELICITATION_SENT,),
    ),
    EventSpec(
        Event.PLUGIN_INSTALL_SUGGESTION,
        "the outcome of a plugin or connector install suggestion",
        (
            *_PLUGIN_TOOL,
            _name(Attr.PLUGIN_RESPONSE_ACTION),
            _bool(Attr.PLUGIN_USER_CONFIRMED),
            _bool(Attr.PLUGIN_COMPLETED),
        ),
        (MetricName.PLUGIN_INSTALL_SUGGESTION,),
    ),
    EventSpec(
        Event.AGENT_RESPONSE,
        "a final assistant answer, once per item id",
        (
            _name(Attr.AGENT_TYPE),
            _name(Attr.ITEM_ID),
            _name(Attr.PARENT_CONVERSATION_ID, optional=True),
            _name(Attr.PARENT_TURN_ID, optional=True),
            _name(Attr.ROOT_TURN_ID, optional=True),
            FieldSpec(
                Attr.RESPONSE,
                "text",
                cap=RESPONSE_MAX_BYTES,
                length_key=Attr.RESPONSE_LENGTH,
                truncated_key=Attr.RESPONSE_TRUNCATED,
            ),
        ),
        opt_in="log_agent_responses",
    ),
    EventSpec(
        Event.GUARDIAN_ASSESSMENT,
        "an automated review of an action finished",
        (
            _name(Attr.REVIEW_ID),
            _name(Attr.ITEM_ID, optional=True),
            _name(Attr.STATUS),
            _name(Attr.OUTCOME, optional=True),
            _name(Attr.RISK_LEVEL, optional=True),
            _name(Attr.USER_AUTHORIZATION, optional=True),
            _int(Attr.STARTED_AT_MS),
            _int(Attr.COMPLETED_AT_MS, optional=True),
            FieldSpec(
                Attr.RATIONALE,
                "text",
                optional=True,
                cap=RESPONSE_MAX_BYTES,
                length_key=Attr.RATIONALE_LENGTH,
                truncated_key=Attr.RATIONALE_TRUNCATED,
            ),
        ),
        opt_in="log_guardian_assessments",
    ),
)

EVENTS: dict[str, EventSpec] = {spec.name: spec for spec in _EVENTS}
"""Each event by name, in the order of the README's table."""

EVENT_ATTRIBUTES: dict[str, tuple[str, ...]] = {name: spec.keys for name, spec in EVENTS.items()}
"""Every attribute each event may carry besides the common ones."""

EVENT_NAMES = tuple(EVENTS)
