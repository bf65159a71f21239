"""Where an event is recorded: its turn and the span it belongs to.

`OtelEventManager.turn()`, `chat_span()` and `tool_span()` open these scopes; the manager's
record path reads the current one to stamp `turn.id` and hand the span's context to the
record. Kept apart from the manager: one concept (correlation), its own state.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import threading
import uuid
import weakref
from collections.abc import Iterable, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._errors import report_internal_error
from ._values import as_text, safe_str, status_code
from .catalog import AGENT_NAME, Operation, SpanAttr, safe_url

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span
    from opentelemetry.util.types import AttributeValue

    from ._provider import OtelProvider
    from ._traces import TracesPipeline

# -- correlation and spans -------------------------------------------------------------
#
# Where an event is recorded is a `Scope` in a context variable: its turn, and the context
# of this package's innermost span (a turn, a chat call in progress, a tool execution).
#
# A chat span belongs to its request: to the context (thread or asyncio task) that sent it,
# and to the stream its call returned. A chat whose response is a stream still being read
# stays open after its call returns, as its context's `OPEN_CHAT` (other contexts never see
# it), as the chat of what the call returned (`_STREAMS`) and, through the transports, as the
# chat of the response's body. `instrument_sse` takes the chat of the stream it wraps (else
# its context's open one), records that stream's events, usage and response id in it, and
# ends it when the stream ends, failed or not. Otherwise it ends when its response body is
# closed, the next request of its context finds its stream done, the turn ends, or at
# shutdown.

TURN, CHAT, TOOL = "turn", "chat", "tool"
TURN_SPAN_NAME = f"{Operation.INVOKE_AGENT} {AGENT_NAME}"
# Decisions remembered per turn until their tool runs; a turn never has this many calls.
MAX_DECISIONS = 1024
# `codex.turn.outcome`.
COMPLETED, FAILED, INTERRUPTED = "completed", "failed", "interrupted"


class Conversation:
    """What a manager and its `with_model` copies share: one conversation's state."""

    __slots__ = ("lock", "provider_name", "sequence")

    def __init__(self, provider_name: str | None) -> None:
        self.sequence = itertools.count(1)
        """`event.sequence`: `next()` of a C counter is atomic, so threads never share one."""
        self.provider_name = provider_name
        self.lock = threading.Lock()


class Turn:
    __slots__ = ("decisions", "id", "open", "span", "usage")

    def __init__(self, turn_id: str, span: Span | None) -> None:
        self.id = turn_id
        self.span = span
        self.usage: dict[str, int] = {}
        self.decisions: dict[str, tuple[str, str]] = {}
        self.open: dict[SpanScope, None] = {}
        """The turn's chats still open for their streams (ended with the turn at the latest)."""


class Scope:
    __slots__ = ("context", "kind", "owner", "span", "turn")

    def __init__(
        self,
        turn: Turn | None,
        kind: str,
        span: Span | None,
        context: Context | None,
        owner: SpanScope | None = None,
    ) -> None:
        self.turn = turn
        self.kind = kind
        self.span = span
        self.context = context
        self.owner = owner


SCOPE: ContextVar[Scope | None] = ContextVar("codex_otel_scope", default=None)
OPEN_CHAT: ContextVar[SpanScope | None] = ContextVar("codex_otel_open_chat", default=None)
"""The chat the latest request of this context left open for its stream (maybe ended since)."""


def parent_context(pipeline: TracesPipeline) -> Context | None:
    """This package's innermost span, else the current context's, else `TRACEPARENT`."""
    scope = SCOPE.get()
    if scope is not None and scope.context is not None:
        return scope.context
    return pipeline.current_parent()


def reset_scope(token: Token[Scope | None], previous: Scope | None) -> None:
    try:
        SCOPE.reset(token)
    except ValueError:  # left in another context (an async generator closed elsewhere)
        SCOPE.set(previous)


class TurnScope:
    """`OtelEventManager.turn()`: a sync and async context manager giving the turn id."""

    __slots__ = (
        "_conversation",
        "_conversation_id",
        "_model",
        "_otel_token",
        "_pipeline",
        "_previous",
        "_provider",
        "_token",
        "_turn",
        "_turn_id",
    )

    def __init__(
        self,
        provider: OtelProvider,
        conversation: Conversation,
        conversation_id: str,
        model: str,
        turn_id: str | None,
    ) -> None:
        self._provider = provider
        self._conversation = conversation
        self._conversation_id = conversation_id
        self._model = model
        self._pipeline: TracesPipeline | None = None
        self._turn_id = turn_id
        self._turn: Turn | None = None
        self._token: Token[Scope | None] | None = None
        self._previous: Scope | None = None
        self._otel_token: object = None

    def __enter__(self) -> str:
        turn_id = self._turn_id if self._turn_id is not None else str(uuid.uuid4())
        pipeline = self._pipeline = self._provider.traces
        span = None
        context = None
        if pipeline is not None:
            try:
                parent = parent_context(pipeline)
                span = pipeline.start(
                    TURN_SPAN_NAME,
                    pipeline.internal,
                    {
                        SpanAttr.OPERATION_NAME: Operation.INVOKE_AGENT,
                        SpanAttr.AGENT_NAME: AGENT_NAME,
                        SpanAttr.CONVERSATION_ID: self._conversation_id,
                        SpanAttr.TURN_ID: turn_id,
                        SpanAttr.REQUEST_MODEL: self._model,
                    },
                    parent,
                )
                context = pipeline.child_context(span, parent)
                self._otel_token = pipeline.attach(context)
            except Exception as exc:
                report_internal_error("starting a turn span", exc)
        self._turn = Turn(turn_id, span)
        self._previous = SCOPE.get()
        self._token = SCOPE.set(Scope(self._turn, TURN, span, context))
        return turn_id

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        turn = self._turn
        if self._token is not None:
            reset_scope(self._token, self._previous)
        pipeline = self._pipeline
        if turn is None or turn.span is None or pipeline is None:
            return
        try:
            if self._otel_token is not None:
                pipeline.detach(self._otel_token)
            for chat in list(turn.open):
                # A stream still being read when the turn raised was cut short by it.
                chat.end(exc if chat.reading else None)
            if turn.usage:
                turn.span.set_attributes(turn.usage)
            outcome = turn_outcome(exc)
            turn.span.set_attribute(SpanAttr.TURN_OUTCOME, outcome)
            pipeline.end(turn.span, exc, ok=outcome == COMPLETED)
        except Exception as error:
            report_internal_error("ending a turn span", error)

    async def __aenter__(self) -> str:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


class SpanScope:
    """A chat or tool span, current while its operation runs (a plain context manager, so
    the same object serves sync and async callers)."""

    recording = True

    __slots__ = (
        "_ended",
        "_error",
        "_held",
        "_in_chat",
        "_otel_token",
        "_previous",
        "_token",
        "bound",
        "context",
        "conversation",
        "kind",
        "outcome",
        "pipeline",
        "reading",
        "span",
        "turn",
    )

    def __init__(
        self,
        kind: str,
        pipeline: TracesPipeline,
        span: Span,
        context: Context,
        turn: Turn | None,
        conversation: Conversation,
    ) -> None:
        self.kind = kind
        self.pipeline = pipeline
        self.span = span
        self.context = context
        self.turn = turn
        self.conversation = conversation
        self.outcome: object = None
        """What the operation returned (set by the caller): a stream keeps a chat open."""
        self.bound = False
        """Its response's body ends it when closed (the transports)."""
        self.reading = False
        """An `instrument_sse` reads its stream and ends it (see `claim`)."""
        self._token: Token[Scope | None] | None = None
        self._previous: Scope | None = None
        self._otel_token: object = None
        self._ended = False
        self._held = False
        self._error: BaseException | str | None = None
        self._in_chat: Scope | None = None

    @property
    def ended(self) -> bool:
        return self._ended

    def headers(self) -> dict[str, str]:
        """`traceparent` and `tracestate` for a request sent inside this span."""
        try:
            return self.pipeline.headers(self.span)
        except Exception as exc:
            report_internal_error("building trace headers", exc)
            return {}

    def __enter__(self) -> SpanScope:
        self._previous = SCOPE.get()
        self._token = SCOPE.set(Scope(self.turn, self.kind, self.span, self.context, self))
        try:
            self._otel_token = self.pipeline.attach(self.context)
        except Exception as exc:
            report_internal_error("activating a span", exc)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._otel_token is not None:
                self.pipeline.detach(self._otel_token)
        except Exception as error:
            report_internal_error("leaving a span", error)
        if self._token is not None:
            reset_scope(self._token, self._previous)
        if exc is not None:
            if self.kind == CHAT:
                set_request_attributes(self.span, exc)
            self.end(exc)
            return
        if self.kind != CHAT:
            self.end(None)
            return
        try:
            outcome = self.outcome
            set_request_attributes(self.span, outcome)
            status = status_code(outcome)
            if status is not None and status >= 400:
                self.end(status)
            elif still_streaming(outcome):
                self._hold()
            else:
                self.end(None)
        except Exception as error:
            report_internal_error("ending a chat span", error)
            self.end(None)

    def _hold(self) -> None:
        """Stay open for the stream: this context's open chat (see the comment above
        `Conversation`), ended with the turn or at shutdown if nothing ends it before."""
        self._held = True
        if self.turn is not None:
            self.turn.open[self] = None
        self.pipeline.hold(self)
        OPEN_CHAT.set(self)
        with contextlib.suppress(TypeError):  # not weakly referable: found by context only
            _STREAMS[self.outcome] = self

    def in_chat(self) -> Scope:
        """The scope events of its stream are recorded in (one per chat)."""
        scope = self._in_chat
        if scope is None:
            scope = self._in_chat = Scope(self.turn, CHAT, self.span, self.context, self)
        return scope

    def claim(self) -> bool:
        """Make an `instrument_sse` the one to end this chat: true for the first one to ask
        while it is open (the body's closing, which an SDK does before it raises the stream's
        failure, then leaves the ending to it)."""
        with self.conversation.lock:
            if self._ended or self.reading:
                return False
            self.reading = True
            return True

    def fail(self, error: BaseException | str) -> None:
        """Remember that its stream failed: whoever ends it ends it ERROR."""
        if self._error is None:
            self._error = error

    def body_closed(self, error: BaseException | None = None) -> None:
        """Its response's body was closed (as `error` was raised): the end, unless an
        `instrument_sse` reads it."""
        if error is not None:
            self.fail(error)
        if not self.reading:
            self.end(None)

    def end(self, error: BaseException | int | str | None = None) -> None:
        """End the span (once: whichever of its enders comes first); without `error`, the
        failure its stream reported, if any."""
        with self.conversation.lock:
            if self._ended:
                return
            self._ended = True
        if self._held:
            self.pipeline.release(self)
            if self.turn is not None:
                self.turn.open.pop(self, None)
            with contextlib.suppress(TypeError, KeyError):
                if _STREAMS.get(self.outcome) is self:
                    del _STREAMS[self.outcome]
            self.outcome = None  # the response is not kept alive by its ended span
        self.pipeline.end(self.span, error if error is not None else self._error)


def reading_chat() -> SpanScope | None:
    """The chat this context's latest request left open, while it is open."""
    chat = OPEN_CHAT.get()
    return None if chat is None or chat.ended else chat


def end_unread_chat() -> None:
    """A new request of this context: its previous open chat is done with if nothing will
    end it (no stream reader, no response body of the transports) and what its call
    returned is no longer a stream to read (an httpx response read whole is closed)."""
    chat = OPEN_CHAT.get()
    if chat is not None and not (chat.bound or chat.reading or still_streaming(chat.outcome)):
        chat.end(None)


# What a chat's call returned, while the chat is open -> the chat: `instrument_sse` finds a
# stream `log_request` returned (an SDK stream, an httpx response) by it.
_STREAMS: weakref.WeakKeyDictionary[Any, SpanScope] = weakref.WeakKeyDictionary()


def chat_of(events: object) -> SpanScope | None:
    """The chat of the stream `events` is, or reads: what `log_request` returned, or a
    response sent through the transports (an httpx or httpx2 response, an SDK stream around
    one, an EventSource); else this context's open one."""
    for candidate in (events, _attribute(events, "response"), _attribute(events, "_response")):
        if candidate is None:
            continue
        chat: object
        try:
            chat = _STREAMS.get(candidate)
        except TypeError:  # not weakly referable
            chat = None
        if chat is None:
            chat = _attribute(_attribute(candidate, "stream"), "chat")
        if isinstance(chat, SpanScope):
            return None if chat.ended else chat
    return reading_chat()


def _attribute(owner: object, name: str) -> object:
    if owner is None:
        return None
    try:
        return getattr(owner, name, None)
    except Exception:  # a property of the caller's object that raises
        return None


def turn_outcome(exc: BaseException | None) -> str:
    """`completed`; `interrupted` for a cancellation (asyncio's, Ctrl-C, a closed generator);
    `failed` for any other exception."""
    if exc is None:
        return COMPLETED
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit)):
        return INTERRUPTED
    asyncio = sys.modules.get("asyncio")  # never imported: nothing was cancelled by it
    if asyncio is not None and isinstance(exc, asyncio.CancelledError):
        return INTERRUPTED
    return FAILED


class NoSpan:
    """What `chat_span` and `tool_span` give when no span is recorded: does nothing (one
    shared instance, so it keeps nothing either)."""

    __slots__ = ()
    recording = False

    @property
    def outcome(self) -> object:
        return None

    @outcome.setter
    def outcome(self, value: object) -> None:
        pass

    def headers(self) -> dict[str, str]:
        return {}

    def __enter__(self) -> NoSpan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def end(self, error: BaseException | int | str | None = None) -> None:
        pass


def request_of(outcome: object) -> object:
    """The request a response, an SDK stream (its response's) or an error was for (httpx
    raises when it has none)."""
    try:
        request = getattr(outcome, "request", None)
        if request is None:
            request = getattr(getattr(outcome, "response", None), "request", None)
        return request
    except Exception:
        return None


def set_request_attributes(span: Span, outcome: object) -> None:
    """Method, server, URL and status of the request behind `outcome` (a response or error)."""
    request = request_of(outcome)
    attributes: dict[str, Any] = {}
    if request is not None:
        add_url_attributes(
            attributes, getattr(request, "method", None), getattr(request, "url", None)
        )
    status = status_code(outcome)
    if status is not None:
        attributes[SpanAttr.HTTP_STATUS_CODE] = status
    if attributes:
        span.set_attributes(attributes)


def add_url_attributes(attributes: dict[str, Any], method: object, url: object) -> None:
    if isinstance(method, str):
        attributes[SpanAttr.HTTP_METHOD] = method
    if url is None:
        return
    from urllib.parse import urlsplit

    text = str(url)
    parts = urlsplit(text)
    if parts.hostname:
        attributes[SpanAttr.SERVER_ADDRESS] = parts.hostname
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    if port is not None:
        attributes[SpanAttr.SERVER_PORT] = port
    attributes[SpanAttr.URL_FULL] = safe_url(text)


def still_streaming(outcome: object) -> bool:
    """True for a response whose body is still to be read: an open httpx response (or an SDK
    stream around one), an iterator."""
    try:
        if getattr(outcome, "is_closed", None) is False:
            return True
        inner = getattr(outcome, "response", None)
        if inner is not None and getattr(inner, "is_closed", None) is False:
            return True
        return hasattr(outcome, "__next__") or hasattr(outcome, "__anext__")
    except Exception:
        return False


NO_SPAN = NoSpan()


def line_count(text: str) -> int:
    """Lines as Rust's `str::lines` counts them (Codex's): a last newline ends a line, it
    does not start one; empty text has none."""
    return text.count("\n") + (0 if not text or text.endswith("\n") else 1)


def prompt_span_counts(items: Iterable[str | Mapping[str, Any]]) -> None:
    """The turn's input items by kind on its span: text (a plain string or a `text` item),
    `image` and `local_image`, as Codex's user input types."""
    scope = SCOPE.get()
    turn = scope.turn if scope is not None else None
    if turn is None or turn.span is None:
        return
    try:
        counts = dict.fromkeys(_INPUT_COUNTS.values(), 0)
        for item in items:
            key = _INPUT_COUNTS.get("text" if isinstance(item, str) else _item_type(item))
            if key is not None:
                counts[key] += 1
        turn.span.set_attributes(counts)
    except Exception as exc:
        report_internal_error("recording a prompt's inputs on its turn span", exc)


_INPUT_COUNTS = {
    "text": SpanAttr.TEXT_INPUT_COUNT,
    "image": SpanAttr.IMAGE_INPUT_COUNT,
    "local_image": SpanAttr.LOCAL_IMAGE_INPUT_COUNT,
}


def _item_type(item: object) -> str:
    kind = item.get("type") if isinstance(item, Mapping) else None
    return kind if isinstance(kind, str) else ""


def tool_span_result(
    span: Span, arguments: object, success: bool, output: object, mcp_tool: str | None
) -> tuple[object, object]:
    """Success, sizes and origin on the tool span: lengths only, never the content;
    `mcp_tool` is an MCP tool's name, None for a built-in tool. Returns the arguments and
    output as the text the event records."""
    try:
        text = safe_str(output) if isinstance(output, BaseException) else as_text(output)
        arguments_text = as_text(arguments)
        attributes: dict[str, AttributeValue] = {
            SpanAttr.TOOL_SUCCESS: bool(success),
            SpanAttr.TOOL_ARGUMENTS_LENGTH: len(arguments_text),
            SpanAttr.TOOL_OUTPUT_LENGTH: len(text),
            SpanAttr.TOOL_OUTPUT_LINE_COUNT: line_count(text),
            SpanAttr.TOOL_ORIGIN: "builtin" if mcp_tool is None else "mcp",
        }
        if mcp_tool is not None:
            attributes[SpanAttr.MCP_TOOL] = mcp_tool
        span.set_attributes(attributes)
    except Exception as exc:
        report_internal_error("recording a tool's result on its span", exc)
        return arguments, output
    return arguments_text, text
