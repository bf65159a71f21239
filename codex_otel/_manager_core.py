"""The manager's core: shared metadata stamping, turns and spans, and the one record path.

Each event family is a subclass mixed into `OtelEventManager`: its methods build their fields
and hand them to `_record` (or `_emit`, for the events `catalog.EVENTS` declares).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ._config import ToolResultConfig
from ._content import ContentPolicy, cap_name, wire_safe
from ._errors import report_internal_error
from ._event_fields import AuthEnv, build_fields
from ._manager_events import NewerEvents
from ._manager_turns import TURN_CLOCK, MeasuredTurn, TurnClock, first_message, first_token
from ._provider import OtelProvider
from ._scopes import (
    CHAT,
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
)
from ._values import safe_str
from .catalog import EVENTS, Attr, Operation, SpanAttr

if TYPE_CHECKING:
    from opentelemetry.trace import SpanKind

    from ._metrics import MetricsRecorder
    from ._traces import TracesPipeline

__all__ = ["ManagerCore", "name_field", "stamped"]


def name_field(value: object) -> object:
    """A name or id: text, capped (a tool name, call id, kind or policy is never free text)."""
    return cap_name(safe_str(value))


def stamped(value: object) -> object:
    # Text that cannot be UTF-8 encoded is mended (see `wire_safe`).
    return wire_safe(value) if type(value) is str and not value.isascii() else value


class ManagerCore(NewerEvents):
    """What every event family of `OtelEventManager` builds on: its state, its turns and
    spans, and the one record path."""

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
                key: stamped(cap_name(value))
                for key, value in metadata.items()
                if value is not None
            }
            self._log = bound_logger(logger, context, provider._direct_logs)

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
            attributes = {k: stamped(v) for k, v in fields(*args).items() if v is not None}
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
                built[Attr.TURN_ID] = name_field(turn_id)
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
