"""OtelEventManager: shared metadata stamping and one method per catalog event."""

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
from .catalog import REDACTED, Attr, Event, ToolDecision, ToolDecisionSource

if TYPE_CHECKING:
    from ._metrics import MetricsRecorder

__all__ = ["OtelEventManager"]

T = TypeVar("T")
_COMPLETED = "response.completed"


def _name(value: object) -> object:
    """A name or id: text, capped (a tool name, call id, kind or policy is never free text)."""
    return cap_name(safe_str(value))


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
    ) -> None:
        """`log_user_prompt` and `tool_result` default to the provider's `[otel]` settings.

        `api_key` (for API-key auth) only feeds the metrics' hashed user id; it is not kept.
        `log_user_prompts` is the earlier name of `log_user_prompt`, still accepted.
        """
        self._provider = provider
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
            self._log = bound_logger(logger, context)

    def with_model(self, model: str, slug: str) -> OtelEventManager:
        """A manager for another model; this one is left unchanged."""
        # A shallow copy carries the whole state, so no attribute can be forgotten here;
        # only what depends on the model is rebound.
        clone = copy.copy(self)
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
    def recording(self) -> bool:
        """True when a call records anything, events or metrics; helpers skip all work if not."""
        return self.enabled or self.metrics_enabled

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
            log.info(event, **{k: _stamp(v) for k, v in fields(*args).items() if v is not None})
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

        self._record(Event.CONVERSATION_STARTS, fields, _conversation_metric)

    # -- codex.api_request ---------------------------------------------------------

    def log_request(self, attempt: int, fn: Callable[[], T]) -> T:
        """Call `fn()`, record it as `codex.api_request`, return or raise what it did."""
        start = time.perf_counter_ns()
        try:
            response = fn()
        except BaseException as exc:
            # An interruption too, by the rule of `failure`, then re-raised unchanged.
            self._record_request(attempt, elapsed_ms(start), failure(exc), True)
            raise
        self._record_request(attempt, elapsed_ms(start), response, False)
        return response

    async def alog_request(self, attempt: int, fn: Callable[[], Awaitable[T]]) -> T:
        """`log_request` for a coroutine function."""
        start = time.perf_counter_ns()
        try:
            response = await fn()
        except BaseException as exc:
            # An interruption too, by the rule of `failure`, then re-raised unchanged.
            self._record_request(attempt, elapsed_ms(start), failure(exc), True)
            raise
        self._record_request(attempt, elapsed_ms(start), response, False)
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
    ) -> None:
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
        decided = ToolDecision(decision)
        by = ToolDecisionSource(source)

        def fields() -> dict[str, Any]:
            return {
                Attr.TOOL_NAME: _name(tool_name),
                Attr.CALL_ID: _name(call_id),
                Attr.DECISION: decided.value,
                Attr.SOURCE: by.value,
            }

        self._record(Event.TOOL_DECISION, fields, None)

    # -- codex.tool_result ---------------------------------------------------------

    def log_tool_result(
        self, tool_name: str, call_id: str, arguments: object, fn: Callable[[], T]
    ) -> T:
        """Run a tool, record `codex.tool_result`, return or raise what it did."""
        start = time.perf_counter_ns()
        try:
            output = fn()
        except BaseException as exc:
            # An interruption too, by the rule of `failure`, then re-raised unchanged.
            self._record_tool(tool_name, call_id, arguments, elapsed_ms(start), False, failure(exc))
            raise
        self._record_tool(tool_name, call_id, arguments, elapsed_ms(start), True, output)
        return output

    async def alog_tool_result(
        self, tool_name: str, call_id: str, arguments: object, fn: Callable[[], Awaitable[T]]
    ) -> T:
        """`log_tool_result` for a coroutine function."""
        start = time.perf_counter_ns()
        try:
            output = await fn()
        except BaseException as exc:
            # An interruption too, by the rule of `failure`, then re-raised unchanged.
            self._record_tool(tool_name, call_id, arguments, elapsed_ms(start), False, failure(exc))
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
