"""How the viewer groups what it holds: events into conversations (`conversation.id`) and turns,
and spans into the turns they belong to.

A turn is the events sharing a `turn.id` (ours carry one on every event, and the turn's span
too); events without one are split at each `codex.user_prompt`, as Codex's own are (Codex
stamps `turn.id` on its answer only: that names the turn its prompt started). A span belongs to
the turn its own `turn.id` names, or its nearest ancestor's, or the turn of an event recorded
inside it; then to the only turn whose events share its trace id (with `TRACEPARENT` set every
turn shares one trace id, so this never groups turns together); the rest (most of Codex's
spans) go to the turn running when they started, of the conversation their trace went to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..catalog import Attr, Event
from ._view_model import SpanRecord, StoredEvent

__all__ = ["NO_CONVERSATION", "SPANS_ONLY", "Conversation", "Turn", "group"]

NO_CONVERSATION = "(no conversation.id)"
SPANS_ONLY = "(spans without events)"
_MAX_DEPTH = 64  # a parent chain longer than this (or a cycle) is not followed further


@dataclass
class Turn:
    key: str  # stable while its first record is held: "turn <turn.id>" or "seq <first seq>"
    turn_id: str | None
    events: list[StoredEvent] = field(default_factory=list)
    spans: list[SpanRecord] = field(default_factory=list)

    @property
    def prompt(self) -> StoredEvent | None:
        return next((e for e in self.events if e.name == Event.USER_PROMPT), None)

    @property
    def start(self) -> int:
        times = [e.time_unix_nano for e in self.events[:1]] + [
            s.start_unix_nano for s in self.spans
        ]
        return min(times) if times else 0

    @property
    def end(self) -> int:
        times = [e.time_unix_nano for e in self.events] + [s.end_unix_nano for s in self.spans]
        return max(times) if times else 0

    @property
    def version(self) -> int:
        return max([e.version for e in self.events] + [s.version for s in self.spans] + [0])


@dataclass
class Conversation:
    id: str
    events: list[StoredEvent]
    turns: list[Turn]

    @property
    def version(self) -> int:
        return max((turn.version for turn in self.turns), default=0)


def _turns(events: list[StoredEvent]) -> list[Turn]:
    by_id: dict[str, Turn] = {}
    turns: list[Turn] = []
    current: Turn | None = None  # the turn last started: events without a turn.id join it
    for event in events:
        turn_id = event.attributes.get(Attr.TURN_ID)
        prompt = event.name == Event.USER_PROMPT
        if isinstance(turn_id, str) and turn_id:
            turn = by_id.get(turn_id)
            adopt = current is not None and current.turn_id is None and not prompt
            if turn is None and current is not None and adopt and current.prompt is not None:
                # Codex stamps turn.id on a few events only (its answer): the turn its
                # prompt started is that one.
                turn = by_id[turn_id] = current
                turn.turn_id = turn_id
            if turn is None:
                turn = by_id[turn_id] = Turn(f"turn {turn_id}", turn_id)
                turns.append(turn)
        elif current is None or prompt:
            turn = Turn(f"seq {event.seq}", None)
            turns.append(turn)
        else:
            turn = current
        turn.events.append(event)
        current = turn
    return turns


def group(events: Iterable[StoredEvent], spans: Iterable[SpanRecord]) -> list[Conversation]:
    """Conversations in start order, each with its turns in start order, spans placed."""
    by_conversation: dict[str, list[StoredEvent]] = {}
    for event in events:
        conversation = event.attributes.get(Attr.CONVERSATION_ID)
        key = conversation if isinstance(conversation, str) and conversation else NO_CONVERSATION
        by_conversation.setdefault(key, []).append(event)
    conversations = []
    for ident, members in by_conversation.items():
        members.sort(key=lambda event: (event.time_unix_nano, event.seq))
        conversations.append(Conversation(ident, members, _turns(members)))
    loose = _place_spans(conversations, list(spans))
    if loose:
        conversations.append(Conversation(SPANS_ONLY, [], [Turn("spans", None, [], loose)]))
    for conversation in conversations:
        for turn in conversation.turns:
            turn.spans.sort(key=lambda span: span.start_unix_nano)
        conversation.turns.sort(key=_began)
    conversations.sort(key=lambda c: min((t.start for t in c.turns), default=0))
    return conversations


def _place_spans(conversations: list[Conversation], spans: list[SpanRecord]) -> list[SpanRecord]:
    """Each span into its turn (see the module's docstring); the spans placed nowhere."""
    by_turn_id: dict[str, Turn] = {}
    pinned: dict[str, Turn] = {}  # span id -> the turn of an event recorded inside it
    traces: dict[str, set[str]] = {}  # trace id -> keys of the turns whose events carry it
    turns_by_key: dict[str, Turn] = {}
    conversation_of: dict[str, Conversation] = {}
    for conversation in conversations:
        for turn in conversation.turns:
            turns_by_key[turn.key] = turn
            conversation_of[turn.key] = conversation
            if turn.turn_id is not None:
                by_turn_id[turn.turn_id] = turn
            for event in turn.events:
                if event.span_id:
                    pinned.setdefault(event.span_id, turn)
                if event.trace_id:
                    traces.setdefault(event.trace_id, set()).add(turn.key)
    by_span_id = {span.span_id: span for span in spans}
    resolved: dict[str, Turn | None] = {}

    def turn_of(span: SpanRecord) -> Turn | None:
        chain: list[str] = []
        found: Turn | None = None
        node: SpanRecord | None = span
        while node is not None and len(chain) < _MAX_DEPTH:
            if node.span_id in resolved:
                found = resolved[node.span_id]
                break
            chain.append(node.span_id)
            turn_id = node.attributes.get(Attr.TURN_ID)
            found = by_turn_id.get(turn_id) if isinstance(turn_id, str) else None
            found = found or pinned.get(node.span_id)
            if found is not None:
                break
            node = by_span_id.get(node.parent_span_id) if node.parent_span_id else None
            if node is not None and node.span_id in chain:
                break  # a cycle
        for span_id in chain:
            resolved[span_id] = found
        return found

    unplaced: list[SpanRecord] = []
    placed: dict[str, set[str]] = {}  # trace id -> conversations its placed spans went to
    for span in spans:
        home = turn_of(span)
        if home is None:
            keys = traces.get(span.trace_id, set())
            home = turns_by_key[next(iter(keys))] if len(keys) == 1 else None
        if home is None:
            unplaced.append(span)
        else:
            home.spans.append(span)
            placed.setdefault(span.trace_id, set()).add(conversation_of[home.key].id)
    # The rest (Codex's spans mostly carry no turn.id, its events no span id): into the turn
    # running at the span's start, of the conversation its trace went to (or the only one).
    named = [c for c in conversations if c.id != NO_CONVERSATION]
    by_id = {c.id: c for c in conversations}
    loose: list[SpanRecord] = []
    for span in unplaced:
        homes = placed.get(span.trace_id, set())
        if len(homes) == 1:
            owner: Conversation | None = by_id[next(iter(homes))]
        else:
            owner = named[0] if len(named) == 1 and not homes else None
        if owner is None or not owner.turns:
            loose.append(span)
        else:
            _turn_at(owner, span.start_unix_nano).spans.append(span)
    return loose


def _began(turn: Turn) -> int:
    """When a turn began, by its first event (its spans may have started earlier, as the
    set-up of a prompt does): turns are numbered in the order of their prompts."""
    return turn.events[0].time_unix_nano if turn.events else turn.start


def _turn_at(conversation: Conversation, time: int) -> Turn:
    """The turn of `conversation` running at `time`: the last one begun by then."""
    turns = sorted(conversation.turns, key=_began)
    started = [turn for turn in turns if _began(turn) <= time]
    return started[-1] if started else turns[0]
