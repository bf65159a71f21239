"""A turn's clock: `turn()` knows its start, its first output token, its first output
message and its end, so the turn metrics (`codex.turn.e2e_duration_ms`, `.ttft`, `.ttfm`,
the turn's token usage and tool calls) and the `codex.turn_ttft` event are recorded without
the host computing them.

`MeasuredTurn` is the turn scope with the clock added; the clock is read by the event
methods through `TURN_CLOCK` while the turn is current.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

from ._errors import report_internal_error
from ._scopes import TurnScope

__all__ = ["TURN_CLOCK", "MeasuredTurn", "TurnClock", "first_message", "first_token"]

# Stream events that carry model output (Responses API, Anthropic Messages, Chat
# Completions): the first one in a turn is its first token.
_TOKEN_PREFIXES = (
    "response.output_",
    "response.reasoning",
    "response.function_call_arguments",
    "response.custom_tool_call_input",
    "response.content_part",
    "content_block_",
    "chat.completion.chunk",
)
# ... and those that carry message text: the first one is its first message.
_MESSAGE_KINDS = frozenset(
    {
        "response.output_text.delta",
        "response.output_text.done",
        "content_block_delta",
        "chat.completion.chunk",
    }
)
# Kinds repeat: each is classified once (bounded: past this the cache starts afresh).
_KINDS: dict[object, tuple[bool, bool]] = {}
_MAX_KINDS = 256


def _classify(kind: object) -> tuple[bool, bool]:
    known = _KINDS.get(kind)
    if known is None:
        token = isinstance(kind, str) and kind.startswith(_TOKEN_PREFIXES)
        known = (token, token and kind in _MESSAGE_KINDS)
        if len(_KINDS) >= _MAX_KINDS:
            _KINDS.clear()
        _KINDS[kind] = known
    return known


def first_token(kind: object) -> bool:
    """Whether a stream event of `kind` carries model output."""
    return _classify(kind)[0]


def first_message(kind: object) -> bool:
    """Whether a stream event of `kind` carries message text."""
    return _classify(kind)[1]


class TurnClock:
    """One turn's timings (nanoseconds of `perf_counter_ns`) and its totals."""

    __slots__ = (
        "answered",
        "first_message_ns",
        "first_token_ns",
        "responses",
        "start_ns",
        "tool_calls",
        "usage",
    )

    def __init__(self) -> None:
        self.start_ns = time.perf_counter_ns()
        self.first_token_ns: int | None = None
        self.first_message_ns: int | None = None
        self.usage: dict[str, int] = {}
        """Token counts by `token_type`, summed over the turn's responses."""
        self.tool_calls = 0
        self.responses = 0
        self.answered: set[str] = set()
        """Item ids of the final answers recorded (`codex.agent_response`, once each)."""

    def millis_since_start(self, ns: int | None) -> int | None:
        return None if ns is None else max(ns - self.start_ns, 0) // 1_000_000


TURN_CLOCK: ContextVar[TurnClock | None] = ContextVar("codex_otel_turn_clock", default=None)


class MeasuredTurn(TurnScope):
    """`TurnScope` with its clock: started on entry, handed to `on_end` on exit."""

    __slots__ = ("_clock", "_clock_token", "_on_end")

    def __init__(self, on_end: Callable[[TurnClock], None], *args: Any) -> None:
        super().__init__(*args)
        self._on_end = on_end
        self._clock: TurnClock | None = None
        self._clock_token: Token[TurnClock | None] | None = None

    def __enter__(self) -> str:
        turn_id = super().__enter__()
        self._clock = TurnClock()
        self._clock_token = TURN_CLOCK.set(self._clock)
        return turn_id

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        clock, token = self._clock, self._clock_token
        if token is not None:
            try:
                TURN_CLOCK.reset(token)
            except ValueError:  # left in another context (an async generator closed elsewhere)
                TURN_CLOCK.set(None)
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if clock is not None:
                try:
                    self._on_end(clock)
                except Exception as error:
                    report_internal_error("recording a turn's metrics", error)
