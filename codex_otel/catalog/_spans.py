"""Span names and span attribute keys: the OpenTelemetry GenAI and HTTP semantic
conventions, with Codex's own facts under `codex.*`.

Spans never carry content (prompt, tool arguments or output) nor the account id.
"""

from __future__ import annotations

__all__ = ["AGENT_NAME", "SPAN_ATTRIBUTES", "Operation", "SpanAttr"]

# `gen_ai.agent.name` of the turn span, and the `{agent}` in its name.
AGENT_NAME = "codex"


class Operation:
    """`gen_ai.operation.name` of each span; the span's name is `{operation} {subject}`."""

    INVOKE_AGENT = "invoke_agent"
    CHAT = "chat"
    EXECUTE_TOOL = "execute_tool"


class SpanAttr:
    """Span attribute keys."""

    OPERATION_NAME = "gen_ai.operation.name"
    # invoke_agent
    AGENT_NAME = "gen_ai.agent.name"
    CONVERSATION_ID = "gen_ai.conversation.id"
    TURN_ID = "turn.id"
    REQUEST_MODEL = "gen_ai.request.model"
    TURN_OUTCOME = "codex.turn.outcome"  # completed, failed or interrupted
    # The turn's input items by kind, as `user_prompt` gets them (never their content).
    TEXT_INPUT_COUNT = "codex.prompt.text_input_count"
    IMAGE_INPUT_COUNT = "codex.prompt.image_input_count"
    LOCAL_IMAGE_INPUT_COUNT = "codex.prompt.local_image_input_count"
    # Token totals (the turn's at its end; a chat's when its stream completes).
    INPUT_TOKENS = "gen_ai.usage.input_tokens"
    OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
    CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
    CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
    REASONING_OUTPUT_TOKENS = "codex.usage.reasoning_output_tokens"
    TOTAL_TOKENS = "codex.usage.total_tokens"
    # chat
    PROVIDER_NAME = "gen_ai.provider.name"
    HTTP_METHOD = "http.request.method"
    SERVER_ADDRESS = "server.address"
    SERVER_PORT = "server.port"
    URL_FULL = "url.full"
    HTTP_STATUS_CODE = "http.response.status_code"
    RESEND_COUNT = "http.request.resend_count"
    RESPONSE_ID = "gen_ai.response.id"
    RESPONSE_MODEL = "gen_ai.response.model"
    # execute_tool
    TOOL_NAME = "gen_ai.tool.name"
    TOOL_CALL_ID = "gen_ai.tool.call.id"
    TOOL_DECISION = "codex.tool.decision"
    TOOL_DECISION_SOURCE = "codex.tool.decision_source"
    TOOL_SUCCESS = "codex.tool.success"
    TOOL_ARGUMENTS_LENGTH = "codex.tool.arguments_length"
    TOOL_OUTPUT_LENGTH = "codex.tool.output_length"
    TOOL_OUTPUT_LINE_COUNT = "codex.tool.output_line_count"
    TOOL_ORIGIN = "codex.tool.origin"  # `builtin` or `mcp`
    MCP_TOOL = "codex.tool.mcp_tool"  # an MCP tool's name (MCP tools only)
    # Any span whose operation failed.
    ERROR_TYPE = "error.type"


# Every attribute each span may carry (besides `[otel].span_attributes`), for docs and tests.
_USAGE = (
    SpanAttr.INPUT_TOKENS,
    SpanAttr.OUTPUT_TOKENS,
    SpanAttr.CACHE_READ_INPUT_TOKENS,
    SpanAttr.CACHE_CREATION_INPUT_TOKENS,
    SpanAttr.REASONING_OUTPUT_TOKENS,
    SpanAttr.TOTAL_TOKENS,
)
SPAN_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    Operation.INVOKE_AGENT: (
        SpanAttr.OPERATION_NAME,
        SpanAttr.AGENT_NAME,
        SpanAttr.CONVERSATION_ID,
        SpanAttr.TURN_ID,
        SpanAttr.REQUEST_MODEL,
        SpanAttr.TURN_OUTCOME,
        SpanAttr.TEXT_INPUT_COUNT,
        SpanAttr.IMAGE_INPUT_COUNT,
        SpanAttr.LOCAL_IMAGE_INPUT_COUNT,
        *_USAGE,
        SpanAttr.ERROR_TYPE,
    ),
    Operation.CHAT: (
        SpanAttr.OPERATION_NAME,
        SpanAttr.PROVIDER_NAME,
        SpanAttr.REQUEST_MODEL,
        SpanAttr.HTTP_METHOD,
        SpanAttr.SERVER_ADDRESS,
        SpanAttr.SERVER_PORT,
        SpanAttr.URL_FULL,
        SpanAttr.HTTP_STATUS_CODE,
        SpanAttr.RESEND_COUNT,
        SpanAttr.RESPONSE_ID,
        SpanAttr.RESPONSE_MODEL,
        *_USAGE,
        SpanAttr.ERROR_TYPE,
    ),
    Operation.EXECUTE_TOOL: (
        SpanAttr.OPERATION_NAME,
        SpanAttr.TOOL_NAME,
        SpanAttr.TOOL_CALL_ID,
        SpanAttr.TOOL_DECISION,
        SpanAttr.TOOL_DECISION_SOURCE,
        SpanAttr.TOOL_SUCCESS,
        SpanAttr.TOOL_ARGUMENTS_LENGTH,
        SpanAttr.TOOL_OUTPUT_LENGTH,
        SpanAttr.TOOL_OUTPUT_LINE_COUNT,
        SpanAttr.TOOL_ORIGIN,
        SpanAttr.MCP_TOOL,
        SpanAttr.ERROR_TYPE,
    ),
}
