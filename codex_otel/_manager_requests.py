"""The model's requests and their streams: `codex.api_request` and `codex.sse_event`,
with the request and token metrics recorded beside them."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import report_internal_error
from ._event_fields import NO_REQUEST_AUTH, RequestAuth
from ._manager_core import ManagerCore, name_field
from ._manager_turns import TURN_CLOCK
from ._scopes import SCOPE
from ._values import (
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
)
from .catalog import Attr, Event, SpanAttr

if TYPE_CHECKING:
    from ._metrics import MetricsRecorder
    from ._scopes import NoSpan, SpanScope

__all__ = ["RequestEvents"]

T = TypeVar("T")
_COMPLETED = "response.completed"


def _error_type(outcome: object) -> str | None:
    """`error.type` of a failed request: its status code, else the exception's class."""
    status = status_code(outcome)
    if status is not None and status >= 400:
        return str(status)
    if isinstance(outcome, BaseException):
        return type(outcome).__qualname__
    return None if status is not None else "error"


class RequestEvents(ManagerCore):
    """Mixed into `OtelEventManager`."""

    # -- codex.api_request ---------------------------------------------------------

    def log_request(self, attempt: int, fn: Callable[[], T]) -> T:
        """Call `fn()`, record it as `codex.api_request`, return or raise what it did.

        With traces on, the call is a `chat {model}` span (see `chat_span`)."""
        with self.chat_span(attempt) as chat, _TimedRequest(self, attempt) as timed:
            response = fn()
            timed.succeeded(response, chat)
        return response

    async def alog_request(self, attempt: int, fn: Callable[[], Awaitable[T]]) -> T:
        """`log_request` for a coroutine function."""
        with self.chat_span(attempt) as chat, _TimedRequest(self, attempt) as timed:
            response = await fn()
            timed.succeeded(response, chat)
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
            ray = name_field(cf_ray)
            return {
                Attr.ATTEMPT: _codex_attempt(attempt),
                Attr.DURATION_MS: duration_ms(duration),
                Attr.HTTP_STATUS_CODE: opt_int(status_code),
                Attr.ERROR_MESSAGE: self._content.scrub_field(safe_str(error)),
                Attr.CF_RAY: ray,
                Attr.ENDPOINT: name_field(endpoint or path),
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
                Attr.MODEL_REASONING_EFFORT: name_field(model_reasoning_effort),
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
            fields[Attr.CF_RAY] = fields[Attr.AUTH_CF_RAY] = name_field(cf_ray(outcome))
        fields[Attr.AUTH_HEADER_ATTACHED] = header is not None
        fields[Attr.AUTH_HEADER_NAME] = header
        fields[Attr.AUTH_RETRY_AFTER_UNAUTHORIZED] = False
        fields[Attr.ENDPOINT] = name_field(path)
        fields.update(self._auth_fields())
        fields[Attr.AUTH_REQUEST_ID] = name_field(request_id)
        return fields

    def _sse_fields(
        self, kind: str | None, duration: timedelta | float, error: object, failed: bool
    ) -> dict[str, Any]:
        return {
            Attr.EVENT_KIND: name_field(kind),
            Attr.DURATION_MS: duration_ms(duration),
            Attr.ERROR_MESSAGE: self._content.scrub_field(safe_str(error)) if failed else None,
        }


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


class _TimedRequest:
    """Times one request attempt and records it: its response as the call returns, or the
    failure it raised (an interruption too, by the rule of `failure`), which goes on
    unchanged. Used inside the attempt's chat span, so the record is the span's."""

    __slots__ = ("_attempt", "_manager", "_start")

    def __init__(self, manager: RequestEvents, attempt: int) -> None:
        self._manager = manager
        self._attempt = attempt
        self._start = 0

    def __enter__(self) -> _TimedRequest:
        self._start = time.perf_counter_ns()
        return self

    def succeeded(self, response: object, chat: SpanScope | NoSpan) -> None:
        self._manager._record_request(self._attempt, elapsed_ms(self._start), response, False)
        chat.outcome = response

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if error is not None:
            millis = elapsed_ms(self._start)
            self._manager._record_request(self._attempt, millis, failure(error), True)
