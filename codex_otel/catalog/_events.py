"""Event names, attribute keys and the value sets, spelled once.

What each event carries (its fields, their types and caps, its metric) is declared beside
these, in `_event_specs`; the event methods and the tests both read them.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "REDACTED",
    "SECRET_MARKER",
    "TRUNCATED_MARKER",
    "AgentType",
    "Attr",
    "Event",
    "GuardianOutcome",
    "RiskLevel",
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
    # Codex's newer events.
    WEBSOCKET_CONNECT = "codex.websocket_connect"
    WEBSOCKET_REQUEST = "codex.websocket_request"
    AUTH_RECOVERY = "codex.auth_recovery"
    SANDBOX_OUTCOME = "codex.sandbox_outcome"
    STARTUP_PHASE = "codex.startup_phase"
    TURN_TTFT = "codex.turn_ttft"
    PLUGIN_INSTALL_ELICITATION_SENT = "codex.plugin_install_elicitation_sent"
    PLUGIN_INSTALL_SUGGESTION = "codex.plugin_install_suggestion"
    # Opt-in: content (`log_agent_responses`, `log_guardian_assessments`).
    AGENT_RESPONSE = "codex.agent_response"
    GUARDIAN_ASSESSMENT = "codex.guardian_assessment"


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
    ORIGINATOR = "originator"  # the client, e.g. `codex_cli_rs`
    ACCOUNT_EMAIL = "user.email"  # when known and given
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
    # Whether each credential is present in the environment: never its value.
    AUTH_ENV_OPENAI_API_KEY_PRESENT = "auth.env_openai_api_key_present"
    AUTH_ENV_CODEX_API_KEY_PRESENT = "auth.env_codex_api_key_present"
    AUTH_ENV_CODEX_API_KEY_ENABLED = "auth.env_codex_api_key_enabled"
    AUTH_ENV_PROVIDER_KEY_NAME = "auth.env_provider_key_name"
    AUTH_ENV_PROVIDER_KEY_PRESENT = "auth.env_provider_key_present"
    AUTH_ENV_REFRESH_TOKEN_URL_OVERRIDE_PRESENT = "auth.env_refresh_token_url_override_present"
    # codex.api_request
    ATTEMPT = "attempt"
    DURATION_MS = "duration_ms"
    HTTP_STATUS_CODE = "http.response.status_code"
    ERROR_MESSAGE = "error.message"
    CF_RAY = "cf_ray"  # the seed's name; `auth.cf_ray` is upstream's, both are sent
    ENDPOINT = "endpoint"  # the API path, e.g. `/responses`
    # How the request was authenticated (names and outcomes, never a credential).
    AUTH_HEADER_ATTACHED = "auth.header_attached"
    AUTH_HEADER_NAME = "auth.header_name"
    AUTH_RETRY_AFTER_UNAUTHORIZED = "auth.retry_after_unauthorized"
    AUTH_RECOVERY_MODE = "auth.recovery_mode"
    AUTH_RECOVERY_PHASE = "auth.recovery_phase"
    AUTH_REQUEST_ID = "auth.request_id"
    AUTH_CF_RAY = "auth.cf_ray"
    AUTH_ERROR = "auth.error"
    AUTH_ERROR_CODE = "auth.error_code"
    # codex.websocket_connect / codex.websocket_request
    AUTH_CONNECTION_REUSED = "auth.connection_reused"
    # codex.auth_recovery
    RECOVERY_AUTH_MODE = "auth.mode"
    AUTH_STEP = "auth.step"
    AUTH_OUTCOME = "auth.outcome"
    AUTH_RECOVERY_REASON = "auth.recovery_reason"
    AUTH_STATE_CHANGED = "auth.state_changed"
    # codex.sse_event
    EVENT_KIND = "event.kind"
    INPUT_TOKEN_COUNT = "input_token_count"
    OUTPUT_TOKEN_COUNT = "output_token_count"
    CACHED_TOKEN_COUNT = "cached_token_count"
    REASONING_TOKEN_COUNT = "reasoning_token_count"
    TOOL_TOKEN_COUNT = "tool_token_count"
    CACHE_WRITE_TOKEN_COUNT = "cache_write_token_count"  # Anthropic's cache creation tokens
    TTFT_MS = "ttft_ms"  # the response's time to first token
    MODEL_REASONING_EFFORT = "model_reasoning_effort"
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
    TOOL_NAMESPACE = "tool_namespace"  # e.g. `functions`, or an MCP server's
    OUTPUT_TRUNCATED = "output_truncated"
    # The MCP server of a tool (empty for built-in tools) and where it was configured.
    MCP_SERVER = "mcp_server"
    MCP_SERVER_ORIGIN = "mcp_server_origin"
    # codex.sandbox_outcome
    OUTCOME = "outcome"
    INITIAL_DURATION_MS = "initial_duration_ms"
    ESCALATED_DURATION_MS = "escalated_duration_ms"
    # codex.startup_phase
    STARTUP_PHASE = "startup.phase"
    STARTUP_STATUS = "startup.status"
    # codex.plugin_install_*
    PLUGIN_TOOL_TYPE = "plugin_install.tool_type"
    PLUGIN_TOOL_ID = "plugin_install.tool_id"
    PLUGIN_TOOL_NAME = "plugin_install.tool_name"
    PLUGIN_RESPONSE_ACTION = "plugin_install.response_action"
    PLUGIN_USER_CONFIRMED = "plugin_install.user_confirmed"
    PLUGIN_COMPLETED = "plugin_install.completed"
    # codex.agent_response
    AGENT_TYPE = "agent.type"
    ITEM_ID = "item.id"
    PARENT_CONVERSATION_ID = "parent.conversation.id"
    PARENT_TURN_ID = "parent.turn.id"
    ROOT_TURN_ID = "root.turn.id"
    RESPONSE = "response"
    RESPONSE_LENGTH = "response_length"
    RESPONSE_TRUNCATED = "response_truncated"
    # codex.guardian_assessment
    REVIEW_ID = "review.id"
    STATUS = "status"
    RISK_LEVEL = "risk_level"
    USER_AUTHORIZATION = "user_authorization"
    STARTED_AT_MS = "started_at_ms"
    COMPLETED_AT_MS = "completed_at_ms"
    RATIONALE = "rationale"
    RATIONALE_LENGTH = "rationale_length"
    RATIONALE_TRUNCATED = "rationale_truncated"


class ToolDecision(str, Enum):
    """How a tool call was decided: Codex's review decisions, lower-cased. The set is open:
    `tool_decision` records another decision too, lower-cased."""

    APPROVED = "approved"
    APPROVED_FOR_SESSION = "approved_for_session"
    APPROVED_EXECPOLICY_AMENDMENT = "approved_execpolicy_amendment"
    NETWORK_POLICY_AMENDMENT = "network_policy_amendment"
    DENIED = "denied"
    ABORT = "abort"
    TIMED_OUT = "timed_out"


class ToolDecisionSource(str, Enum):
    """Who decided: the configuration, the user, or the automated reviewer. The values are
    as the Codex binary sends them (`Config`, `User`); the lower-case and snake_case
    spellings (`config`, `automated_reviewer`) are accepted too."""

    CONFIG = "Config"
    USER = "User"
    AUTOMATED_REVIEWER = "AutomatedReviewer"

    @classmethod
    def _missing_(cls, value: object) -> ToolDecisionSource | None:
        if isinstance(value, str):
            spelled = value.replace("_", "").lower()
            for member in cls:
                if member.value.lower() == spelled:
                    return member
        return None


class AgentType(str, Enum):
    """`agent.type` of `codex.agent_response`."""

    MAIN = "main"
    SUBAGENT = "subagent"


class GuardianOutcome(str, Enum):
    """`outcome` of a completed `codex.guardian_assessment` (absent for errors and timeouts)."""

    ALLOW = "allow"
    DENY = "deny"


class RiskLevel(str, Enum):
    """`risk_level` of `codex.guardian_assessment`."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
