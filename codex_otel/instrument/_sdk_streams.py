"""What one typed event of an SDK stream records as `codex.sse_event`.

The OpenAI and Anthropic SDKs hand their callers parsed events, not raw server-sent
events. These are read by duck typing, so neither SDK is imported:

- OpenAI Responses API events carry `.type` (``response.created``, ...); they record
  what their raw data would (`_sse_events`), reading only the parts that matter.
- OpenAI Chat Completions chunks carry `.object == "chat.completion.chunk"`; the chunk
  with `usage` (the last one, when `stream_options={"include_usage": True}`) is the
  completion.
- Anthropic Messages events carry `.type` (``message_start``, ...); usage arrives in
  `message_start` and is updated by `message_delta`; `message_stop` is the completion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._sse_events import (
    FAILING_KINDS,
    OUTPUT_ITEM_DONE_MESSAGE,
    compact,
    is_output_item_done,
    record_completion,
)

if TYPE_CHECKING:
    from .._manager import OtelEventManager

__all__ = ["CHAT_CHUNK", "TypedStreamState", "record_typed"]

CHAT_CHUNK = "chat.completion.chunk"

# Events the Anthropic SDK's `MessageStream` derives from the wire events it has just
# yielded (the text of a delta, ...): nothing was waited for, so nothing is recorded.
_DERIVED = frozenset({"text", "thinking", "input_json", "citation", "signature"})


@dataclass
class TypedStreamState:
    """What one stream remembers between events: the Anthropic usage so far."""

    input_tokens: object = None
    output_tokens: object = None
    cache_read: object = None
    cache_creation: object = None
    thinking: object = None
    usage_seen: bool = False
    # For the chat span only (the events' fields are the catalog's).
    response_id: str | None = None
    response_model: str | None = None


class _Unreadable(Exception):
    pass


def plain(value: object) -> object:
    """A model of either SDK as the JSON it was parsed from (fields the API sent)."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):  # both SDKs' BaseModel, on pydantic 1 and 2
        return to_dict(mode="json", warnings=False)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_unset=True, by_alias=True, warnings=False)
    return value


def record_typed(
    manager: OtelEventManager, state: TypedStreamState, event: Any, duration: float
) -> str | None:
    """Record one typed event (the caller reports any error). Returns its kind if it says
    the stream failed."""
    if getattr(event, "object", None) == CHAT_CHUNK:
        manager.sse_event(CHAT_CHUNK, duration)
        usage = getattr(event, "usage", None)
        if usage is not None:
            _chat_completion(manager, usage, event)
        return None
    kind = event.type
    if not isinstance(kind, str):
        raise TypeError(f"a stream event's type must be a str, got {type(kind).__name__}")
    if kind in _DERIVED:
        return None
    special = _BY_KIND.get(kind)
    if special is None:
        manager.sse_event(kind, duration)
    else:
        special(manager, state, event, kind, duration)
    return kind if kind in FAILING_KINDS else None


# -- OpenAI Responses API ------------------------------------------------------------------


def _response_failed(
    manager: OtelEventManager, state: TypedStreamState, event: Any, kind: str, duration: float
) -> None:
    # The SDK keeps no raw data to quote: the error it parsed is the failure's message.
    error = getattr(getattr(event, "response", None), "error", None)
    manager.sse_event_failed(kind, duration, compact(plain(event if error is None else error)))


def _output_item_done(
    manager: OtelEventManager, state: TypedStreamState, event: Any, kind: str, duration: float
) -> None:
    if is_output_item_done({"item": plain(getattr(event, "item", None))}):
        manager.sse_event(kind, duration)
    else:
        manager.sse_event_failed(kind, duration, OUTPUT_ITEM_DONE_MESSAGE)


def _response_completed(
    manager: OtelEventManager, state: TypedStreamState, event: Any, kind: str, duration: float
) -> None:
    manager.sse_event(kind, duration)
    # Only the usage is read: the response's output can be large.
    response = getattr(event, "response", None)
    usage = getattr(response, "usage", None)
    completed = {
        "usage": plain(usage),
        "id": _text(response, "id"),
        "model": _text(response, "model"),
    }
    record_completion(manager, {"response": completed})


# -- OpenAI Chat Completions ---------------------------------------------------------------


def _chat_completion(manager: OtelEventManager, usage: Any, chunk: Any) -> None:
    try:
        prompt = _count(usage, "prompt_tokens", "usage")
        completion = _count(usage, "completion_tokens", "usage")
        total = _count(usage, "total_tokens", "usage")
        cached = _optional(usage, "prompt_tokens_details", "cached_tokens")
        reasoning = _optional(usage, "completion_tokens_details", "reasoning_tokens")
    except _Unreadable as exc:
        manager.sse_event_completed_failed(f"{CHAT_CHUNK} usage unreadable: {exc}")
        return
    manager.sse_event_completed(
        input_token_count=prompt,
        output_token_count=completion,
        cached_token_count=cached,
        reasoning_token_count=reasoning,
        tool_token_count=total,
        response_id=_text(chunk, "id"),
        response_model=_text(chunk, "model"),
    )


# -- Anthropic Messages --------------------------------------------------------------------


def _message_start(
    manager: OtelEventManager, state: TypedStreamState, event: Any, kind: str, duration: float
) -> None:
    manager.sse_event(kind, duration)
    message = getattr(event, "message", None)
    state.response_id = _text(message, "id")
    state.response_model = _text(message, "model")
    _remember_usage(state, getattr(message, "usage", None))


def _message_delta(
    manager: OtelEventManager, state: TypedStreamState, event: Any, kind: str, duration: float
) -> None:
    manager.sse_event(kind, duration)
    _remember_usage(state, getattr(event, "usage", None))


def _remember_usage(state: TypedStreamState, usage: Any) -> None:
    """Counts in `message_delta` are cumulative: a given one replaces the one before."""
    if usage is None:
        return
    state.usage_seen = True
    for field, key in (
        ("input_tokens", "input_tokens"),
        ("output_tokens", "output_tokens"),
        ("cache_read", "cache_read_input_tokens"),
        ("cache_creation", "cache_creation_input_tokens"),
    ):
        value = getattr(usage, key, None)
        if value is not None:
            setattr(state, field, value)
    thinking = getattr(getattr(usage, "output_tokens_details", None), "thinking_tokens", None)
    if thinking is not None:
        state.thinking = thinking


def _message_stop(
    manager: OtelEventManager, state: TypedStreamState, event: Any, kind: str, duration: float
) -> None:
    manager.sse_event(kind, duration)
    if not state.usage_seen:
        manager.sse_event_completed_failed("message_stop without usage")
        return
    try:
        source = {
            "input_tokens": state.input_tokens,
            "output_tokens": state.output_tokens,
            "cache_read_input_tokens": state.cache_read,
            "cache_creation_input_tokens": state.cache_creation,
            "thinking_tokens": state.thinking,
        }
        input_tokens = _count_in(source, "input_tokens")
        output_tokens = _count_in(source, "output_tokens")
        cache_read = _optional_in(source, "cache_read_input_tokens")
        cache_creation = _optional_in(source, "cache_creation_input_tokens")
        thinking = _optional_in(source, "thinking_tokens")
    except _Unreadable as exc:
        manager.sse_event_completed_failed(f"message usage unreadable: {exc}")
        return
    manager.sse_event_completed(
        input_token_count=input_tokens,
        output_token_count=output_tokens,
        cached_token_count=cache_read,
        reasoning_token_count=thinking,
        # Every token of the response: Anthropic's input_tokens leaves out the cached ones.
        tool_token_count=input_tokens + (cache_read or 0) + (cache_creation or 0) + output_tokens,
        response_id=state.response_id,
        response_model=state.response_model,
        cache_creation_token_count=cache_creation or 0,
    )


# -- reading counts ------------------------------------------------------------------------


def _text(owner: Any, key: str) -> str | None:
    value = getattr(owner, key, None)
    return value if isinstance(value, str) else None


def _count(owner: Any, key: str, where: str) -> int:
    return _valid(getattr(owner, key, None), f"{where}.{key}")


def _optional(owner: Any, details: str, key: str) -> int | None:
    value = getattr(getattr(owner, details, None), key, None)
    return None if value is None else _valid(value, f"usage.{details}.{key}")


def _count_in(source: dict[str, object], key: str) -> int:
    return _valid(source[key], f"usage.{key}")


def _optional_in(source: dict[str, object], key: str) -> int | None:
    value = source[key]
    return None if value is None else _valid(value, f"usage.{key}")


def _valid(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        shown = "missing" if value is None else repr(value)
        raise _Unreadable(f"{where}: expected a non-negative integer, got {shown[:40]}")
    return value


_Handler = Callable[["OtelEventManager", TypedStreamState, Any, str, float], None]

_BY_KIND: dict[str, _Handler] = {
    "response.failed": _response_failed,
    "response.output_item.done": _output_item_done,
    "response.completed": _response_completed,
    "message_start": _message_start,
    "message_delta": _message_delta,
    "message_stop": _message_stop,
}
