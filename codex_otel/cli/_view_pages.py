"""What the page fetches, built from the store at one version (`PageModel`):

- the state: the header (sources, cap, drops, notes, progress), each conversation's summary
  and the session's charts — small whatever the store holds;
- a conversation: its charts and its turns' headers, with the events and spans of the turns
  the page has open, and of those only the ones that changed since the version it has;
- one record whole, every attribute as kept, for the detail panel.

Events and spans travel as previews (long values shortened, the common metadata left out);
the detail panel fetches the record itself.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..catalog import COMMON_ATTRIBUTES, Attr, SpanAttr
from ._view_charts import charts, tokens
from ._view_model import Snapshot, SpanRecord, StoredEvent, ViewStore, event_is_error
from ._view_turns import NO_CONVERSATION, SPANS_ONLY, Conversation, Turn, group

__all__ = ["PREVIEW_CHARS", "Filter", "PageModel", "full_state", "state_of"]

PREVIEW_CHARS = 200
# An open turn sends at most this many events: its failures, then the newest.
MAX_TURN_EVENTS = 1_000
# In the detail panel, not in every row.
_COMMON = frozenset(COMMON_ATTRIBUTES)


@dataclass(frozen=True)
class Filter:
    """What the page's search and filters keep: failures only, one tool, one model, and text
    found (case-insensitively) in a record's name or any of its values."""

    errors: bool = False
    tool: str = ""
    model: str = ""
    text: str = ""

    @classmethod
    def of(cls, query: Mapping[str, list[str]]) -> Filter:
        def one(key: str) -> str:
            return query.get(key, [""])[0][:200]

        return cls(one("errors") in ("1", "true"), one("tool"), one("model"), one("q").lower())

    def __bool__(self) -> bool:
        return bool(self.errors or self.tool or self.model or self.text)

    def event(self, event: StoredEvent) -> bool:
        attributes = event.attributes
        if self.errors and not event_is_error(event.name, attributes):
            return False
        if self.tool and attributes.get(Attr.TOOL_NAME) != self.tool:
            return False
        if self.model and attributes.get(Attr.MODEL) != self.model:
            return False
        return not self.text or _found(self.text, event.name, attributes)

    def span(self, span: SpanRecord, turn_model: str | None = None) -> bool:
        """Kept? A span naming no model is taken as of `turn_model` (its turn's)."""
        attributes = span.attributes
        if self.errors and span.status_code != 2:
            return False
        if self.tool and attributes.get(SpanAttr.TOOL_NAME) != self.tool:
            return False
        if self.model and attributes.get(SpanAttr.REQUEST_MODEL, turn_model) != self.model:
            return False
        return not self.text or _found(self.text, span.name, attributes, span.status_message)


def _found(text: str, name: str, attributes: Mapping[str, object], *more: str) -> bool:
    if text in name.lower() or any(text in extra.lower() for extra in more):
        return True
    return any(text in str(value).lower() for value in attributes.values())


def _short(value: object) -> object:
    if isinstance(value, bool | int | float) or value is None:
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _preview(attributes: dict[str, object]) -> dict[str, object]:
    return {key: _short(value) for key, value in attributes.items() if key not in _COMMON}


def _event_view(event: StoredEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "name": event.name,
        "time": event.time_unix_nano,
        "attributes": _preview(event.attributes),
        "error": event_is_error(event.name, event.attributes),
        "trace_id": event.trace_id,
        "span_id": event.span_id,
    }


def _span_view(span: SpanRecord) -> dict[str, Any]:
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name,
        "start": span.start_unix_nano,
        "end": span.end_unix_nano,
        "attributes": _preview(span.attributes),
        "error": span.status_code == 2,
        "status_message": span.status_message,
        "scope": span.scope,
    }


def _errors(turn: Turn) -> int:
    """Failures, each once: failed events, and failed spans no failed event was recorded in
    nor names (by its call id: an event recorded outside its tool call's span)."""
    failed = [e for e in turn.events if event_is_error(e.name, e.attributes)]
    inside = {e.span_id for e in failed if e.span_id}
    calls = {_text(e.attributes.get(Attr.CALL_ID)) for e in failed} - {""}
    return len(failed) + sum(
        s.status_code == 2
        and s.span_id not in inside
        and _text(s.attributes.get(SpanAttr.TOOL_CALL_ID)) not in calls
        for s in turn.spans
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _turn_header(turn: Turn, index: int, whole: Turn) -> dict[str, Any]:
    """`turn` (as a filter left it) numbered and titled as `whole`, the turn it is of."""
    prompt = whole.prompt
    return {
        "key": turn.key,
        "index": index,
        "turn_id": turn.turn_id,
        "prompt": None if prompt is None else _short(prompt.attributes.get(Attr.PROMPT)),
        "start": turn.start,
        "end": turn.end,
        "errors": _errors(turn),
        "tokens": tokens(turn.events),
        "event_count": len(turn.events),
        "span_count": len(turn.spans),
        "version": turn.version,
    }


def _turn_body(turn: Turn) -> dict[str, Any]:
    events = turn.events
    hidden = 0
    if len(events) > MAX_TURN_EVENTS:
        failed = [e for e in events if event_is_error(e.name, e.attributes)][:MAX_TURN_EVENTS]
        room = MAX_TURN_EVENTS - len(failed)
        kept = {e.seq for e in failed} | {e.seq for e in events[len(events) - room :]}
        hidden = len(events) - len(kept)
        events = [e for e in events if e.seq in kept]
    return {
        "events": [_event_view(e) for e in events],
        "spans": [_span_view(s) for s in turn.spans],
        "hidden_events": hidden,
    }


def _model_of(conversation: Conversation) -> object:
    return next(
        (e.attributes[Attr.MODEL] for e in conversation.events if Attr.MODEL in e.attributes), None
    )


def _narrow(conversation: Conversation, only: Filter) -> Conversation | None:
    """The conversation with only what `only` keeps (a span also when a kept event was
    recorded inside it; a span naming no model is of its turn's, as its events say); None
    when nothing is kept."""
    turns = []
    for turn in conversation.turns:
        events = [event for event in turn.events if only.event(event)]
        inside = {event.span_id for event in events if event.span_id}
        model = only.model if events else None  # (kept events name the model asked for)
        spans = [s for s in turn.spans if s.span_id in inside or only.span(s, model)]
        if events or spans:
            turns.append(Turn(turn.key, turn.turn_id, events, spans))
    if not turns:
        return None
    return Conversation(conversation.id, [e for turn in turns for e in turn.events], turns)


def _summary(conversation: Conversation) -> dict[str, Any]:
    turns = conversation.turns
    return {
        "id": conversation.id,
        # Has a conversation.id (the page shows the newest such by default).
        "named": conversation.id not in (NO_CONVERSATION, SPANS_ONLY),
        "model": _model_of(conversation),
        "start": min((t.start for t in turns), default=0),
        "end": max((t.end for t in turns), default=0),
        "events": len(conversation.events),
        "errors": sum(_errors(turn) for turn in turns),
        "turns": len(turns),
        "version": conversation.version,
    }


class PageModel:
    """The page's views of one store version (built once, read by every poll of it)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.version = snapshot.version
        self.conversations = group(snapshot.events, snapshot.spans)
        self._by_id = {conversation.id: conversation for conversation in self.conversations}
        self._events: dict[int, StoredEvent] | None = None
        self._spans: dict[str, SpanRecord] | None = None
        # Each conversation's charts, unfiltered: the page asks for a conversation twice in
        # one poll (its turns, then the bodies it lacks).
        self._charts: dict[str, dict[str, Any]] = {}

    def _shown(self, only: Filter) -> list[Conversation]:
        if not only:
            return self.conversations
        narrowed = (_narrow(conversation, only) for conversation in self.conversations)
        return [conversation for conversation in narrowed if conversation is not None]

    def state(self, only: Filter | None = None) -> dict[str, Any]:
        only = only or Filter()
        shown = self._shown(only)
        events = self.snapshot.events
        tools = {e.attributes.get(Attr.TOOL_NAME) for e in events if Attr.TOOL_NAME in e.attributes}
        models = {e.attributes.get(Attr.MODEL) for e in events if Attr.MODEL in e.attributes}
        return {
            **self.snapshot.header,
            "filter": {
                "errors": only.errors,
                "tool": only.tool,
                "model": only.model,
                "q": only.text,
            },
            "facets": {"tools": sorted(map(str, tools)), "models": sorted(map(str, models))},
            "conversations": [_summary(c) for c in shown],
            # Metrics carry no event to filter by: the charts show them only unfiltered.
            "charts": charts(
                [e for c in shown for e in c.events] if only else events,
                () if only else self.snapshot.series,
            ),
        }

    def conversation(
        self,
        ident: str,
        since: int,
        open_keys: Collection[str],
        only: Filter | None = None,
        whole_keys: Collection[str] = (),
    ) -> dict[str, Any] | None:
        """A conversation's turns: the headers of those changed since `since` (of the others
        only their key and number), with the bodies of the open ones, and whole (header and
        body, changed or not) the turns of `whole_keys` (just opened); None if the store holds
        no such conversation (or nothing of it matches)."""
        whole = self._by_id.get(ident)
        conversation = _narrow(whole, only) if whole is not None and only else whole
        if whole is None or conversation is None:
            return None
        # A filtered turn keeps its number and its prompt (the filter may leave neither).
        numbered = {turn.key: (index, turn) for index, turn in enumerate(whole.turns)}
        if self.snapshot.forgotten_at > since:
            since = -1  # a file's records were dropped from any turn: every body anew
        evicted = self.snapshot.evicted_at > since
        turns: list[dict[str, Any]] = []
        for turn in conversation.turns:
            index, of = numbered[turn.key]
            # Records dropped for the cap leave the oldest turn shorter: it is sent again.
            changed = turn.version > since or (evicted and index == 0)
            if turn.key in whole_keys:
                turns.append({**_turn_header(turn, index, of), **_turn_body(turn)})
                continue
            if not changed:
                # The page has this turn's header of version `since`: its key and number say
                # it is still there, and where (a long conversation's poll stays small).
                turns.append({"key": turn.key, "index": index})
                continue
            view = _turn_header(turn, index, of)
            if turn.key in open_keys:
                view.update(_turn_body(turn))
            turns.append(view)
        return {
            "id": conversation.id,
            "version": self.version,
            "model": _model_of(conversation),
            "charts": self._charts_of(conversation, only),
            "turns": turns,
        }

    def _charts_of(self, conversation: Conversation, only: Filter | None) -> dict[str, Any]:
        if only:
            return charts(conversation.events, ())
        if conversation.id not in self._charts:
            self._charts[conversation.id] = charts(conversation.events, ())
        return self._charts[conversation.id]

    def item(self, kind: str, ident: str) -> dict[str, Any] | None:
        """One event (by its `seq`) or span (by its id) whole, for the detail panel."""
        if kind == "event":
            if self._events is None:
                self._events = {event.seq: event for event in self.snapshot.events}
            event = self._events.get(int(ident)) if ident.isdigit() else None
            if event is None:
                return None
            return {**_event_view(event), "attributes": event.attributes, "scope": event.scope}
        if self._spans is None:
            self._spans = {span.span_id: span for span in self.snapshot.spans}
        span = self._spans.get(ident)
        if span is None:
            return None
        return {**_span_view(span), "attributes": span.attributes}


def full_state(snapshot: Snapshot) -> dict[str, Any]:
    """The state with every conversation's turns whole (for tests and scripts)."""
    model = PageModel(snapshot)
    state = model.state()
    for summary in state["conversations"]:
        everything = model.conversation(summary["id"], -1, _All())
        assert everything is not None
        summary["turns"] = everything["turns"]
        summary["charts"] = everything["charts"]
    return state


class _All(Collection[str]):
    """Every key (all turns open)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


def state_of(store: ViewStore) -> dict[str, Any]:
    """`full_state` of what `store` holds now."""
    return full_state(store.take())
