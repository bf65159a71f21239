"""The catalog's newer events (Codex's connections, start-up, turns, plugins, sandbox and
reviews): one thin method each, named after its event, mapping its arguments onto the
fields `catalog.EVENTS` declares. `OtelEventManager` provides the one record path."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ._event_fields import NO_REQUEST_AUTH, RequestAuth, millis
from .catalog import AgentType, Attr, Event, GuardianOutcome, RiskLevel

if TYPE_CHECKING:
    from ._metrics import MetricsRecorder

__all__ = ["NewerEvents"]


class NewerEvents:
    """Mixed into `OtelEventManager`."""

    _auth_env_fields: Mapping[str, object]
    _silent: bool
    """Neither events nor metrics: every method returns before building anything."""
    _log_agent_responses: bool
    _log_guardian_assessments: bool

    def _emit(
        self,
        event: str | None,
        values: Mapping[str, Any],
        metric: Callable[..., None] | None = None,
        *args: Any,
    ) -> None:
        """Record `event` (None: the metric only) with `values` by attribute key (`turn.id`
        among them overrides the turn's), and `metric(recorder, *args)` beside it."""
        raise NotImplementedError  # provided by OtelEventManager

    def _auth_fields(self) -> Mapping[str, object]:
        """The `auth.env_*` fields: which credentials the environment holds."""
        return self._auth_env_fields

    # -- connections ---------------------------------------------------------------

    def websocket_connect(
        self,
        duration: timedelta | float,
        *,
        status_code: int | None = None,
        error: str | None = None,
        connection_reused: bool = False,
        endpoint: str = "/responses",
        cf_ray: str | None = None,
        auth: RequestAuth | None = None,
    ) -> None:
        """`codex.websocket_connect`: a Responses API WebSocket connect, timed elsewhere. It
        succeeded without an error and with a 2xx status or the handshake's 101 (or none)."""
        if self._silent:
            return
        success = error is None and (
            status_code is None or status_code == 101 or 200 <= status_code <= 299
        )
        given = auth or NO_REQUEST_AUTH
        self._emit(
            Event.WEBSOCKET_CONNECT,
            {
                Attr.DURATION_MS: millis(duration),
                Attr.HTTP_STATUS_CODE: status_code,
                Attr.SUCCESS: success,
                Attr.ERROR_MESSAGE: error,
                Attr.AUTH_CONNECTION_REUSED: connection_reused,
                Attr.ENDPOINT: endpoint,
                **self._auth_fields(),
                # Raw values: the declaration's kinds cap and scrub them.
                **given.fields(None, None, cf_ray, given.error),
            },
        )

    def websocket_request(
        self,
        duration: timedelta | float,
        *,
        error: str | None = None,
        connection_reused: bool = False,
    ) -> None:
        """`codex.websocket_request`: one request over the WebSocket, timed elsewhere."""
        if self._silent:
            return
        self._emit(
            Event.WEBSOCKET_REQUEST,
            {
                Attr.DURATION_MS: millis(duration),
                Attr.SUCCESS: error is None,
                Attr.ERROR_MESSAGE: error,
                Attr.AUTH_CONNECTION_REUSED: connection_reused,
                **self._auth_fields(),
            },
            _websocket_request_metric,
            millis(duration),
            error is None,
        )

    def websocket_event(
        self, kind: str | None, duration: timedelta | float, *, success: bool = True
    ) -> None:
        """A message received on the WebSocket: the `codex.websocket.event` metrics only (Codex
        logs no event for it). `kind` is the message's `type` (None: `unknown`)."""
        if self._silent:
            return
        self._emit(None, {}, _websocket_event_metric, kind, millis(duration), success)

    def auth_recovery(
        self,
        mode: str,
        step: str,
        outcome: str,
        *,
        request_id: str | None = None,
        cf_ray: str | None = None,
        error: str | None = None,
        error_code: str | None = None,
        recovery_reason: str | None = None,
        state_changed: bool | None = None,
    ) -> None:
        """`codex.auth_recovery`: one step of recovering from a 401."""
        if self._silent:
            return
        self._emit(
            Event.AUTH_RECOVERY,
            {
                Attr.RECOVERY_AUTH_MODE: mode,
                Attr.AUTH_STEP: step,
                Attr.AUTH_OUTCOME: outcome,
                Attr.AUTH_REQUEST_ID: request_id,
                Attr.AUTH_CF_RAY: cf_ray,
                Attr.AUTH_ERROR: error,
                Attr.AUTH_ERROR_CODE: error_code,
                Attr.AUTH_RECOVERY_REASON: recovery_reason,
                Attr.AUTH_STATE_CHANGED: state_changed,
            },
        )

    # -- start-up and turns ------------------------------------------------------------

    def startup_phase(
        self, phase: str, duration: timedelta | float, *, status: str | None = None
    ) -> None:
        """`codex.startup_phase`: a coarse start-up phase (e.g. `thread_start_total`) took
        `duration`, ending with `status` (e.g. `ready`)."""
        if self._silent:
            return
        self._emit(
            Event.STARTUP_PHASE,
            {
                Attr.STARTUP_PHASE: phase,
                Attr.STARTUP_STATUS: status,
                Attr.DURATION_MS: millis(duration),
            },
            _startup_metric,
            phase,
            status,
            millis(duration),
        )

    def turn_ttft(self, duration: timedelta | float) -> None:
        """`codex.turn_ttft`: the turn's first output token came `duration` after its start.
        `turn()` records it by itself; call this for turns measured elsewhere."""
        if self._silent:
            return
        self._emit(
            Event.TURN_TTFT,
            {Attr.DURATION_MS: millis(duration)},
            _ttft_metric,
            millis(duration),
        )

    # -- plugins -----------------------------------------------------------------------

    def plugin_install_elicitation_sent(self, tool_type: str, tool_id: str, tool_name: str) -> None:
        """`codex.plugin_install_elicitation_sent`: a plugin or connector install prompt."""
        if self._silent:
            return
        self._emit(
            Event.PLUGIN_INSTALL_ELICITATION_SENT,
            {
                Attr.PLUGIN_TOOL_TYPE: tool_type,
                Attr.PLUGIN_TOOL_ID: tool_id,
                Attr.PLUGIN_TOOL_NAME: tool_name,
            },
            _elicitation_metric,
            tool_type,
        )

    def plugin_install_suggestion(
        self,
        tool_type: str,
        tool_id: str,
        tool_name: str,
        *,
        response_action: str,
        user_confirmed: bool,
        completed: bool,
    ) -> None:
        """`codex.plugin_install_suggestion`: how a suggested install ended."""
        if self._silent:
            return
        self._emit(
            Event.PLUGIN_INSTALL_SUGGESTION,
            {
                Attr.PLUGIN_TOOL_TYPE: tool_type,
                Attr.PLUGIN_TOOL_ID: tool_id,
                Attr.PLUGIN_TOOL_NAME: tool_name,
                Attr.PLUGIN_RESPONSE_ACTION: response_action,
                Attr.PLUGIN_USER_CONFIRMED: user_confirmed,
                Attr.PLUGIN_COMPLETED: completed,
            },
            _suggestion_metric,
            tool_type,
            response_action,
            completed,
        )

    # -- sandbox and reviews -------------------------------------------------------------

    def sandbox_outcome(
        self,
        tool_name: str,
        call_id: str,
        outcome: str,
        initial_duration: timedelta | float,
        escalated_duration: timedelta | float | None = None,
    ) -> None:
        """`codex.sandbox_outcome`: how a sandboxed command ran (`outcome`), and how long it
        took in the sandbox and, when it was escalated, outside."""
        if self._silent:
            return
        self._emit(
            Event.SANDBOX_OUTCOME,
            {
                Attr.TOOL_NAME: tool_name,
                Attr.CALL_ID: call_id,
                Attr.OUTCOME: outcome,
                Attr.INITIAL_DURATION_MS: millis(initial_duration),
                Attr.ESCALATED_DURATION_MS: millis(escalated_duration),
            },
        )

    def agent_response(
        self,
        item_id: str,
        response: str,
        *,
        turn_id: str | None = None,
        agent_type: AgentType | str = AgentType.MAIN,
        parent_conversation_id: str | None = None,
        parent_turn_id: str | None = None,
        root_turn_id: str | None = None,
    ) -> None:
        """`codex.agent_response` (only with `log_agent_responses = true`): a final assistant
        answer, recorded once per `item_id` within a turn; the text is scrubbed and capped
        at 64 KiB. Inside `turn()` the turn's id is used unless `turn_id` is given."""
        if self._silent:
            return
        if not self._log_agent_responses or not self._first_response(item_id):
            return
        self._emit(
            Event.AGENT_RESPONSE,
            {
                Attr.AGENT_TYPE: AgentType(agent_type).value,
                Attr.ITEM_ID: item_id,
                Attr.PARENT_CONVERSATION_ID: parent_conversation_id,
                Attr.PARENT_TURN_ID: parent_turn_id,
                Attr.ROOT_TURN_ID: root_turn_id,
                Attr.RESPONSE: response,
                Attr.TURN_ID: turn_id,
            },
        )

    def _first_response(self, item_id: str) -> bool:
        raise NotImplementedError  # provided by OtelEventManager

    def guardian_assessment(
        self,
        review_id: str,
        *,
        status: str,
        started_at_ms: int,
        turn_id: str | None = None,
        item_id: str | None = None,
        outcome: GuardianOutcome | str | None = None,
        risk_level: RiskLevel | str | None = None,
        user_authorization: str | None = None,
        completed_at_ms: int | None = None,
        rationale: str | None = None,
    ) -> None:
        """`codex.guardian_assessment` (only with `log_guardian_assessments = true`): an
        automated review finished with `status` (`approved`, `denied`, `timed_out`,
        `aborted`); `outcome` (`allow`/`deny`) only for a completed assessment. The
        rationale is scrubbed and capped at 64 KiB."""
        if self._silent:
            return
        if not self._log_guardian_assessments:
            return
        self._emit(
            Event.GUARDIAN_ASSESSMENT,
            {
                Attr.REVIEW_ID: review_id,
                Attr.ITEM_ID: item_id,
                Attr.STATUS: status,
                Attr.OUTCOME: None if outcome is None else GuardianOutcome(outcome).value,
                Attr.RISK_LEVEL: None if risk_level is None else RiskLevel(risk_level).value,
                Attr.USER_AUTHORIZATION: user_authorization,
                Attr.STARTED_AT_MS: started_at_ms,
                Attr.COMPLETED_AT_MS: completed_at_ms,
                Attr.RATIONALE: rationale,
                Attr.TURN_ID: turn_id,
            },
        )


# The metric beside each event, as plain functions: the record path calls them with the
# method's own arguments, so no closure is built per event.


def _websocket_request_metric(recorder: MetricsRecorder, millis: int | None, ok: bool) -> None:
    recorder.websocket_request(millis, ok)


def _websocket_event_metric(
    recorder: MetricsRecorder, kind: str | None, millis: int | None, ok: bool
) -> None:
    recorder.websocket_event(kind, millis, ok)


def _startup_metric(
    recorder: MetricsRecorder, phase: str, status: str | None, millis: int | None
) -> None:
    recorder.startup_phase(phase, status, millis)


def _ttft_metric(recorder: MetricsRecorder, millis: int | None) -> None:
    recorder.turn_ttft(millis)


def _elicitation_metric(recorder: MetricsRecorder, tool_type: str) -> None:
    recorder.plugin_install_elicitation(tool_type)


def _suggestion_metric(
    recorder: MetricsRecorder, tool_type: str, action: str, completed: bool
) -> None:
    recorder.plugin_install_suggestion(tool_type, action, completed)
