"""OtelEventManager: shared metadata stamping and one method per catalog event.

One class, long because the catalog is: each event method builds its fields and hands them
to the one record path (`_record`); turns and spans are opened here and kept in `_scopes`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ._config import ToolResultConfig
from ._content import ContentPolicy, cap_name, wire_safe
from ._errors import report_internal_error
from ._provider import OtelProvider
from ._scopes import (
    CHAT,
    MAX_DECISIONS,
    NO_SPAN,
    SCOPE,
    TOOL,
    TURN,
    Conversation,
    NoSpan,
    SpanScope,
    TurnScope,
    add_url_attributes,
    end_unread_chat,
    parent_context,
    reading_chat,
    tool_span_result,
)
from ._values import (
    as_text,
    cf_ray,
    clamp_int,
    duration_ms,
    elapsed_ms,
    failure,
    metric_millis,
    metric_status,
    opt_int,
    safe_str,
    status_code,
    text_parts,
)
from .catalog import (
    REDACTED,
    Attr,
    Event,
    Operation,
    SpanAttr,
    ToolDecision,
    ToolDecisionSource,
)

if TYPE_CHECKING:
    from opentelemetry.trace import SpanKind

    from ._metrics import MetricsRecorder
    from ._traces import TracesPipeline

__all__ = ["OtelEventManager", "TurnScope"]

T = TypeVar("T")
_COMPLETED = "response.completed"


def _name(value: object) -> object:
    """A name or id: text, capped (a tool name, call id, kind or policy is never free text)."""
    return cap_name(safe_str(value))


E = TypeVar("E", ToolDecision, ToolDecisionSource)
# Value (or member: they are str) -> member; the enums' own lookup costs ~0.4 µs a call.
_DECISIONS = {member.value: member for member in ToolDecision}
_SOURCES = {member.value: member for member in ToolDecisionSource}


def _member(members: dict[str, E], kind: type[E], value: object) -> E:
    """`kind(value)`, and its ValueError for an unknown value."""
    try:
        return members[value]  # type: ignore[index]
    except (KeyError, TypeError):
        return kind(value)


def _stamp(value: object) -> object:
    # Text that cannot be UTF-8 encoded is mended (see `wire_safe`).
    return wire_safe(value) if type(value) is str and not value.isascii() else value


class OtelEventManager:
    """Stamps the shared metadata on every event and emits the catalog.

    Each event is a structlog event on a logger bound with the metadata; the
    chain ends in a bridge that emits one OpenTelemetry log record. With no
    exporter every method returns before building anything.
    """

    def __init__(
        self,
        provider: OtelProvider,
        *,
        conversation_id: str,
        model: str,
        slug: str,
        account_id: str | None = None,
        auth_mode: str | None = None,
        log_user_prompt: bool | None = None,
        terminal_type: str | None = None,
        app_version: str | None = None,
        api_key: str | None = None,
        tool_result: ToolResultConfig | None = None,
        log_user_prompts: bool | None = None,
        provider_name: str | None = None,
    ) -> None:
        """`log_user_prompt` and `tool_result` default to the provider's `[otel]` settings.

        `provider_name` (e.g. `openai`) is the chat spans' `gen_ai.provider.name`; without
        it, the one `conversation_starts` records is used.

        `api_key` (for API-key auth) only feeds the metrics' hashed user id; it is not kept.
        `log_user_prompts` is the earlier name of `log_user_prompt`, still accepted.
        """
        self._provider = provider
        self._conversation_id = safe_str(conversation_id)
        self._model = safe_str(model)
        # Shared, not copied, by `with_model`: one sequence per conversation.
        self._conversation = Conversation(safe_str(provider_name))
        chosen = log_user_prompt if log_user_prompt is not None else log_user_prompts
        self._log_user_prompt = provider.log_user_prompt if chosen is None else chosen
        # Secrets scrubbed from free text (tool arguments and output, error messages, an
        # exported prompt) and tool text size capped, unless configured off.
        self._content = ContentPolicy.from_config(tool_result or provider.tool_result)
        metrics = provider.metrics
        self._metrics: MetricsRecorder | None = None
        if metrics is not None:
            self._metrics = metrics.recorder(
                conversation_id=conversation_id,
                model=model,
                auth_mode=auth_mode,
                app_version=app_version,
                account_id=account_id,
                api_key=api_key,
            )
        metadata = {
            Attr.CONVERSATION_ID: conversation_id,
            Attr.APP_VERSION: app_version,
            Attr.AUTH_MODE: auth_mode,
            Attr.ACCOUNT_ID: account_id,
            Attr.TERMINAL_TYPE: terminal_type,
            Attr.MODEL: model,
            Attr.SLUG: slug,
        }
        logger = provider.logger
        self._log: Any = None
        if logger is not None:
            # Imported here: structlog costs ~20 ms to import and exporter none never needs it.
            from ._bridge import bound_logger

            context = {
                key: _stamp(cap_name(value)) for key, value in metadata.items() if value is not None
            }
            self._log = bound_logger(logger, context, provider._direct_logs)

    def with_model(self, model: str, slug: str) -> OtelEventManager:
        """A manager for another model; this one is left unchanged."""
        # A shallow copy carries the whole state, so no attribute can be forgotten here;
        # only what depends on the model is rebound.
        clone = copy.copy(self)
        clone._model = safe_str(model)
        if self._log is not None:
            stamp = {Attr.MODEL: _stamp(cap_name(model)), Attr.SLUG: _stamp(cap_name(slug))}
            clone._log = self._log.bind(**stamp)
        if self._metrics is not None:
            clone._metrics = self._metrics.with_model(model)
        return clone

    @property
    def metadata(self) -> dict[str, object]:
        """The common fields stamped on every event (empty with no exporter)."""
        if self._log is None:
            return {}
        from structlog import get_context  # loaded already: the logger is structlog's

        return dict(get_context(self._log))

    @property
    def enabled(self) -> bool:
        return self._log is not None and self._provider.enabled

    @property
    def metrics_enabled(self) -> bool:
        """True when the event methods also record metrics."""
        return self._metrics is not None and self._provider.metrics is not None

    @property
    def tracing(self) -> bool:
        """True when the turn, request and tool methods record spans."""
        return self._provider.traces is not None

    @property
    def recording(self) -> bool:
        """True when a call records anything, events, metrics or spans; helpers skip all work
        if not."""
        return self.enabled or self.metrics_enabled or self.tracing

    # -- turns and spans -------------------------------------------------------------

    def turn(self, turn_id: str | None = None) -> TurnScope:
        """A turn, from a user prompt to the final answer: `with manager.turn() as turn_id:`
        (or `async with`). Every event recorded inside carries `turn.id` (`turn_id`, or a
        fresh UUID); with traces on it is the `invoke_agent` span, which the turn's chat and
        tool spans are children of."""
        return TurnScope(
            self._provider, self._conversation, self._conversation_id, self._model, turn_id
        )

    def chat_span(
        self, attempt: int = 1, *, method: str | None = None, url: str | None = None
    ) -> SpanScope | NoSpan:
        """A `chat {model}` span for one request attempt, current inside `with`; set its
        `outcome` to the response (a stream keeps it open until read). `headers()` gives
        the `traceparent`/`tracestate` to send. The HTTP transports use this."""
        pipeline = self._provider.traces
        if pipeline is None:
            return NO_SPAN
        try:
            end_unread_chat()
            attributes: dict[str, Any] = {
                SpanAttr.OPERATION_NAME: Operation.CHAT,
                SpanAttr.PROVIDER_NAME: self._conversation.provider_name,
                SpanAttr.REQUEST_MODEL: self._model,
            }
            if attempt > 1:
                attributes[SpanAttr.RESEND_COUNT] = int(attempt) - 1
            add_url_attributes(attributes, method, url)
            return self._span_scope(
                CHAT, pipeline, f"{Operation.CHAT} {self._model}", pipeline.client, attributes
            )
        except Exception as exc:
            report_internal_error("starting a chat span", exc)
            return NO_SPAN

    def tool_span(self, tool_name: str, call_id: str) -> SpanScope | NoSpan:
        """An `execute_tool {tool_name}` span, current inside `with`; record the tool's
        result inside it. The tool decorator uses this."""
        pipeline = self._provider.traces
        if pipeline is None:
            return NO_SPAN
        try:
            name, call = safe_str(tool_name), safe_str(call_id)
            attributes: dict[str, Any] = {
                SpanAttr.OPERATION_NAME: Operation.EXECUTE_TOOL,
                SpanAttr.TOOL_NAME: name,
                SpanAttr.TOOL_CALL_ID: call,
            }
            scope = SCOPE.get()
            decided = scope.turn.decisions.pop(call, None) if scope and scope.turn else None
            if decided is not None:
                attributes[SpanAttr.TOOL_DECISION], attributes[SpanAttr.TOOL_DECISION_SOURCE] = (
                    decided
                )
            return self._span_scope(
                TOOL, pipeline, f"{Operation.EXECUTE_TOOL} {name}", pipeline.internal, attributes
            )
        except Exception as exc:
            report_internal_error("starting a tool span", exc)
            return NO_SPAN

    def _span_scope(
        self,
        kind: str,
        pipeline: TracesPipeline,
        name: str,
        span_kind: SpanKind,
        attributes: dict[str, Any],
    ) -> SpanScope:
        parent = parent_context(pipeline)
        attributes = {key: value for key, value in attributes.items() if value is not None}
        span = pipeline.start(name, span_kind, attributes, parent)
        scope = SCOPE.get()
        return SpanScope(
            kind,
            pipeline,
            span,
            pipeline.child_context(span, parent),
            scope.turn if scope is not None else None,
            self._conversation,
        )

    def trace_headers(self) -> dict[str, str]:
        """`traceparent` and `tracestate` of the chat span in progress (inside `log_request`'s
        `fn`, say), for a request sent without the transports; empty without one."""
        scope = self._chat_scope()
        return scope.headers() if scope is not None else {}

    def _chat_scope(self) -> SpanScope | None:
        scope = SCOPE.get()
        if scope is not None and scope.owner is not None and scope.owner.kind == CHAT:
            return scope.owner
        return reading_chat()

    def end_chat(self, error: BaseException | None = None) -> None:
        """End the chat span this context's latest request left open for its stream; `error`
        marks it failed. Nothing open: nothing happens."""
        chat = reading_chat()
        if chat is not None:
            chat.end(error)

    # -- the one record path ---------------------------------------------------------

    def _record(
        self,
        event: str,
        fields: Callable[..., dict[str, Any]],
        metric: Callable[..., None] | None,
        *args: Any,
    ) -> None:
        """Hand one event to metrics (`metric(recorder, *args)`) and events (`fields(*args)`,
        stamped and emitted). A failure in either is reported once and never raised: the
        recorder's methods catch their own, this catches the rest."""
        recorder = self._metrics
        if metric is not None and recorder is not None:
            metric(recorder, *args)
        log = self._log
        if log is None:
            return
        try:
            # A None where a value was expected is left out, like an unknown optional field.
            attributes = {k: _stamp(v) for k, v in fields(*args).items() if v is not None}
            scope = SCOPE.get()
            context = None
            if scope is not None:
                context = scope.context
                if scope.turn is not None:
                    attributes[Attr.TURN_ID] = scope.turn.id
            if scope is None or scope.kind == TURN:
                chat = reading_chat()
                if chat is not None:
                    context = chat.context  # the chat whose stream is being read
            # Numbered last: an event that failed to build leaves a gap, as a lost one does.
            attributes[Attr.EVENT_SEQUENCE] = next(self._conversation.sequence)
            log.info_in(context, event, attributes)
        except Exception as exc:
            report_internal_error(f"recording {event}", exc)

    # -- codex.conversation_starts -------------------------------------------------

    def conversation_starts(
        self,
        *,
        provider_name: str,
        reasoning_effort: str | None = None,
        reasoning_summary: str,
        context_window: int | None = None,
        max_output_tokens: int | None = None,
        auto_compact_token_limit: int | None = None,
        approval_policy: str,
        sandbox_policy: str,
        mcp_servers: Iterable[str] = (),
        active_profile: str | None = None,
    ) -> None:
        def fields() -> dict[str, Any]:
            return {
                Attr.PROVIDER_NAME: _name(provider_name),
                Attr.REASONING_EFFORT: _name(reasoning_effort),
                Attr.REASONING_SUMMARY: _name(reasoning_summary),
                Attr.CONTEXT_WINDOW: opt_int(context_window),
                Attr.MAX_OUTPUT_TOKENS: opt_int(max_output_tokens),
                Attr.AUTO_COMPACT_TOKEN_LIMIT: opt_int(auto_compact_token_limit),
                Attr.APPROVAL_POLICY: _name(approval_policy),
                Attr.SANDBOX_POLICY: _name(sandbox_policy),
                Attr.MCP_SERVERS: _name(", ".join(safe_str(name) for name in mcp_servers or ())),
                Attr.ACTIVE_PROFILE: _name(active_profile),
            }

        if self._conversation.provider_name is None:
            self._conversation.provider_name = safe_str(provider_name)
        self._record(Event.CONVERSATION_STARTS, fields, _conversation_metric)

    # -- codex.api_request ---------------------------------------------------------

    def log_request(self, attempt: int, fn: Callable[[], T]) -> T:
        """Call `fn()`, record it as `codex.api_request`, return or raise what it did.

        With traces on, the call is a `chat {model}` span (see `chat_span`)."""
        with self.chat_span(attempt) as chat:
            start = time.perf_counter_ns()
            try:
                response = fn()
            except BaseException as exc:
                # An interruption too, by the rule of `failure`, then re-raised unchanged.
                self._record_request(attempt, elapsed_ms(start), failure(exc), True)
                raise
            self._record_request(attempt, elapsed_ms(start), response, False)
            chat.outcome = response
        return response

    async def alog_request(self, attempt: int, fn: Callable[[], Awaitable[T]]) -> T:
        """`log_request` for a coroutine function."""
        with self.chat_span(attempt) as chat:
            start = time.perf_counter_ns()
            try:
                response = await fn()
            except BaseException as exc:
                # An interruption too, by the rule of `failure`, then re-raised unchanged.
                self._record_request(attempt, elapsed_ms(start), failure(exc), True)
                raise
            self._record_request(attempt, elapsed_ms(start), response, False)
            chat.outcome = response
        return response

    def _record_request(self, attempt: int, millis: int, outcome: object, failed: bool) -> None:
        self._record(
            Event.API_REQUEST,
            self._request_fields,
            _request_metric,
            attempt,
            millis,
            outcome,
            failed,
        )

    def api_request(
        self,
        attempt: int,
        duration: timedelta | float,
        *,
        status_code: int | None = None,
        error: str | None = None,
        cf_ray: str | None = None,
    ) -> None:
        """Record an HTTP call timed elsewhere (the helpers in `codex_otel.instrument`)."""
        if self._log is None and self._metrics is None:
            return

        def fields() -> dict[str, Any]:
            return {
                Attr.ATTEMPT: opt_int(attempt),
                Attr.DURATION_MS: duration_ms(duration),
                Attr.HTTP_STATUS_CODE: opt_int(status_code),
                Attr.ERROR_MESSAGE: self._content.scrub_field(safe_str(error)),
                Attr.CF_RAY: _name(cf_ray),
            }

        def metric(recorder: MetricsRecorder) -> None:
            recorder.api_request(metric_millis(duration), status_code, error is None)

        self._record(Event.API_REQUEST, fields, metric)

    # -- codex.sse_event -----------------------------------------------------------

    def sse_event(self, kind: str, duration: timedelta | float) -> None:
        self._record(Event.SSE_EVENT, self._sse_fields, _sse_metric, kind, duration, None, False)

    def sse_event_failed(
        self, kind: str | None, duration: timedelta | float, error: object
    ) -> None:
        self._record(Event.SSE_EVENT, self._sse_fields, _sse_metric, kind, duration, error, True)

    def sse_event_completed(
        self,
        *,
        input_token_count: int,
        output_token_count: int,
        cached_token_count: int | None = None,
        reasoning_token_count: int | None = None,
        tool_token_count: int,
        response_id: str | None = None,
        response_model: str | None = None,
        cache_creation_token_count: int | None = None,
    ) -> None:
        """The completion's token usage. With traces on, the usage (and the response's id
        and model) also go on the chat span being read and into the turn's totals.

        `cache_creation_token_count` is Anthropic's `cache_creation_input_tokens`: given, it
        says `input_token_count` leaves cached input out (Anthropic's usage does), and the
        spans' `gen_ai.usage.input_tokens` adds the cache reads and writes back in."""
        if self._provider.traces is not None:
            self._chat_completed(
                input_token_count,
                output_token_count,
                cached_token_count,
                reasoning_token_count,
                tool_token_count,
                response_id,
                response_model,
                cache_creation_token_count,
            )
        if self._log is None and self._metrics is None:
            return

        def fields() -> dict[str, Any]:
            return {
                Attr.EVENT_KIND: _COMPLETED,
                Attr.INPUT_TOKEN_COUNT: opt_int(input_token_count),
                Attr.OUTPUT_TOKEN_COUNT: opt_int(output_token_count),
                Attr.CACHED_TOKEN_COUNT: opt_int(cached_token_count),
                Attr.REASONING_TOKEN_COUNT: opt_int(reasoning_token_count),
                Attr.TOOL_TOKEN_COUNT: opt_int(tool_token_count),
            }

        def metric(recorder: MetricsRecorder) -> None:
            # Token usage only: the completion event itself is counted (and timed) by the
            # `sse_event` of its wait, as the SSE wrapper records it; counting it here too
            # would double every completion on a dashboard.
            recorder.token_usage(
                input=input_token_count,
                output=output_token_count,
                cached_input=cached_token_count,
                reasoning_output=reasoning_token_count,
            )

        self._record(Event.SSE_EVENT, fields, metric)

    def _chat_completed(
        self,
        input_tokens: int,
        output_tokens: int,
        cached: int | None,
        reasoning: int | None,
        total: int,
        response_id: str | None,
        response_model: str | None,
        cache_creation: int | None,
    ) -> None:
        try:
            input_total = int(input_tokens)
            if cache_creation is not None:  # GenAI's input tokens include cached ones
                input_total += int(cache_creation) + int(cached or 0)
            given = {
                SpanAttr.INPUT_TOKENS: input_total,
                SpanAttr.OUTPUT_TOKENS: int(output_tokens),
                SpanAttr.CACHE_READ_INPUT_TOKENS: opt_int(cached),
                SpanAttr.CACHE_CREATION_INPUT_TOKENS: opt_int(cache_creation),
                SpanAttr.REASONING_OUTPUT_TOKENS: opt_int(reasoning),
                # Codex's total: the response's own (`tool_token_count` in the event).
                SpanAttr.TOTAL_TOKENS: int(total),
            }
            usage = {key: value for key, value in given.items() if value is not None}
            chat = self._chat_scope()
            if chat is not None:
                response = {
                    SpanAttr.RESPONSE_ID: safe_str(response_id),
                    SpanAttr.RESPONSE_MODEL: safe_str(response_model),
                }
                chat.span.set_attributes(
                    {**usage, **{k: v for k, v in response.items() if v is not None}}
                )
            scope = SCOPE.get()
            turn = scope.turn if scope is not None else (chat.turn if chat else None)
            if turn is not None:
                for key, value in usage.items():
                    turn.usage[key] = turn.usage.get(key, 0) + value
        except Exception as exc:
            report_internal_error("recording a completion's usage on its spans", exc)

    def sse_event_completed_failed(self, error: object) -> None:
        def fields() -> dict[str, Any]:
            return {
                Attr.EVENT_KIND: _COMPLETED,
                Attr.ERROR_MESSAGE: self._content.scrub_field(safe_str(error)),
            }

        # No metric: the completion was counted by the `sse_event` of its wait.
        self._record(Event.SSE_EVENT, fields, None)

    # -- codex.user_prompt ---------------------------------------------------------

    def user_prompt(self, items: Iterable[str | Mapping[str, Any]]) -> None:
        """Record a turn's input: only text items count; the text is redacted unless opted in."""

        def fields() -> dict[str, Any]:
            prompt = "".join(text_parts(items or ()))
            return {
                Attr.PROMPT_LENGTH: len(prompt),
                Attr.PROMPT: self._content.prompt(prompt) if self._log_user_prompt else REDACTED,
            }

        self._record(Event.USER_PROMPT, fields, None)

    # -- codex.tool_decision -------------------------------------------------------

    def tool_decision(
        self,
        tool_name: str,
        call_id: str,
        decision: ToolDecision | str,
        source: ToolDecisionSource | str,
    ) -> None:
        """Record who decided whether a tool call may run. Unknown values raise ValueError."""
        # Validated even when disabled: a wrong value is a bug in the caller's code.
        decided = _member(_DECISIONS, ToolDecision, decision)
        by = _member(_SOURCES, ToolDecisionSource, source)
        if self._provider.traces is not None:
            self._decided(safe_str(call_id), decided.value, by.value)
        if self._log is None:  # no metric for decisions
            return

        def fields() -> dict[str, Any]:
            return {
                Attr.TOOL_NAME: _name(tool_name),
                Attr.CALL_ID: _name(call_id),
                Attr.DECISION: decided.value,
                Attr.SOURCE: by.value,
            }

        self._record(Event.TOOL_DECISION, fields, None)

    @staticmethod
    def _decided(call_id: str, decision: str, source: str) -> None:
        """On the tool span it was taken in, or kept for the turn's tool span of that call."""
        scope = SCOPE.get()
        if scope is None:
            return
        try:
            if scope.kind == TOOL and scope.span is not None:
                scope.span.set_attributes(
                    {SpanAttr.TOOL_DECISION: decision, SpanAttr.TOOL_DECISION_SOURCE: source}
                )
            elif scope.turn is not None and len(scope.turn.decisions) < MAX_DECISIONS:
                scope.turn.decisions[call_id] = (decision, source)
        except Exception as exc:
            report_internal_error("recording a decision on its span", exc)

    # -- codex.tool_result ---------------------------------------------------------

    def log_tool_result(
        self, tool_name: str, call_id: str, arguments: object, fn: Callable[[], T]
    ) -> T:
        """Run a tool, record `codex.tool_result`, return or raise what it did.

        With traces on, the run is an `execute_tool {tool_name}` span."""
        with self.tool_span(tool_name, call_id):
            start = time.perf_counter_ns()
            try:
                output = fn()
            except BaseException as exc:
                # An interruption too, by the rule of `failure`, then re-raised unchanged.
                failed = failure(exc)
                self._record_tool(tool_name, call_id, arguments, elapsed_ms(start), False, failed)
                raise
            self._record_tool(tool_name, call_id, arguments, elapsed_ms(start), True, output)
        return output

    async def alog_tool_result(
        self, tool_name: str, call_id: str, arguments: object, fn: Callable[[], Awaitable[T]]
    ) -> T:
        """`log_tool_result` for a coroutine function."""
        with self.tool_span(tool_name, call_id):
            start = time.perf_counter_ns()
            try:
                output = await fn()
            except BaseException as exc:
                # An interruption too, by the rule of `failure`, then re-raised unchanged.
                failed = failure(exc)
                self._record_tool(tool_name, call_id, arguments, elapsed_ms(start), False, failed)
                raise
            self._record_tool(tool_name, call_id, arguments, elapsed_ms(start), True, output)
        return output

    def tool_failed(self, tool_name: str, error: object) -> None:
        """A tool that failed before it could run: duration 0, success false, no call id."""

        def fields() -> dict[str, Any]:
            output_text, output_bytes = self._content.apply(as_text(safe_str(error)))
            return {
                Attr.TOOL_NAME: _name(tool_name),
                Attr.DURATION_MS: 0,
                Attr.SUCCESS: "false",
                Attr.OUTPUT: output_text,
                Attr.OUTPUT_ORIGINAL_BYTES: output_bytes,
            }

        def metric(recorder: MetricsRecorder) -> None:
            # It never ran, so it is counted but kept out of the duration histogram.
            recorder.tool_call(safe_str(tool_name), None, False)

        self._record(Event.TOOL_RESULT, fields, metric)

    # The earlier name: `log_*` otherwise means "run and time", which this does not.
    log_tool_failed = tool_failed

    def tool_result(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        duration: timedelta | float,
        success: bool,
        output: object,
    ) -> None:
        """Record a tool execution timed elsewhere."""
        if self._log is None and self._metrics is None:
            return
        try:
            millis = duration_ms(duration)
        except Exception as exc:
            report_internal_error(f"recording {Event.TOOL_RESULT}", exc)
            return
        self._record_tool(tool_name, call_id, arguments, millis, success, output)

    def _record_tool(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        millis: int,
        success: bool,
        output: object,
    ) -> None:
        scope = SCOPE.get()
        if scope is not None and scope.kind == TOOL and scope.span is not None:
            # As text once, for the span's lengths and the event's fields alike.
            arguments, output = tool_span_result(scope.span, arguments, success, output)
        self._record(
            Event.TOOL_RESULT,
            self._tool_fields,
            _tool_metric,
            tool_name,
            call_id,
            arguments,
            millis,
            success,
            output,
        )

    def _request_fields(
        self, attempt: int, millis: int, outcome: object, failed: bool
    ) -> dict[str, Any]:
        status = status_code(outcome)
        fields: dict[str, Any] = {
            Attr.ATTEMPT: opt_int(attempt),
            Attr.DURATION_MS: millis,
            Attr.HTTP_STATUS_CODE: None if status is None else clamp_int(status),
        }
        if failed:
            fields[Attr.ERROR_MESSAGE] = self._content.scrub_field(safe_str(outcome))
        else:
            fields[Attr.CF_RAY] = _name(cf_ray(outcome))
        return fields

    def _sse_fields(
        self, kind: str | None, duration: timedelta | float, error: object, failed: bool
    ) -> dict[str, Any]:
        return {
            Attr.EVENT_KIND: _name(kind),
            Attr.DURATION_MS: duration_ms(duration),
            Attr.ERROR_MESSAGE: self._content.scrub_field(safe_str(error)) if failed else None,
        }

    def _tool_fields(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        millis: int,
        success: bool,
        output: object,
    ) -> dict[str, Any]:
        args_text, args_bytes = self._content.apply(as_text(arguments))
        text = safe_str(output) if isinstance(output, BaseException) else as_text(output)
        output_text, output_bytes = self._content.apply(text)
        return {
            Attr.TOOL_NAME: _name(tool_name),
            Attr.CALL_ID: _name(call_id),
            Attr.ARGUMENTS: args_text,
            Attr.DURATION_MS: millis,
            Attr.SUCCESS: "true" if success else "false",
            Attr.OUTPUT: output_text,
            # Only when cut (None is left out).
            Attr.ARGUMENTS_ORIGINAL_BYTES: args_bytes,
            Attr.OUTPUT_ORIGINAL_BYTES: output_bytes,
        }

    def __repr__(self) -> str:
        return f"OtelEventManager(metadata={self.metadata!r}, enabled={self.enabled})"


# Metric calls shared by several methods, as plain functions: the record path calls them with
# the method's own arguments, so no closure is built per event.


def _conversation_metric(recorder: MetricsRecorder) -> None:
    recorder.conversation_start()


def _request_metric(
    recorder: MetricsRecorder, attempt: int, millis: int, outcome: object, failed: bool
) -> None:
    recorder.api_request(millis, metric_status(outcome), not failed)


def _sse_metric(
    recorder: MetricsRecorder,
    kind: str | None,
    duration: timedelta | float,
    error: object,
    failed: bool,
) -> None:
    recorder.sse_event(kind, metric_millis(duration), not failed)


def _tool_metric(
    recorder: MetricsRecorder,
    tool_name: str,
    call_id: str,
    arguments: object,
    millis: int,
    success: bool,
    output: object,
) -> None:
    recorder.tool_call(safe_str(tool_name), millis, bool(success))
