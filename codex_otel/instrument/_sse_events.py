"""What one raw server-sent event records as `codex.sse_event`, kind by kind."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .._manager import OtelEventManager

__all__ = [
    "FAILING_KINDS",
    "OUTPUT_ITEM_DONE_MESSAGE",
    "ServerSentEventLike",
    "compact",
    "is_output_item_done",
    "record_completion",
    "record_raw",
]

OUTPUT_ITEM_DONE_MESSAGE = "failed to parse response.output_item.done"

# Events that say the stream failed (OpenAI's `response.failed`, an `error` event of
# either API): their kind is the chat span's `error.type`.
FAILING_KINDS = frozenset({"response.failed", "error"})

_DONE = "[DONE]"
_FAILED = "response.failed"
_ITEM_DONE = "response.output_item.done"
_COMPLETED = "response.completed"

# Output item type -> fields it must carry, with their JSON types (Codex's `ResponseItem`).
# Types not listed are accepted, as Codex accepts unknown item types.
_ITEM_FIELDS: dict[str, tuple[tuple[str, type | tuple[type, ...]], ...]] = {
    "message": (("role", str), ("content", list)),
    "reasoning": (("summary", list),),
    "function_call": (("name", str), ("arguments", str), ("call_id", str)),
    "function_call_output": (("call_id", str), ("output", (str, list, dict))),
    "custom_tool_call": (("call_id", str), ("name", str), ("input", str)),
    "custom_tool_call_output": (("call_id", str), ("output", (str, list, dict))),
    "local_shell_call": (("status", str), ("action", dict)),
}


class ServerSentEventLike(Protocol):
    """httpx-sse's `ServerSentEvent`, or any object with `event` and `data`."""

    @property
    def event(self) -> str: ...

    @property
    def data(self) -> str: ...


def record_raw(manager: OtelEventManager, sse: ServerSentEventLike, duration: float) -> str | None:
    """Record one event that arrived after waiting `duration` seconds (the caller reports
    any error). Returns its kind if it says the stream failed."""
    kind = str(sse.event)
    _record_raw(manager, kind, sse, duration)
    return kind if kind in FAILING_KINDS else None


def _record_raw(
    manager: OtelEventManager, kind: str, sse: ServerSentEventLike, duration: float
) -> None:
    data: object = sse.data
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    if text.strip() == _DONE:
        manager.sse_event(kind, duration)
        return
    try:
        value = json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError, and bad unicode escapes
        manager.sse_event_failed(kind, duration, exc)
        if kind == _COMPLETED:
            manager.sse_event_completed_failed(f"response.completed data is not JSON: {exc}")
        return
    if kind == _FAILED:
        manager.sse_event_failed(kind, duration, compact(value))
    elif kind == _ITEM_DONE and not is_output_item_done(value):
        manager.sse_event_failed(kind, duration, OUTPUT_ITEM_DONE_MESSAGE)
    else:
        manager.sse_event(kind, duration)
    if kind == _COMPLETED:
        record_completion(manager, value)


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def is_output_item_done(value: object) -> bool:
    """`{"type": "response.output_item.done", "item": {...}}` with a well-formed item."""
    item = value.get("item") if isinstance(value, dict) else None
    if not isinstance(item, dict):
        return False
    item_type = item.get("type")
    if not isinstance(item_type, str):
        return False
    return all(isinstance(item.get(key), kinds) for key, kinds in _ITEM_FIELDS.get(item_type, ()))


class _UnreadableUsage(Exception):
    pass


def record_completion(manager: OtelEventManager, value: object) -> None:
    """The token usage of `response.completed`, or why it could not be read."""
    response = value.get("response") if isinstance(value, dict) else None
    usage = response.get("usage") if isinstance(response, dict) else None
    if usage is None:
        manager.sse_event_completed_failed("response.completed without response.usage")
        return
    try:
        if not isinstance(usage, dict):
            raise _UnreadableUsage(f"response.usage: expected an object, got {_short(usage)}")
        input_details = _details(usage, "input_tokens_details")
        output_details = _details(usage, "output_tokens_details")
        input_tokens = _count(usage, "input_tokens", "response.usage")
        output_tokens = _count(usage, "output_tokens", "response.usage")
        total_tokens = _count(usage, "total_tokens", "response.usage")
        cached = _optional_count(input_details, "cached_tokens", "input_tokens_details")
        reasoning = _optional_count(output_details, "reasoning_tokens", "output_tokens_details")
    except _UnreadableUsage as exc:
        manager.sse_event_completed_failed(f"response.completed usage unreadable: {exc}")
        return
    manager.sse_event_completed(
        input_token_count=input_tokens,
        output_token_count=output_tokens,
        cached_token_count=cached,
        reasoning_token_count=reasoning,
        # Codex reports the response's total as the tool token count.
        tool_token_count=total_tokens,
        # For the chat span only (the event's fields are the catalog's).
        response_id=_text(response, "id"),
        response_model=_text(response, "model"),
    )


def _text(mapping: object, key: str) -> str | None:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, str) else None


def _details(usage: dict[str, Any], key: str) -> dict[str, Any] | None:
    details = usage.get(key)
    if details is None or isinstance(details, dict):
        return details
    raise _UnreadableUsage(f"response.usage.{key}: expected an object, got {_short(details)}")


def _optional_count(details: dict[str, Any] | None, key: str, name: str) -> int | None:
    return None if details is None else _count(details, key, f"response.usage.{name}")


def _count(mapping: dict[str, Any], key: str, where: str) -> int:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _UnreadableUsage(
            f"{where}.{key}: expected a non-negative integer, got {_short(value)}"
        )
    return value


def _short(value: object) -> str:
    text = "missing" if value is None else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
