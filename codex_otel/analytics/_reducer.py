"""The reducer: plain state and rules folding facts into track events, no threads, no clock.

State is kept per connection (its `initialize`), per thread (source, parent: denormalized onto
later events), per pending request (paired with its response or approval answer) and per open
turn. Every table is bounded: a host that never closes anything cannot grow it without limit.
Input is what a peer sent: every rule reads it through the `_obj`/`_str`/`_int` accessors, so a
missing field or a wrong type yields no event rather than an exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import AnalyticsEventType as E
from ._facts import (
    AppsMentionedFact,
    AppUsedFact,
    ClientRequestFact,
    ClientResponseFact,
    CompactionFact,
    ErrorResponseFact,
    Fact,
    GuardianReviewFact,
    HookRunFact,
    InitializeFact,
    NotificationFact,
    PluginMetadata,
    PluginStateFact,
    PluginUsedFact,
    RuntimeMetadata,
    ServerRequestAbortedFact,
    ServerRequestFact,
    ServerResponseFact,
    SkillsInvokedFact,
    SubagentThreadStarted,
    TrackEventsContext,
    TurnResolvedConfig,
    TurnTokenUsage,
    current_runtime,
)

__all__ = ["AnalyticsReducer", "TrackEvent", "normalize_path_for_skill_id", "skill_id_for_skill"]

# Entries kept per table; the oldest goes first when one is full.
MAX_TRACKED = 4096
# Parent folders walked looking for a git checkout.
_MAX_PARENTS = 64

THREAD_RESPONSES = {"thread/start": "new", "thread/resume": "resumed", "thread/fork": "forked"}
TURN_REQUESTS = ("turn/start", "turn/steer")
APPROVAL_REQUESTS = {
    "item/commandExecution/requestApproval": "command_execution",
    "item/fileChange/requestApproval": "file_change",
    "item/permissions/requestApproval": "permissions",
}
# Completed item type -> the turn event's counter.
_TOOL_COUNTERS = {
    "commandExecution": "shell_command_count",
    "fileChange": "file_change_count",
    "mcpToolCall": "mcp_tool_call_count",
    "dynamicToolCall": "dynamic_tool_call_count",
    "collabAgentToolCall": "subagent_tool_call_count",
    "webSearch": "web_search_count",
    "imageGeneration": "image_generation_count",
}
_USER_SOURCES = ("cli", "vscode", "exec")


@dataclass(frozen=True)
class TrackEvent:
    """One track event: `body` is the JSON object sent (`event_type`, `event_params`, ...)."""

    body: dict[str, Any]
    isolated: bool = False
    """Sent in a request of its own rather than batched with others."""

    @property
    def event_type(self) -> str:
        return str(self.body["event_type"])

    @property
    def params(self) -> dict[str, Any]:
        params = self.body.get("event_params")
        return params if isinstance(params, dict) else {}


@dataclass
class _Thread:
    app_server_client: dict[str, Any]
    runtime: dict[str, Any]
    model: str | None
    ephemeral: bool
    initialization_mode: str
    thread_source: str | None
    subagent_source: str | None
    parent_thread_id: str | None

    def denormalized(self) -> dict[str, Any]:
        return {
            "thread_source": self.thread_source,
            "subagent_source": self.subagent_source,
            "parent_thread_id": self.parent_thread_id,
        }


@dataclass
class _Turn:
    thread_id: str
    connection_id: int | None
    num_input_images: int = 0
    started_at_ms: int | None = None
    steer_count: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(_TOOL_COUNTERS.values(), 0)
    )
    config: TurnResolvedConfig | None = None
    usage: TurnTokenUsage | None = None


@dataclass(frozen=True)
class _PendingRequest:
    method: str
    thread_id: str | None
    expected_turn_id: str | None
    num_input_images: int
    observed_at_ms: int


@dataclass(frozen=True)
class _PendingReview:
    subject_kind: str
    subject_name: str
    thread_id: str
    turn_id: str
    item_id: str | None
    review_id: str
    trigger: str
    started_at_ms: int


class AnalyticsReducer:
    """Folds facts into track events: `ingest(fact)` returns the events that fact completes.

    `product_surface` and `product_client_id` are settings, not facts: Codex's backend fills in
    the surface (`codex`) and the client id of custom-fact events is the host's originator.
    """

    def __init__(
        self, *, product_surface: str = "codex", product_client_id: str = "codex_cli_rs"
    ) -> None:
        self.product_surface = product_surface
        self.product_client_id = product_client_id
        self._connections: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._threads: dict[str, _Thread] = {}
        self._turns: dict[str, _Turn] = {}
        self._requests: dict[tuple[int, str], _PendingRequest] = {}
        self._reviews: dict[tuple[int, str], _PendingReview] = {}
        self._guardian_started: dict[tuple[str, str, str], int] = {}

    def ingest(self, fact: Fact) -> list[TrackEvent]:
        """The track events `fact` produces (often none: it may only update state)."""
        handler = _HANDLERS.get(type(fact))
        if handler is None:
            return []
        events: list[TrackEvent] = handler(self, fact)
        return events

    # -- connections and threads -----------------------------------------------------

    def _initialize(self, fact: InitializeFact) -> list[TrackEvent]:
        params = _obj(fact.params)
        info = _obj(params.get("clientInfo"))
        capabilities = params.get("capabilities")
        experimental = (
            _bool(_obj(capabilities).get("experimentalApi"))
            if isinstance(capabilities, dict)
            else None
        )
        client = {
            "product_client_id": str(fact.product_client_id),
            "client_name": _str(info.get("name")),
            "client_version": _str(info.get("version")),
            "rpc_transport": str(fact.rpc_transport),
            "experimental_api_enabled": experimental,
        }
        _put(self._connections, fact.connection_id, (client, _runtime(fact.runtime)))
        return []

    def _client_response(self, fact: ClientResponseFact) -> list[TrackEvent]:
        message = _obj(fact.message)
        pending = self._pop_request(fact.connection_id, message.get("id"))
        result = _obj(message.get("result"))
        if fact.method in THREAD_RESPONSES:
            return self._thread_initialized(fact.connection_id, fact.method, result)
        if fact.method == "turn/start":
            turn_id = _str(_obj(result.get("turn")).get("id"))
            if turn_id is not None and pending is not None and pending.thread_id is not None:
                turn = self._turn(turn_id, pending.thread_id, fact.connection_id)
                turn.num_input_images = pending.num_input_images
            return []
        if fact.method == "turn/steer" and pending is not None:
            accepted = _str(result.get("turnId"))
            if accepted is not None and accepted in self._turns:
                self._turns[accepted].steer_count += 1
            return self._steer(fact.connection_id, pending, "accepted", accepted, None)
        return []

    def _thread_initialized(
        self, connection_id: int, method: str, result: dict[str, Any]
    ) -> list[TrackEvent]:
        connection = self._connections.get(connection_id)
        thread = _obj(result.get("thread"))
        thread_id = _str(thread.get("id"))
        if connection is None or thread_id is None:
            return []
        source, subagent, parent = _thread_source(thread.get("source"))
        state = _Thread(
            app_server_client=connection[0],
            runtime=connection[1],
            model=_str(result.get("model")),
            ephemeral=_bool(thread.get("ephemeral")) is True,
            initialization_mode=THREAD_RESPONSES[method],
            thread_source=source,
            subagent_source=subagent,
            parent_thread_id=parent,
        )
        _put(self._threads, thread_id, state)
        return [self._thread_event(thread_id, state, _int(thread.get("createdAt")) or 0)]

    def _subagent_started(self, fact: SubagentThreadStarted) -> list[TrackEvent]:
        state = _Thread(
            app_server_client={
                "product_client_id": fact.product_client_id,
                "client_name": fact.client_name,
                "client_version": fact.client_version,
                "rpc_transport": "in_process",
                "experimental_api_enabled": None,
            },
            runtime=_runtime(fact.runtime),
            model=fact.model,
            ephemeral=fact.ephemeral,
            initialization_mode="new",
            thread_source="subagent",
            subagent_source=fact.subagent_source,
            parent_thread_id=fact.parent_thread_id,
        )
        _put(self._threads, fact.thread_id, state)
        return [self._thread_event(fact.thread_id, state, fact.created_at)]

    def _thread_event(self, thread_id: str, state: _Thread, created_at: int) -> TrackEvent:
        return _event(
            E.THREAD_INITIALIZED,
            thread_id=thread_id,
            product_surface=self.product_surface,
            app_server_client=dict(state.app_server_client),
            runtime=dict(state.runtime),
            model=state.model,
            ephemeral=state.ephemeral,
            initialization_mode=state.initialization_mode,
            # Unix seconds, unsigned as Codex sends them: a negative one (a clock before 1970,
            # a garbled value) becomes 0, as Codex's conversion does.
            created_at=max(_int(created_at) or 0, 0),
            **state.denormalized(),
        )

    # -- turns -----------------------------------------------------------------------

    def _client_request(self, fact: ClientRequestFact) -> list[TrackEvent]:
        message = _obj(fact.message)
        method = message.get("method")
        key = _request_key(fact.connection_id, message.get("id"))
        if method not in TURN_REQUESTS or key is None:
            return []
        params = _obj(message.get("params"))
        pending = _PendingRequest(
            method=str(method),
            thread_id=_str(params.get("threadId")),
            expected_turn_id=_str(params.get("expectedTurnId")),
            num_input_images=_count_images(params.get("input")),
            observed_at_ms=fact.observed_at_ms,
        )
        _put(self._requests, key, pending)
        return []

    def _error_response(self, fact: ErrorResponseFact) -> list[TrackEvent]:
        message = _obj(fact.message)
        pending = self._pop_request(fact.connection_id, message.get("id"))
        if pending is None or pending.method != "turn/steer":
            return []
        reason = _rejection_reason(_obj(message.get("error")))
        return self._steer(fact.connection_id, pending, "rejected", None, reason)

    def _steer(
        self,
        connection_id: int,
        pending: _PendingRequest,
        result: str,
        accepted_turn_id: str | None,
        rejection_reason: str | None,
    ) -> list[TrackEvent]:
        thread = self._threads.get(pending.thread_id or "")
        if pending.thread_id is None or thread is None:
            return []
        return [
            _event(
                E.TURN_STEER,
                thread_id=pending.thread_id,
                expected_turn_id=pending.expected_turn_id,
                accepted_turn_id=accepted_turn_id,
                app_server_client=dict(thread.app_server_client),
                runtime=dict(thread.runtime),
                **thread.denormalized(),
                num_input_images=pending.num_input_images,
                result=result,
                rejection_reason=rejection_reason,
                created_at=pending.observed_at_ms // 1000,
            )
        ]

    def _notification(self, fact: NotificationFact) -> list[TrackEvent]:
        message = _obj(fact.message)
        method = message.get("method")
        params = _obj(message.get("params"))
        if method == "turn/started":
            turn_id = _str(_obj(params.get("turn")).get("id"))
            thread_id = _str(params.get("threadId"))
            if turn_id is not None and thread_id is not None:
                self._turn(
                    turn_id, thread_id, fact.connection_id
                ).started_at_ms = fact.observed_at_ms
            return []
        if method == "item/completed":
            open_turn = self._turns.get(_str(params.get("turnId")) or "")
            counter = _TOOL_COUNTERS.get(_str(_obj(params.get("item")).get("type")) or "")
            if open_turn is not None and counter is not None:
                open_turn.counts[counter] += 1
            return []
        if method == "turn/completed":
            return self._turn_completed(params, fact.observed_at_ms)
        if method == "item/autoApprovalReview/started":
            key = _guardian_key(params)
            if key is not None:
                _put(self._guardian_started, key, fact.observed_at_ms)
            return []
        if method == "item/autoApprovalReview/completed":
            return self._guardian_completed(params, fact.observed_at_ms)
        return []

    def _turn(self, turn_id: str, thread_id: str, connection_id: int | None) -> _Turn:
        existing = self._turns.get(turn_id)
        if existing is not None:
            return existing
        turn = _Turn(thread_id=thread_id, connection_id=connection_id)
        _put(self._turns, turn_id, turn)
        return turn

    def _turn_config(self, fact: TurnResolvedConfig) -> list[TrackEvent]:
        self._turn(fact.turn_id, fact.thread_id, None).config = fact
        return []

    def _turn_usage(self, fact: TurnTokenUsage) -> list[TrackEvent]:
        self._turn(fact.turn_id, fact.thread_id, None).usage = fact
        return []

    def _turn_completed(self, params: dict[str, Any], completed_ms: int) -> list[TrackEvent]:
        payload = _obj(params.get("turn"))
        turn_id = _str(payload.get("id"))
        turn = self._turns.pop(turn_id or "", None)
        if turn_id is None or turn is None:
            return []
        thread = self._threads.get(turn.thread_id)
        if thread is None:
            return []
        config = turn.config or TurnResolvedConfig(thread_id=turn.thread_id, turn_id=turn_id)
        usage = turn.usage or TurnTokenUsage(thread_id=turn.thread_id, turn_id=turn_id)
        started = turn.started_at_ms
        return [
            _event(
                E.TURN,
                thread_id=turn.thread_id,
                turn_id=turn_id,
                product_client_id=thread.app_server_client.get("product_client_id"),
                submission_type=config.submission_type,
                app_server_client=dict(thread.app_server_client),
                runtime=dict(thread.runtime),
                ephemeral=thread.ephemeral,
                initialization_mode=thread.initialization_mode,
                **thread.denormalized(),
                model=config.model if config.model is not None else thread.model,
                model_provider=config.model_provider,
                sandbox_policy=config.sandbox_policy,
                reasoning_effort=config.reasoning_effort,
                reasoning_summary=config.reasoning_summary,
                service_tier=config.service_tier,
                approval_policy=config.approval_policy,
                approvals_reviewer=config.approvals_reviewer,
                sandbox_network_access=config.sandbox_network_access,
                collaboration_mode=config.collaboration_mode,
                personality=config.personality,
                num_input_images=turn.num_input_images,
                is_first_turn=config.is_first_turn,
                status=_snake(_str(payload.get("status"))),
                turn_error=_turn_error(payload.get("error")),
                steer_count=turn.steer_count,
                total_tool_call_count=sum(turn.counts.values()),
                **turn.counts,
                input_tokens=usage.input_tokens,
                cached_input_tokens=usage.cached_input_tokens,
                output_tokens=usage.output_tokens,
                reasoning_output_tokens=usage.reasoning_output_tokens,
                total_tokens=usage.total_tokens,
                duration_ms=completed_ms - started if started is not None else None,
                started_at=started // 1000 if started is not None else None,
                completed_at=completed_ms // 1000,
            )
        ]

    def _pop_request(self, connection_id: int, request_id: object) -> _PendingRequest | None:
        key = _request_key(connection_id, request_id)
        return self._requests.pop(key, None) if key is not None else None

    # -- reviews -----------------------------------------------------------------------

    def _server_request(self, fact: ServerRequestFact) -> list[TrackEvent]:
        message = _obj(fact.message)
        kind = APPROVAL_REQUESTS.get(_str(message.get("method")) or "")
        key = _request_key(fact.connection_id, message.get("id"))
        params = _obj(message.get("params"))
        thread_id, turn_id = _str(params.get("threadId")), _str(params.get("turnId"))
        if kind is None or key is None or thread_id is None or turn_id is None:
            return []
        name = {"file_change": "apply_patch", "permissions": "request_permissions"}.get(kind, "")
        trigger = "initial"
        if kind == "command_execution":
            network = params.get("networkApprovalContext")
            if isinstance(network, dict):
                kind, trigger = "network_access", "network_policy_denial"
                name = _str(network.get("protocol")) or "network"
            else:
                source = _str(params.get("source"))
                name = "unified_exec" if source in ("unifiedExec", "unified_exec") else "shell"
        review = _PendingReview(
            subject_kind=kind,
            subject_name=name,
            thread_id=thread_id,
            turn_id=turn_id,
            item_id=_str(params.get("itemId")),
            review_id=_str(params.get("approvalId")) or key[1].strip('"'),
            trigger=trigger,
            started_at_ms=fact.observed_at_ms,
        )
        _put(self._reviews, key, review)
        return []

    def _server_response(self, fact: ServerResponseFact) -> list[TrackEvent]:
        message = _obj(fact.message)
        key = _request_key(fact.connection_id, message.get("id"))
        review = self._reviews.pop(key, None) if key is not None else None
        if review is None:
            return []
        if "error" in message:
            status, resolution = "aborted", "none"
        elif review.subject_kind == "permissions":
            status, resolution = _permissions_answer(_obj(message.get("result")))
        else:
            status, resolution = _decision(_obj(message.get("result")).get("decision"))
        return self._user_review(review, status, resolution, fact.observed_at_ms)

    def _server_request_aborted(self, fact: ServerRequestAbortedFact) -> list[TrackEvent]:
        key = _request_key(fact.connection_id, fact.request_id)
        review = self._reviews.pop(key, None) if key is not None else None
        if review is None:
            return []
        return self._user_review(review, "aborted", "none", fact.observed_at_ms)

    def _user_review(
        self, review: _PendingReview, status: str, resolution: str, completed_ms: int
    ) -> list[TrackEvent]:
        return self._review_event(
            thread_id=review.thread_id,
            turn_id=review.turn_id,
            item_id=review.item_id,
            review_id=review.review_id,
            subject_kind=review.subject_kind,
            subject_name=review.subject_name,
            reviewer="user",
            trigger=review.trigger,
            status=status,
            resolution=resolution,
            started_at_ms=review.started_at_ms,
            completed_at_ms=completed_ms,
        )

    def _guardian_completed(self, params: dict[str, Any], completed_ms: int) -> list[TrackEvent]:
        key = _guardian_key(params)
        if key is None:
            return []
        started = self._guardian_started.pop(key, completed_ms)
        review = _obj(params.get("review"))
        status = {
            "approved": "approved",
            "denied": "denied",
            "aborted": "aborted",
            "timedOut": "timed_out",
        }.get(_str(review.get("status")) or "")
        if status is None:
            return []
        action = _obj(params.get("action"))
        action_type = _snake(_str(action.get("type"))) or "unknown"
        kind = {
            "command": "command_execution",
            "shell": "command_execution",
            "unified_exec": "command_execution",
            "execve": "command_execution",
            "apply_patch": "file_change",
            "network_access": "network_access",
            "mcp_tool_call": "mcp_tool_call",
            "request_permissions": "permissions",
        }.get(action_type, "command_execution")
        return self._review_event(
            thread_id=key[0],
            turn_id=key[1],
            item_id=_str(params.get("targetItemId")),
            review_id=key[2],
            subject_kind=kind,
            subject_name=action_type,
            reviewer="guardian",
            trigger="initial",
            status=status,
            resolution="none",
            started_at_ms=started,
            completed_at_ms=completed_ms,
        )

    def _review_event(
        self, *, thread_id: str, started_at_ms: int, completed_at_ms: int, **fields: Any
    ) -> list[TrackEvent]:
        thread = self._threads.get(thread_id)
        if thread is None:
            return []
        turn_id = fields.pop("turn_id")
        item_id = fields.pop("item_id")
        review_id = fields.pop("review_id")
        return [
            _event(
                E.REVIEW,
                thread_id=thread_id,
                turn_id=turn_id,
                item_id=item_id,
                review_id=review_id,
                app_server_client=dict(thread.app_server_client),
                runtime=dict(thread.runtime),
                **thread.denormalized(),
                **fields,
                started_at_ms=started_at_ms,
                completed_at_ms=completed_at_ms,
                duration_ms=max(completed_at_ms - started_at_ms, 0),
            )
        ]

    # -- custom facts ------------------------------------------------------------------

    def _compaction(self, fact: CompactionFact) -> list[TrackEvent]:
        thread = self._threads.get(fact.thread_id)
        if thread is None:
            return []
        return [
            _event(
                E.COMPACTION,
                thread_id=fact.thread_id,
                turn_id=fact.turn_id,
                product_surface=self.product_surface,
                app_server_client=dict(thread.app_server_client),
                runtime=dict(thread.runtime),
                trigger=fact.trigger,
                reason=fact.reason,
                implementation=fact.implementation,
                phase=fact.phase,
                strategy=fact.strategy,
                status=fact.status,
                active_context_tokens_before=fact.active_context_tokens_before,
                active_context_tokens_after=fact.active_context_tokens_after,
                started_at=fact.started_at,
                completed_at=fact.completed_at,
                **thread.denormalized(),
                error=fact.error,
                duration_ms=fact.duration_ms,
            )
        ]

    def _guardian_review(self, fact: GuardianReviewFact) -> list[TrackEvent]:
        thread = self._threads.get(fact.thread_id)
        if thread is None:
            return []
        return [
            _event(
                E.GUARDIAN_REVIEW,
                app_server_client=dict(thread.app_server_client),
                runtime=dict(thread.runtime),
                thread_id=fact.thread_id,
                turn_id=fact.turn_id,
                review_id=fact.review_id,
                target_item_id=fact.target_item_id,
                approval_request_source=fact.approval_request_source,
                reviewed_action=_reviewed_action(fact),
                reviewed_action_truncated=fact.reviewed_action_truncated,
                decision=fact.decision,
                terminal_status=fact.terminal_status,
                failure_reason=fact.failure_reason,
                risk_level=fact.risk_level,
                user_authorization=fact.user_authorization,
                outcome=fact.outcome,
                guardian_thread_id=fact.guardian_thread_id,
                guardian_session_kind=fact.guardian_session_kind,
                guardian_model=fact.guardian_model,
                guardian_reasoning_effort=fact.guardian_reasoning_effort,
                had_prior_review_context=fact.had_prior_review_context,
                review_timeout_ms=fact.review_timeout_ms,
                tool_call_count=fact.tool_call_count,
                time_to_first_token_ms=fact.time_to_first_token_ms,
                completion_latency_ms=max(fact.completed_at_ms - fact.started_at_ms, 0),
                started_at=fact.started_at_ms // 1000,
                completed_at=fact.completed_at_ms // 1000,
                input_tokens=fact.input_tokens,
                cached_input_tokens=fact.cached_input_tokens,
                output_tokens=fact.output_tokens,
                reasoning_output_tokens=fact.reasoning_output_tokens,
                total_tokens=fact.total_tokens,
            )
        ]

    def _skills(self, fact: SkillsInvokedFact) -> list[TrackEvent]:
        out = []
        for invocation in fact.invocations:
            repo_root = git_repo_root(invocation.skill_path)
            repo_url = git_remote_url(repo_root) if repo_root is not None else None
            skill_id = skill_id_for_skill(
                repo_url, repo_root, invocation.skill_path, invocation.skill_name
            )
            body = {
                "event_type": E.SKILL_INVOCATION,
                "skill_id": skill_id,
                "skill_name": invocation.skill_name,
                "event_params": {
                    "product_client_id": self.product_client_id,
                    "skill_scope": invocation.skill_scope,
                    "repo_url": repo_url,
                    "thread_id": fact.tracking.thread_id,
                    "invoke_type": invocation.invocation_type,
                    "model_slug": fact.tracking.model_slug,
                },
            }
            out.append(TrackEvent(body))
        return out

    def _app_params(self, tracking: TrackEventsContext, app: Any) -> dict[str, Any]:
        return {
            "connector_id": app.connector_id,
            "thread_id": tracking.thread_id,
            "turn_id": tracking.turn_id,
            "app_name": app.app_name,
            "product_client_id": self.product_client_id,
            "invoke_type": app.invocation_type,
            "model_slug": tracking.model_slug,
        }

    def _apps_mentioned(self, fact: AppsMentionedFact) -> list[TrackEvent]:
        return [
            _event(E.APP_MENTIONED, **self._app_params(fact.tracking, app)) for app in fact.mentions
        ]

    def _app_used(self, fact: AppUsedFact) -> list[TrackEvent]:
        return [_event(E.APP_USED, **self._app_params(fact.tracking, fact.app))]

    def _plugin_params(self, plugin: PluginMetadata) -> dict[str, Any]:
        return {
            "plugin_id": plugin.remote_plugin_id or plugin.plugin_key,
            "plugin_name": plugin.plugin_name,
            "marketplace_name": plugin.marketplace_name,
            "has_skills": plugin.has_skills,
            "mcp_server_count": (
                len(plugin.mcp_server_names) if plugin.mcp_server_names is not None else None
            ),
            "connector_ids": list(plugin.connector_ids)
            if plugin.connector_ids is not None
            else None,
            "product_client_id": self.product_client_id,
        }

    def _plugin_used(self, fact: PluginUsedFact) -> list[TrackEvent]:
        return [
            _event(
                E.PLUGIN_USED,
                **self._plugin_params(fact.plugin),
                thread_id=fact.tracking.thread_id,
                turn_id=fact.tracking.turn_id,
                model_slug=fact.tracking.model_slug,
            )
        ]

    def _plugin_state(self, fact: PluginStateFact) -> list[TrackEvent]:
        event_type = {
            "installed": E.PLUGIN_INSTALLED,
            "uninstalled": E.PLUGIN_UNINSTALLED,
            "enabled": E.PLUGIN_ENABLED,
            "disabled": E.PLUGIN_DISABLED,
        }.get(fact.state)
        if event_type is None:
            return []
        return [_event(event_type, **self._plugin_params(fact.plugin))]

    def _hook_run(self, fact: HookRunFact) -> list[TrackEvent]:
        return [
            _event(
                E.HOOK_RUN,
                thread_id=fact.tracking.thread_id,
                turn_id=fact.tracking.turn_id,
                model_slug=fact.tracking.model_slug,
                hook_name=fact.hook_name,
                hook_source=fact.hook_source,
                status=fact.status,
            )
        ]


_HANDLERS: dict[type, Any] = {
    InitializeFact: AnalyticsReducer._initialize,
    ClientRequestFact: AnalyticsReducer._client_request,
    ClientResponseFact: AnalyticsReducer._client_response,
    ErrorResponseFact: AnalyticsReducer._error_response,
    NotificationFact: AnalyticsReducer._notification,
    ServerRequestFact: AnalyticsReducer._server_request,
    ServerResponseFact: AnalyticsReducer._server_response,
    ServerRequestAbortedFact: AnalyticsReducer._server_request_aborted,
    SubagentThreadStarted: AnalyticsReducer._subagent_started,
    CompactionFact: AnalyticsReducer._compaction,
    GuardianReviewFact: AnalyticsReducer._guardian_review,
    SkillsInvokedFact: AnalyticsReducer._skills,
    AppsMentionedFact: AnalyticsReducer._apps_mentioned,
    AppUsedFact: AnalyticsReducer._app_used,
    PluginUsedFact: AnalyticsReducer._plugin_used,
    PluginStateFact: AnalyticsReducer._plugin_state,
    HookRunFact: AnalyticsReducer._hook_run,
    TurnResolvedConfig: AnalyticsReducer._turn_config,
    TurnTokenUsage: AnalyticsReducer._turn_usage,
}


# -- skill ids ---------------------------------------------------------------------------


def skill_id_for_skill(
    repo_url: str | None, repo_root: Path | None, skill_path: Path, skill_name: str
) -> str:
    """SHA-1 hex of `{prefix}_{path}_{skill_name}`, as Codex computes it.

    The prefix is `repo_{repo_url}` for a skill in a git checkout with a remote URL, else
    `personal`; see `normalize_path_for_skill_id` for the path.
    """
    path = normalize_path_for_skill_id(repo_url, repo_root, skill_path)
    prefix = f"repo_{repo_url}" if repo_url is not None else "personal"
    return hashlib.sha1(f"{prefix}_{path}_{skill_name}".encode()).hexdigest()


def normalize_path_for_skill_id(
    repo_url: str | None, repo_root: Path | None, skill_path: Path
) -> str:
    """The skill's resolved path, relative to the repository root for a repository skill,
    absolute otherwise, with `\\` written as `/`."""
    resolved = _resolve(skill_path)
    if repo_url is not None and repo_root is not None:
        root = _resolve(repo_root)
        with contextlib.suppress(ValueError):
            resolved = resolved.relative_to(root)
    return str(resolved).replace("\\", "/")


def _resolve(path: Path) -> Path:
    # Like Rust's canonicalize with a fallback: a path that does not exist is kept as given.
    try:
        return Path(os.path.realpath(path, strict=True))
    except (OSError, ValueError):
        return Path(path)


def git_repo_root(path: Path) -> Path | None:
    """The nearest folder at or above `path` holding `.git`, if any."""
    current = _resolve(path)
    for _ in range(_MAX_PARENTS):
        if (current / ".git").exists():
            return current
        if current.parent == current:
            return None
        current = current.parent
    return None


def git_remote_url(repo_root: Path) -> str | None:
    """The `origin` remote's URL from the checkout's git config, read without running git."""
    try:
        git = repo_root / ".git"
        if git.is_file():
            # A worktree or submodule: `.git` names the real git folder.
            text = git.read_text(encoding="utf-8").strip()
            git = (repo_root / text.removeprefix("gitdir:").strip()).resolve()
            common = git / "commondir"
            if common.is_file():
                git = (git / common.read_text(encoding="utf-8").strip()).resolve()
        return _origin_url((git / "config").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _origin_url(config: str) -> str | None:
    section = None
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[]").replace(" ", "").lower()
            continue
        if section == 'remote"origin"':
            name, sep, value = line.partition("=")
            if sep and name.strip().lower() == "url":
                return value.strip()
    return None


# -- reading what a peer sent ---------------------------------------------------------------


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _snake(name: str | None) -> str | None:
    """`inProgress` -> `in_progress`: protocol enums are camelCase, analytics snake_case."""
    if name is None:
        return None
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _request_key(connection_id: int, request_id: object) -> tuple[int, str] | None:
    # JSON-RPC ids are numbers or strings; 1 and "1" are different requests.
    if isinstance(request_id, bool) or not isinstance(request_id, (int, str)):
        return None
    return connection_id, json.dumps(request_id)


def _put(table: dict[Any, Any], key: object, value: object) -> None:
    table.pop(key, None)
    if len(table) >= MAX_TRACKED:
        del table[next(iter(table))]
    table[key] = value


def _event(event_type: str, **params: Any) -> TrackEvent:
    return TrackEvent({"event_type": event_type, "event_params": params})


def _runtime(runtime: RuntimeMetadata | None) -> dict[str, Any]:
    if runtime is None:
        runtime = current_runtime()
    return asdict(runtime)


def _thread_source(source: object) -> tuple[str | None, str | None, str | None]:
    """(thread_source, subagent_source, parent_thread_id) of a protocol `SessionSource`."""
    if isinstance(source, str):
        return ("user" if source in _USER_SOURCES else None), None, None
    subagent = _obj(source).get("subAgent", _obj(source).get("subagent"))
    if subagent is None:
        return None, None, None
    if isinstance(subagent, str):
        return "subagent", _snake(subagent), None
    spawn = _obj(subagent)
    for name in ("thread_spawn", "threadSpawn"):
        if name in spawn:
            details = _obj(spawn[name])
            parent = details.get("parent_thread_id", details.get("parentThreadId"))
            return "subagent", "thread_spawn", _str(parent)
    other = _str(spawn.get("other"))
    return "subagent", other, None


def _count_images(items: object) -> int:
    if not isinstance(items, list):
        return 0
    return sum(
        1 for item in items if _obj(item).get("type") in ("image", "localImage", "local_image")
    )


def _rejection_reason(error: dict[str, Any]) -> str:
    data = _obj(error.get("data"))
    reason = _str(data.get("reason")) or _str(data.get("codexErrorInfo"))
    if reason is not None:
        return _snake(reason) or "other"
    message = (_str(error.get("message")) or "").lower()
    if "no active turn" in message:
        return "no_active_turn"
    if "expected" in message and "turn" in message:
        return "expected_turn_mismatch"
    return "other"


def _turn_error(error: object) -> str | None:
    """The turn error's kind (`codexErrorInfo`), never its message."""
    info = _obj(error).get("codexErrorInfo")
    if isinstance(info, str):
        return _snake(info)
    if isinstance(info, dict) and len(info) == 1:
        return _snake(str(next(iter(info))))
    return None if error is None else "other"


def _decision(decision: object) -> tuple[str, str]:
    """(status, resolution) of a command or file-change approval answer."""
    if isinstance(decision, dict) and len(decision) == 1:
        name = next(iter(decision))
        if name in ("acceptWithExecpolicyAmendment", "accept_with_execpolicy_amendment"):
            return "approved", "exec_policy_amendment"
        if name in ("applyNetworkPolicyAmendment", "apply_network_policy_amendment"):
            return "approved", "network_policy_amendment"
    return {
        "accept": ("approved", "none"),
        "approved": ("approved", "none"),
        "acceptForSession": ("approved", "session_approval"),
        "approved_for_session": ("approved", "session_approval"),
        "decline": ("denied", "none"),
        "denied": ("denied", "none"),
        "cancel": ("aborted", "none"),
        "abort": ("aborted", "none"),
    }.get(decision if isinstance(decision, str) else "", ("aborted", "none"))


def _permissions_answer(result: dict[str, Any]) -> tuple[str, str]:
    # A permissions request has no "deny": granting nothing is the refusal.
    granted = result.get("permissions")
    if not granted:
        return "denied", "none"
    return "approved", ("session_approval" if result.get("scope") == "session" else "none")


def _guardian_key(params: dict[str, Any]) -> tuple[str, str, str] | None:
    thread_id, turn_id = _str(params.get("threadId")), _str(params.get("turnId"))
    review_id = _str(params.get("reviewId")) or _str(params.get("targetItemId"))
    if thread_id is None or turn_id is None or review_id is None:
        return None
    return thread_id, turn_id, review_id


_ACTION_FIELDS = {
    "shell": ("sandbox_permissions", "additional_permissions"),
    "unified_exec": ("sandbox_permissions", "additional_permissions", "tty"),
    "execve": ("source", "program", "additional_permissions"),
    "apply_patch": (),
    "network_access": ("protocol", "port"),
    "mcp_tool_call": ("server", "tool_name", "connector_id", "connector_name", "tool_title"),
    "request_permissions": (),
}


def _reviewed_action(fact: GuardianReviewFact) -> dict[str, Any]:
    action = fact.reviewed_action
    names: Iterable[str] = _ACTION_FIELDS.get(action.type, ())
    return {"type": action.type, **{name: getattr(action, name) for name in names}}
