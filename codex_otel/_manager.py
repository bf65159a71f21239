"""OtelEventManager: shared metadata stamping, the one record path, and the seed's events.

Each event method builds its fields and hands them to the one record path (`_record`);
turns and spans are opened here and kept in `_scopes`. The catalog's newer events are
`_manager_events` (thin methods over the declarations of `catalog.EVENTS`), a turn's clock
is `_manager_turns`.
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
from ._event_fields import NO_REQUEST_AUTH, AuthEnv, RequestAuth, build_fields
from ._manager_events import NewerEvents
from ._manager_turns import TURN_CLOCK, MeasuredTurn, TurnClock, first_message, first_token
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
    prompt_span_counts,
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
    request_facts,
    safe_str,
    status_code,
    text_parts,
)
from .catalog import (
    EVENTS,
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

    from ._metrics import MetricsRecorder, ShellFacts
    from ._traces import TracesPipeline

__all__ = ["OtelEventManager", "TurnScope"]

T = TypeVar("T")
_COMPLETED = "response.completed"


def _name(value: object) -> object:
    """A name or id: text, capped (a tool name, call id, kind or policy is never free text)."""
    return cap_name(safe_str(value))


# Value (or member: they are str) -> what is sent; the enums' own lookup costs ~0.4 µs a call.
_DECISIONS: dict[object, str] = {member.value: member.value for member in ToolDecision}
# Every spelling a host may use (`User`, `user`, `AutomatedReviewer`, `automated_reviewer`).
_SOURCES: dict[object, ToolDecisionSource] = {}
for _member in ToolDecisionSource:
    _snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in _member.value).lstrip("_")
    for _spelling in (_member, _member.value, _member.value.lower(), _snake, _snake.upper()):
        _SOURCES[_spelling] = _member


def _decision(value: object) -> str:
    """The decision as sent: a known one as it is; another (the set is open, as Codex's
    review decisions grow) lower-cased. Anything but text raises ValueError."""
    try:
        return _DECISIONS[value]
    except (KeyError, TypeError):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{value!r} is not a tool decision") from None
        return str(cap_name(value.strip().lower()))


_SPAN_SOURCES = {
    ToolDecisionSource.CONFIG: "config",
    ToolDecisionSource.USER: "user",
    ToolDecisionSource.AUTOMATED_REVIEWER: "automated_reviewer",
}


def _source(value: object) -> ToolDecisionSource:
    """`ToolDecisionSource(value)` (any casing), and its ValueError for an unknown value."""
    try:
        return _SOURCES[value]
    except (KeyError, TypeError):
        return ToolDecisionSource(value)


def _error_type(outcome: object) -> str | None:
    """`error.type` of a failed request: its status code, else the exception's class."""
    status = status_code(outcome)
    if status is not None and status >= 400:
        return str(status)
    if isinstance(outcome, BaseException):
        return type(outcome).__qualname__
    return None if status is not None else "error"


def _stamp(value: object) -> object:
    # Text that cannot be UTF-8 encoded is mended (see `wire_safe`).
    return wire_safe(value) if type(value) is str and not value.isascii() else value


class OtelEventManager(NewerEvents):
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
        originator: str | None = None,
        account_email: str | None = None,
        session_source: str | None = None,
        auth_env: AuthEnv | None = None,
        log_agent_responses: bool | None = None,
        log_guardian_assessments: bool | None = None,
    ) -> None:
        """`log_user_prompt`, `log_agent_responses`, `log_guardian_assessments` and
        `tool_result` default to the provider's `[otel]` settings.

        `originator` is the client (Codex's `codex_cli_rs`, `codex_exec`, …) on every event
        and metric point; it defaults to the provider's (its `service.name`).
        `session_source` (`cli`, `exec`, `vscode`, …; default `unknown`) tags every metric
        point. `account_email` is stamped as `user.email` (events only). `auth_env` (e.g.
        `AuthEnv.from_environ("OPENAI_API_KEY")`) says which credentials the environment
        holds, on conversation starts and requests (presence only, never a value).

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
        self._log_agent_responses = (
            provider.log_agent_responses if log_agent_responses is None else log_agent_responses
        )
        self._log_guardian_assessments = (
            provider.log_guardian_assessments
            if log_guardian_assessments is None
            else log_guardian_assessments
        )
        # Presence only, read once; as Codex, `auth.env_*` are on every start and request.
        self._auth_env = auth_env if auth_env is not None else AuthEnv.from_environ()
        self._auth_env_fields = self._auth_env.fields()
        originator = safe_str(originator) or provider.originator
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
                originator=originator,
                session_source=session_source or "unknown",
                service_name=provider.configured_service_name,
            )
        metadata = {
            Attr.CONVERSATION_ID: conversation_id,
            Attr.APP_VERSION: app_version,
            Attr.AUTH_MODE: auth_mode,
            Attr.ACCOUNT_ID: account_id,
            Attr.ACCOUNT_EMAIL: account_email,
            Attr.ORIGINATOR: originator,
            Attr.TERMINAL_TYPE: terminal_type,
            Attr.MODEL: model,
            Attr.SLUG: slug,
        }
        logger = provider.logger
        self._silent = logger is None and self._metrics is None
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
        tool spans are children of.

        With events or metrics on, the turn is timed: its first output token records
        `codex.turn_ttft` (and `codex.turn.ttft.duration_ms`), its end the turn metrics
        (`codex.turn.e2e_duration_ms`, `.ttfm.duration_ms`, `codex.turn.token_usage` once
        per token type, `codex.turn.tool.call`, `codex.conversation.turn.count`)."""
        args = (self._provider, self._conversation, self._conversation_id, self._model, turn_id)
        if self._log is None and self._metrics is None:
            return TurnScope(*args)
        return MeasuredTurn(self._turn_ended, *args)

    def _turn_ended(self, clock: TurnClock) -> None:
        recorder = self._metrics
        if recorder is not None:
            now = time.perf_counter_ns()
            recorder.turn_ended(
                clock.millis_since_start(now),
                clock.millis_since_start(clock.first_message_ns),
                clock.tool_calls,
                clock.usage if clock.responses else None,
            )

    def _output_seen(self, clock: TurnClock, kind: object) -> None:
        """A stream event of `kind` in the turn of `clock`: its first token and message."""
        if clock.first_token_ns is None and first_token(kind):
            clock.first_token_ns = time.perf_counter_ns()
            self.turn_ttft(
                timedelta(milliseconds=clock.millis_since_start(clock.first_token_ns) or 0)
            )
        if clock.first_message_ns is None and first_message(kind):
            clock.first_message_ns = time.perf_counter_ns()

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
                if scope.turn is not None and Attr.TURN_ID not in attributes:
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

    def _emit(
        self,
        event: str | None,
        values: Mapping[str, Any],
        metric: Callable[..., None] | None = None,
        *args: Any,
    ) -> None:
        """The record path of the events declared in `catalog.EVENTS`: `values` by attribute
        key, sent as the declaration says (`_event_fields`)."""
        if event is None:
            if metric is not None and self._metrics is not None:
                metric(self._metrics, *args)
            return
        if self._log is None and self._metrics is None:
            return

        def fields(*_: Any) -> dict[str, Any]:  # the metric's arguments, not needed here
            turn_id = values.get(Attr.TURN_ID)
            declared = {key: value for key, value in values.items() if key != Attr.TURN_ID}
            built = build_fields(EVENTS[event], declared, self._content)
            if turn_id is not None:
                built[Attr.TURN_ID] = _name(turn_id)
            return built

        self._record(event, fields, metric, *args)

    def _first_response(self, item_id: str) -> bool:
        """Whether the final answer `item_id` is new in its turn (always, outside one)."""
        clock = TURN_CLOCK.get()
        if clock is None:
            return True
        if clock.first_message_ns is None:
            clock.first_message_ns = time.perf_counter_ns()
        if item_id in clock.answered:
            return False
        clock.answered.add(item_id)
        return True

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
        is_git: bool | None = None,
        is_worktree: bool | None = None,
    ) -> None:
        """A conversation (thread) starts. `is_git`/`is_worktree` (whether its folder is a
        git repository, a worktree) tag `codex.thread.started`."""

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
                **self._auth_fields(),
            }

        if self._conversation.provider_name is None:
            self._conversation.provider_name = safe_str(provider_name)

        def metric(recorder: MetricsRecorder) -> None:
            recorder.conversation_start()
            recorder.thread_started(is_git, is_worktree)

        self._record(Event.CONVERSATION_STARTS, fields, metric)

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
            self._conversation.provider_name,
            self._model,
        )

    def api_request(
        self,
        attempt: int,
        duration: timedelta | float,
        *,
        status_code: int | None = None,
        error: str | None = None,
        cf_ray: str | None = None,
        response: object = None,
        request: object = None,
        endpoint: str | None = None,
        auth: RequestAuth | None = None,
    ) -> None:
        """Record an HTTP call timed elsewhere (the helpers in `codex_otel.instrument`).

        `attempt` is 1 for the first try; the event says 0, as Codex numbers them. The
        endpoint, the credential header's name and the request id are read from `request`
        and `response` (the response, or the error) unless given (`endpoint`, `auth`); the
        credential itself never is."""
        if self._log is None and self._metrics is None:
            return

        def fields() -> dict[str, Any]:
            path, header, response_id = request_facts(response, request)
            given = auth or NO_REQUEST_AUTH
            ray = _name(cf_ray)
            return {
                Attr.ATTEMPT: _codex_attempt(attempt),
                Attr.DURATION_MS: duration_ms(duration),
                Attr.HTTP_STATUS_CODE: opt_int(status_code),
                Attr.ERROR_MESSAGE: self._content.scrub_field(safe_str(error)),
                Attr.CF_RAY: ray,
                Attr.ENDPOINT: _name(endpoint or path),
                **self._auth_fields(),
                **given.fields(
                    header, response_id, ray, self._content.scrub_field(safe_str(given.error))
                ),
            }

        def metric(recorder: MetricsRecorder) -> None:
            millis = metric_millis(duration)
            recorder.api_request(millis, status_code, error is None)
            status = status_code if isinstance(status_code, int) else None
            failed = error is not None or (status is not None and status >= 400)
            error_type = (str(status) if status else "error") if failed else None
            recorder.gen_ai_duration(
                millis, self._conversation.provider_name, self._model, error_type
            )

        self._record(Event.API_REQUEST, fields, metric)

    # -- codex.sse_event -----------------------------------------------------------

    def sse_event(self, kind: str, duration: timedelta | float) -> None:
        self._record(Event.SSE_EVENT, self._sse_fields, _sse_metric, kind, duration, None, False)
        clock = TURN_CLOCK.get()
        if clock is not None and clock.first_message_ns is None:
            self._output_seen(clock, kind)

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
        ttft_ms: int | None = None,
        model_reasoning_effort: str | None = None,
    ) -> None:
        """The completion's token usage. With traces on, the usage (and the response's id
        and model) also go on the chat span being read and into the turn's totals.

        Inside `turn()` the usage is summed into the turn's `codex.turn.token_usage`, one
        point per token type at its end, as Codex records it; outside a turn it is recorded
        per response.

        `cache_creation_token_count` is Anthropic's `cache_creation_input_tokens` (Codex's
        `cache_write_token_count`, the `cache_write_input` token type): given, it says
        `input_token_count` leaves cached input out (Anthropic's usage does), and the spans'
        `gen_ai.usage.input_tokens` adds the cache reads and writes back in. `ttft_ms` (the
        response's time to its first token) and `model_reasoning_effort` are sent as Codex
        sends them, when the host knows them."""
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
                Attr.CACHE_WRITE_TOKEN_COUNT: opt_int(cache_creation_token_count),
                Attr.REASONING_TOKEN_COUNT: opt_int(reasoning_token_count),
                Attr.TOOL_TOKEN_COUNT: opt_int(tool_token_count),
                Attr.TTFT_MS: opt_int(ttft_ms),
                Attr.MODEL_REASONING_EFFORT: _name(model_reasoning_effort),
            }

        def metric(recorder: MetricsRecorder) -> None:
            # Token usage only: the completion event itself is counted (and timed) by the
            # `sse_event` of its wait, as the SSE wrapper records it; counting it here too
            # would double every completion on a dashboard.
            inputs, outputs = int(input_token_count), int(output_token_count)
            usage = {"input": inputs, "output": outputs, "total": inputs + outputs}
            for token_type, count in (
                ("cached_input", cached_token_count),
                ("cache_write_input", cache_creation_token_count),
                ("reasoning_output", reasoning_token_count),
            ):
                if count is not None:
                    usage[token_type] = int(count)
            clock = TURN_CLOCK.get()
            if clock is None:
                recorder.token_usage(usage)
            else:
                clock.responses += 1
                for token_type, count in usage.items():
                    clock.usage[token_type] = clock.usage.get(token_type, 0) + count
            provider = self._conversation.provider_name
            recorder.gen_ai_tokens(provider, self._model, inputs, outputs)

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
        """Record a turn's input: only text items count; the text is redacted unless opted in.
        With traces on, the turn span counts the items by kind (text, image, local image)."""
        if self._provider.traces is not None:
            try:
                items = list(items or ())  # read twice: for the span and for the event
            except Exception as exc:
                report_internal_error(f"recording {Event.USER_PROMPT}", exc)
                return
            prompt_span_counts(items)

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
        *,
        tool_namespace: str | None = None,
    ) -> None:
        """Record who decided whether a tool call may run. `decision` is one of
        `ToolDecision` or another decision (sent lower-cased: the set is open); `source` is
        `Config`, `User` or `AutomatedReviewer` (any casing; another raises ValueError)."""
        # Validated even when disabled: a wrong value is a bug in the caller's code.
        decided = _decision(decision)
        by = _source(source)
        if self._provider.traces is not None:
            # On the span, the source's snake_case name (`config`, `automated_reviewer`).
            self._decided(safe_str(call_id), decided, _SPAN_SOURCES[by])
        if self._log is None:  # no metric for decisions
            return

        def fields() -> dict[str, Any]:
            return {
                Attr.TOOL_NAME: _name(tool_name),
                Attr.TOOL_NAMESPACE: _name(tool_namespace),
                Attr.CALL_ID: _name(call_id),
                Attr.DECISION: decided,
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
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        fn: Callable[[], T],
        *,
        tool_namespace: str | None = None,
        mcp_server: str = "",
        mcp_server_origin: str = "",
        command_category: str | None = None,
        sandbox: str | None = None,
        sandbox_policy: str | None = None,
        shell_snapshot_mode: str | None = None,
    ) -> T:
        """Run a tool, record `codex.tool_result`, return or raise what it did.

        `mcp_server` names the MCP server of an MCP tool (and `mcp_server_origin` where it
        was configured); both are empty for a built-in tool, as Codex sends them. A shell
        tool's `command_category`, `sandbox`, `sandbox_policy` and `shell_snapshot_mode`
        tag its `codex.tool.call` point (each left out when None). With traces on, the run
        is an `execute_tool {tool_name}` span."""
        origin = _tool_origin(tool_namespace, mcp_server, mcp_server_origin)
        shell = _shell_facts(command_category, sandbox, sandbox_policy, shell_snapshot_mode)
        with self.tool_span(tool_name, call_id):
            start = time.perf_counter_ns()
            try:
                output = fn()
            except BaseException as exc:
                # An interruption too, by the rule of `failure`, then re-raised unchanged.
                failed = failure(exc)
                millis = elapsed_ms(start)
                self._record_tool(
                    tool_name, call_id, arguments, millis, False, failed, origin, shell
                )
                raise
            millis = elapsed_ms(start)
            self._record_tool(tool_name, call_id, arguments, millis, True, output, origin, shell)
        return output

    async def alog_tool_result(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        fn: Callable[[], Awaitable[T]],
        *,
        tool_namespace: str | None = None,
        mcp_server: str = "",
        mcp_server_origin: str = "",
        command_category: str | None = None,
        sandbox: str | None = None,
        sandbox_policy: str | None = None,
        shell_snapshot_mode: str | None = None,
    ) -> T:
        """`log_tool_result` for a coroutine function."""
        origin = _tool_origin(tool_namespace, mcp_server, mcp_server_origin)
        shell = _shell_facts(command_category, sandbox, sandbox_policy, shell_snapshot_mode)
        with self.tool_span(tool_name, call_id):
            start = time.perf_counter_ns()
            try:
                output = await fn()
            except BaseException as exc:
                # An interruption too, by the rule of `failure`, then re-raised unchanged.
                failed = failure(exc)
                millis = elapsed_ms(start)
                self._record_tool(
                    tool_name, call_id, arguments, millis, False, failed, origin, shell
                )
                raise
            millis = elapsed_ms(start)
            self._record_tool(tool_name, call_id, arguments, millis, True, output, origin, shell)
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
                Attr.OUTPUT_TRUNCATED: output_bytes is not None,
                Attr.OUTPUT_ORIGINAL_BYTES: output_bytes,
                Attr.MCP_SERVER: "",
                Attr.MCP_SERVER_ORIGIN: "",
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
        *,
        tool_namespace: str | None = None,
        mcp_server: str = "",
        mcp_server_origin: str = "",
        command_category: str | None = None,
        sandbox: str | None = None,
        sandbox_policy: str | None = None,
        shell_snapshot_mode: str | None = None,
    ) -> None:
        """Record a tool execution timed elsewhere (see `log_tool_result`)."""
        if self._log is None and self._metrics is None:
            return
        try:
            millis = duration_ms(duration)
            origin = _tool_origin(tool_namespace, mcp_server, mcp_server_origin)
            shell = _shell_facts(command_category, sandbox, sandbox_policy, shell_snapshot_mode)
        except Exception as exc:
            report_internal_error(f"recording {Event.TOOL_RESULT}", exc)
            return
        self._record_tool(tool_name, call_id, arguments, millis, success, output, origin, shell)

    def _record_tool(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        millis: int,
        success: bool,
        output: object,
        origin: tuple[str | None, str, str] = (None, "", ""),
        shell: ShellFacts = None,
    ) -> None:
        scope = SCOPE.get()
        if scope is not None and scope.kind == TOOL and scope.span is not None:
            # As text once, for the span's lengths and the event's fields alike.
            mcp_tool = (safe_str(_name(tool_name)) or "") if origin[1] else None
            arguments, output = tool_span_result(scope.span, arguments, success, output, mcp_tool)
        clock = TURN_CLOCK.get()
        if clock is not None:
            clock.tool_calls += 1
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
            origin,
            shell,
        )

    def _request_fields(
        self,
        attempt: int,
        millis: int,
        outcome: object,
        failed: bool,
        provider: str | None = None,
        model: str | None = None,
    ) -> dict[str, Any]:
        status = status_code(outcome)
        path, header, request_id = request_facts(outcome)
        fields: dict[str, Any] = {
            Attr.ATTEMPT: _codex_attempt(attempt),
            Attr.DURATION_MS: millis,
            Attr.HTTP_STATUS_CODE: None if status is None else clamp_int(status),
        }
        if failed:
            fields[Attr.ERROR_MESSAGE] = self._content.scrub_field(safe_str(outcome))
        else:
            # Under the seed's name and upstream's, so dashboards built on either work.
            fields[Attr.CF_RAY] = fields[Attr.AUTH_CF_RAY] = _name(cf_ray(outcome))
        fields[Attr.AUTH_HEADER_ATTACHED] = header is not None
        fields[Attr.AUTH_HEADER_NAME] = header
        fields[Attr.AUTH_RETRY_AFTER_UNAUTHORIZED] = False
        fields[Attr.ENDPOINT] = _name(path)
        fields.update(self._auth_fields())
        fields[Attr.AUTH_REQUEST_ID] = _name(request_id)
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
        origin: tuple[str | None, str, str],
        shell: ShellFacts,
    ) -> dict[str, Any]:
        # `shell` tags the metric only (upstream's event has no such fields).
        args_text, args_bytes = self._content.apply(as_text(arguments))
        text = safe_str(output) if isinstance(output, BaseException) else as_text(output)
        output_text, output_bytes = self._content.apply(text)
        namespace, mcp_server, mcp_origin = origin
        return {
            Attr.TOOL_NAME: _name(tool_name),
            Attr.TOOL_NAMESPACE: namespace,
            Attr.CALL_ID: _name(call_id),
            Attr.ARGUMENTS: args_text,
            Attr.DURATION_MS: millis,
            Attr.SUCCESS: "true" if success else "false",
            Attr.OUTPUT: output_text,
            Attr.OUTPUT_TRUNCATED: output_bytes is not None,
            # Only when cut (None is left out).
            Attr.ARGUMENTS_ORIGINAL_BYTES: args_bytes,
            Attr.OUTPUT_ORIGINAL_BYTES: output_bytes,
            Attr.MCP_SERVER: mcp_server,
            Attr.MCP_SERVER_ORIGIN: mcp_origin,
        }

    def __repr__(self) -> str:
        return f"OtelEventManager(metadata={self.metadata!r}, enabled={self.enabled})"


# Metric calls shared by several methods, as plain functions: the record path calls them with
# the method's own arguments, so no closure is built per event.


def _request_metric(
    recorder: MetricsRecorder,
    attempt: int,
    millis: int,
    outcome: object,
    failed: bool,
    provider: str | None,
    model: str,
) -> None:
    status = metric_status(outcome)
    recorder.api_request(millis, status, not failed)
    error = _error_type(outcome) if failed or (status is not None and status >= 400) else None
    recorder.gen_ai_duration(millis, provider, model, error)


def _codex_attempt(attempt: int) -> int | None:
    """The event's `attempt`: Codex counts tries from 0, the methods from 1."""
    value = opt_int(attempt)
    return None if value is None else max(value - 1, 0)


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
    origin: tuple[str | None, str, str],
    shell: ShellFacts,
) -> None:
    recorder.tool_call(safe_str(tool_name), millis, bool(success), shell)


def _shell_facts(
    command_category: str | None,
    sandbox: str | None,
    sandbox_policy: str | None,
    shell_snapshot_mode: str | None,
) -> ShellFacts:
    facts = (command_category, sandbox, sandbox_policy, shell_snapshot_mode)
    if facts == (None, None, None, None):
        return None
    return tuple(None if fact is None else safe_str(fact) for fact in facts)  # type: ignore[return-value]


# A built-in tool's: no namespace, no MCP server (one tuple, not one per call).
_BUILTIN = (None, "", "")


def _tool_origin(
    namespace: str | None, mcp_server: str, mcp_server_origin: str
) -> tuple[str | None, str, str]:
    if namespace is None and not mcp_server and not mcp_server_origin:
        return _BUILTIN
    return (_name(namespace), _name(mcp_server) or "", _name(mcp_server_origin) or "")  # type: ignore[return-value]
