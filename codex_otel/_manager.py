"""OtelEventManager: the catalog's events, stamped with shared metadata, one family a module.

The state, turns, spans and the one record path are `_manager_core`; the model's requests and
streams `_manager_requests`; tools `_manager_tools`; the catalog's newer events
`_manager_events` (thin methods over the declarations of `catalog.EVENTS`); a turn's clock
`_manager_turns`. This module adds the conversation's start and the user's prompt.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._content import cap_name
from ._errors import report_internal_error
from ._manager_core import name_field, stamped
from ._manager_requests import RequestEvents
from ._manager_tools import ToolEvents
from ._scopes import TurnScope, prompt_span_counts
from ._values import opt_int, safe_str, text_parts
from .catalog import REDACTED, Attr, Event

if TYPE_CHECKING:
    from ._metrics import MetricsRecorder

__all__ = ["OtelEventManager", "TurnScope"]


class OtelEventManager(RequestEvents, ToolEvents):
    """Stamps the shared metadata on every event and emits the catalog.

    Each event is a structlog event on a logger bound with the metadata; the
    chain ends in a bridge that emits one OpenTelemetry log record. With no
    exporter every method returns before building anything.
    """

    def with_model(self, model: str, slug: str) -> OtelEventManager:
        """A manager for another model; this one is left unchanged."""
        # A shallow copy carries the whole state, so no attribute can be forgotten here;
        # only what depends on the model is rebound.
        clone = copy.copy(self)
        clone._model = safe_str(model)
        if self._log is not None:
            stamp = {Attr.MODEL: stamped(cap_name(model)), Attr.SLUG: stamped(cap_name(slug))}
            clone._log = self._log.bind(**stamp)
        if self._metrics is not None:
            clone._metrics = self._metrics.with_model(model)
        return clone

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
                Attr.PROVIDER_NAME: name_field(provider_name),
                Attr.REASONING_EFFORT: name_field(reasoning_effort),
                Attr.REASONING_SUMMARY: name_field(reasoning_summary),
                Attr.CONTEXT_WINDOW: opt_int(context_window),
                Attr.MAX_OUTPUT_TOKENS: opt_int(max_output_tokens),
                Attr.AUTO_COMPACT_TOKEN_LIMIT: opt_int(auto_compact_token_limit),
                Attr.APPROVAL_POLICY: name_field(approval_policy),
                Attr.SANDBOX_POLICY: name_field(sandbox_policy),
                Attr.MCP_SERVERS: name_field(
                    ", ".join(safe_str(name) for name in mcp_servers or ())
                ),
                Attr.ACTIVE_PROFILE: name_field(active_profile),
                **self._auth_fields(),
            }

        if self._conversation.provider_name is None:
            self._conversation.provider_name = safe_str(provider_name)

        def metric(recorder: MetricsRecorder) -> None:
            recorder.conversation_start()
            recorder.thread_started(is_git, is_worktree)

        self._record(Event.CONVERSATION_STARTS, fields, metric)

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

    def __repr__(self) -> str:
        return f"OtelEventManager(metadata={self.metadata!r}, enabled={self.enabled})"
