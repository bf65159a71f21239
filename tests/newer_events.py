"""A scripted session emitting each of the catalog's newer events (every optional field
given), and the whole attribute dict each must arrive as."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from codex_otel import OtelEventManager, RequestAuth
from tests.conftest import AUTH_ENV, expect

RATIONALE = "Reads a file inside the workspace; token sk-proj-Zq8vN3kLmP0aBcDeFgHiJkLm is not used."


def emit_newer(manager: OtelEventManager) -> None:
    """One of each newer event (both opt-in ones need their switches on)."""
    manager.startup_phase("thread_start_total", 0.015, status="ready")
    manager.websocket_connect(
        0.120,
        status_code=101,
        connection_reused=False,
        endpoint="/responses",
        cf_ray="8f2a-SJC",
        auth=RequestAuth(
            header_attached=True,
            header_name="authorization",
            retry_after_unauthorized=True,
            recovery_mode="reload",
            recovery_phase="after_unauthorized",
            request_id="req_ws_1",
            error="token expired",
            error_code="token_expired",
        ),
    )
    manager.websocket_request(timedelta(milliseconds=850), error="socket closed")
    manager.auth_recovery(
        "chatgpt",
        "refresh_token",
        "recovered",
        request_id="req_9",
        cf_ray="8f2b-SJC",
        error="401 Unauthorized",
        error_code="invalid_token",
        recovery_reason="unauthorized",
        state_changed=True,
    )
    manager.sandbox_outcome("shell", "call-1", "escalated", 0.004, 1.25)
    manager.turn_ttft(0.8)
    manager.plugin_install_elicitation_sent("connector", "github", "GitHub")
    manager.plugin_install_suggestion(
        "plugin",
        "linear",
        "Linear",
        response_action="decline",
        user_confirmed=False,
        completed=False,
    )
    manager.agent_response(
        "msg-1",
        "All tests pass.",
        turn_id="turn-9",
        agent_type="subagent",
        parent_conversation_id="conv-parent",
        parent_turn_id="turn-3",
        root_turn_id="turn-1",
    )
    manager.guardian_assessment(
        "review-1",
        status="approved",
        started_at_ms=1_767_225_600_000,
        turn_id="turn-9",
        item_id="call-2",
        outcome="allow",
        risk_level="low",
        user_authorization="low",
        completed_at_ms=1_767_225_600_420,
        rationale=RATIONALE,
    )


def expected_newer() -> list[tuple[str, dict[str, Any]]]:
    """What `emit_newer` must export: (event name, whole attribute dict)."""

    def event(name: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return name, expect(name, **fields)

    return [
        event(
            "codex.startup_phase",
            duration_ms=15,
            **{"startup.phase": "thread_start_total", "startup.status": "ready"},
        ),
        event(
            "codex.websocket_connect",
            duration_ms=120,
            success="true",
            endpoint="/responses",
            **{
                "http.response.status_code": 101,
                "auth.connection_reused": False,
                "auth.header_attached": True,
                "auth.header_name": "authorization",
                "auth.retry_after_unauthorized": True,
                "auth.recovery_mode": "reload",
                "auth.recovery_phase": "after_unauthorized",
                **AUTH_ENV,
                "auth.request_id": "req_ws_1",
                "auth.cf_ray": "8f2a-SJC",
                "auth.error": "token expired",
                "auth.error_code": "token_expired",
            },
        ),
        event(
            "codex.websocket_request",
            duration_ms=850,
            success="false",
            **{"error.message": "socket closed", "auth.connection_reused": False, **AUTH_ENV},
        ),
        event(
            "codex.auth_recovery",
            **{
                "auth.mode": "chatgpt",
                "auth.step": "refresh_token",
                "auth.outcome": "recovered",
                "auth.request_id": "req_9",
                "auth.cf_ray": "8f2b-SJC",
                "auth.error": "401 Unauthorized",
                "auth.error_code": "invalid_token",
                "auth.recovery_reason": "unauthorized",
                "auth.state_changed": True,
            },
        ),
        event(
            "codex.sandbox_outcome",
            tool_name="shell",
            call_id="call-1",
            outcome="escalated",
            initial_duration_ms=4,
            escalated_duration_ms=1250,
        ),
        event("codex.turn_ttft", duration_ms=800),
        event(
            "codex.plugin_install_elicitation_sent",
            **{
                "plugin_install.tool_type": "connector",
                "plugin_install.tool_id": "github",
                "plugin_install.tool_name": "GitHub",
            },
        ),
        event(
            "codex.plugin_install_suggestion",
            **{
                "plugin_install.tool_type": "plugin",
                "plugin_install.tool_id": "linear",
                "plugin_install.tool_name": "Linear",
                "plugin_install.response_action": "decline",
                "plugin_install.user_confirmed": False,
                "plugin_install.completed": False,
            },
        ),
        event(
            "codex.agent_response",
            response="All tests pass.",
            response_length=len("All tests pass."),
            response_truncated=False,
            **{
                "agent.type": "subagent",
                "item.id": "msg-1",
                "parent.conversation.id": "conv-parent",
                "parent.turn.id": "turn-3",
                "root.turn.id": "turn-1",
                "turn.id": "turn-9",
            },
        ),
        event(
            "codex.guardian_assessment",
            status="approved",
            outcome="allow",
            risk_level="low",
            user_authorization="low",
            started_at_ms=1_767_225_600_000,
            completed_at_ms=1_767_225_600_420,
            # Scrubbed as tool output is; the length is the text's as given.
            rationale=RATIONALE.replace("sk-proj-Zq8vN3kLmP0aBcDeFgHiJkLm", "[SECRET]"),
            rationale_length=len(RATIONALE),
            rationale_truncated=False,
            **{"review.id": "review-1", "item.id": "call-2", "turn.id": "turn-9"},
        ),
    ]
