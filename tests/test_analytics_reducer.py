"""The reducer alone: plain state and rules, fed facts, compared with whole payloads.

The ten payloads of Codex's analytics history (as its backend logged them) are reproduced
field for field from the facts that produced them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from codex_otel.analytics import (
    AnalyticsReducer,
    AppInvocation,
    CompactionFact,
    GuardianReviewedAction,
    GuardianReviewFact,
    HookRunFact,
    PluginMetadata,
    RuntimeMetadata,
    SkillInvocation,
    SubagentThreadStarted,
    TrackEvent,
    TrackEventsContext,
    TurnResolvedConfig,
    TurnTokenUsage,
    classify_hook_source,
    skill_id_for_skill,
)
from codex_otel.analytics._facts import (
    AppsMentionedFact,
    AppUsedFact,
    ClientRequestFact,
    ClientResponseFact,
    ErrorResponseFact,
    InitializeFact,
    NotificationFact,
    PluginStateFact,
    PluginUsedFact,
    ServerRequestAbortedFact,
    ServerRequestFact,
    ServerResponseFact,
    SkillsInvokedFact,
)
from codex_otel.catalog._analytics import ALL_EVENT_TYPES

MAC = RuntimeMetadata("0.0.0", "macos", "26.4.0", "aarch64")
TUI = 1
EXEC = 2


def initialized(reducer: AnalyticsReducer, connection: int = TUI) -> None:
    name, product = ("codex-tui", "CODEX_CLI") if connection == TUI else ("codex_exec", "")
    product = product or "CODEX_SERVICE_EXEC"
    params = {
        "clientInfo": {"name": name, "version": "0.0.0"},
        "capabilities": {"experimentalApi": True},
    }
    assert reducer.ingest(InitializeFact(connection, params, product, "in_process", MAC)) == []


def thread_response(
    connection: int, method: str, thread_id: str, created_at: int, source: object = "cli"
) -> ClientResponseFact:
    thread = {"id": thread_id, "source": source, "ephemeral": False, "createdAt": created_at}
    message = {"id": 7, "result": {"thread": thread, "model": "gpt-5.3-codex"}}
    return ClientResponseFact(connection, method, message)


def backend_view(params: dict[str, Any]) -> dict[str, Any]:
    """The params as Codex's backend logged them in its first samples: nested objects flat."""
    flat = {k: v for k, v in params.items() if k not in ("app_server_client", "runtime")}
    return {**flat, **params["app_server_client"], **params["runtime"]}


def only(events: list[TrackEvent], event_type: str) -> dict[str, Any]:
    assert [event.event_type for event in events] == [event_type]
    assert set(events[0].body) == {"event_type", "event_params"}
    return events[0].params


# -- the seeds' codex_thread_initialized payloads --------------------------------------------

SEED_THREADS = [
    (
        TUI,
        "thread/start",
        {
            "thread_id": "019d3bf7-9f5f-7f82-9877-6d48d1052531",
            "product_surface": "codex",
            "product_client_id": "CODEX_CLI",
            "client_name": "codex-tui",
            "client_version": "0.0.0",
            "rpc_transport": "in_process",
            "experimental_api_enabled": True,
            "codex_rs_version": "0.0.0",
            "runtime_os": "macos",
            "runtime_os_version": "26.4.0",
            "runtime_arch": "aarch64",
            "model": "gpt-5.3-codex",
            "ephemeral": False,
            "thread_source": "user",
            "initialization_mode": "new",
            "subagent_source": None,
            "parent_thread_id": None,
            "created_at": 1774827577,
        },
    ),
    (
        TUI,
        "thread/resume",
        {
            "thread_id": "019d3b84-5731-79d0-9b3b-9c6efe5f5066",
            "product_surface": "codex",
            "product_client_id": "CODEX_CLI",
            "client_name": "codex-tui",
            "client_version": "0.0.0",
            "rpc_transport": "in_process",
            "experimental_api_enabled": True,
            "codex_rs_version": "0.0.0",
            "runtime_os": "macos",
            "runtime_os_version": "26.4.0",
            "runtime_arch": "aarch64",
            "model": "gpt-5.3-codex",
            "ephemeral": False,
            "thread_source": "user",
            "initialization_mode": "resumed",
            "subagent_source": None,
            "parent_thread_id": None,
            "created_at": 1774820022,
        },
    ),
    (
        TUI,
        "thread/fork",
        {
            "thread_id": "019d3bfd-4cd6-7c12-a13e-48cef02e8c4d",
            "product_surface": "codex",
            "product_client_id": "CODEX_CLI",
            "client_name": "codex-tui",
            "client_version": "0.0.0",
            "rpc_transport": "in_process",
            "experimental_api_enabled": True,
            "codex_rs_version": "0.0.0",
            "runtime_os": "macos",
            "runtime_os_version": "26.4.0",
            "runtime_arch": "aarch64",
            "model": "gpt-5.3-codex",
            "ephemeral": False,
            "thread_source": "user",
            "initialization_mode": "forked",
            "subagent_source": None,
            "parent_thread_id": None,
            "created_at": 1774827949,
        },
    ),
    (
        EXEC,
        "thread/start",
        {
            "thread_id": "019d3c1d-0412-7ed2-ad24-c9c0881a36b0",
            "product_surface": "codex",
            "product_client_id": "CODEX_SERVICE_EXEC",
            "client_name": "codex_exec",
            "client_version": "0.0.0",
            "rpc_transport": "in_process",
            "experimental_api_enabled": True,
            "codex_rs_version": "0.0.0",
            "runtime_os": "macos",
            "runtime_os_version": "26.4.0",
            "runtime_arch": "aarch64",
            "model": "gpt-5.3-codex",
            "ephemeral": False,
            "thread_source": "user",
            "initialization_mode": "new",
            "subagent_source": None,
            "parent_thread_id": None,
            "created_at": 1774830027,
        },
    ),
]


@pytest.mark.parametrize(("connection", "method", "seed"), SEED_THREADS)
def test_thread_response_reproduces_the_seed_payload(
    connection: int, method: str, seed: dict[str, Any]
) -> None:
    reducer = AnalyticsReducer()
    initialized(reducer, connection)
    source = "exec" if connection == EXEC else "cli"
    fact = thread_response(connection, method, seed["thread_id"], seed["created_at"], source)
    params = only(reducer.ingest(fact), "codex_thread_initialized")
    assert backend_view(params) == seed


SEED_SUBAGENTS = [
    (
        {
            "subagent_source": "thread_spawn",
            "parent_thread_id": "019d4aa8-51ec-77e3-bafb-2c1b8e29e385",
        },
        {
            "thread_id": "019d4aa9-233b-70f2-a958-c3dbae1e30fa",
            "product_surface": "codex",
            "app_server_client": {
                "product_client_id": "CODEX_CLI",
                "client_name": "codex-tui",
                "client_version": "0.0.0",
                "rpc_transport": "in_process",
                "experimental_api_enabled": None,
            },
            "runtime": {
                "codex_rs_version": "0.0.0",
                "runtime_os": "macos",
                "runtime_os_version": "26.4.0",
                "runtime_arch": "aarch64",
            },
            "model": "gpt-5.3-codex",
            "ephemeral": False,
            "initialization_mode": "new",
            "created_at": 1775074091,
            "thread_source": "subagent",
            "subagent_source": "thread_spawn",
            "parent_thread_id": "019d4aa8-51ec-77e3-bafb-2c1b8e29e385",
        },
    ),
    (
        {"subagent_source": "review"},
        {
            "thread_id": "019d4aa9-94e3-75f1-8864-ff8ad0e55e1e",
            "product_surface": "codex",
            "app_server_client": {
                "product_client_id": "CODEX_CLI",
                "client_name": "codex-tui",
                "client_version": "0.0.0",
                "rpc_transport": "in_process",
                "experimental_api_enabled": None,
            },
            "runtime": {
                "codex_rs_version": "0.0.0",
                "runtime_os": "macos",
                "runtime_os_version": "26.4.0",
                "runtime_arch": "aarch64",
            },
            "model": "gpt-5.3-codex",
            "ephemeral": False,
            "initialization_mode": "new",
            "created_at": 1775074120,
            "thread_source": "subagent",
            "subagent_source": "review",
            "parent_thread_id": None,
        },
    ),
]


@pytest.mark.parametrize(("source", "seed"), SEED_SUBAGENTS)
def test_subagent_thread_reproduces_the_seed_payload(
    source: dict[str, Any], seed: dict[str, Any]
) -> None:
    fact = SubagentThreadStarted(
        thread_id=seed["thread_id"],
        product_client_id="CODEX_CLI",
        client_name="codex-tui",
        client_version="0.0.0",
        model="gpt-5.3-codex",
        ephemeral=False,
        created_at=seed["created_at"],
        runtime=MAC,
        **source,
    )
    assert only(AnalyticsReducer().ingest(fact), "codex_thread_initialized") == seed


# -- the seeds' codex_compaction_event payloads -------------------------------------------------

CLIENT = {
    "product_client_id": "CODEX_CLI",
    "client_name": "codex-tui",
    "client_version": "0.0.0",
    "rpc_transport": "in_process",
    "experimental_api_enabled": True,
}
RUNTIME = {
    "codex_rs_version": "0.0.0",
    "runtime_os": "macos",
    "runtime_os_version": "26.4.0",
    "runtime_arch": "aarch64",
}


def seed_compaction(
    thread_id: str,
    turn_id: str,
    trigger: str,
    reason: str,
    implementation: str,
    phase: str,
    before: int,
    after: int,
    started_at: int,
    completed_at: int,
    duration_ms: int,
) -> dict[str, Any]:
    return {
        "thread_id": thread_id,
        "turn_id": turn_id,
        "product_surface": "codex",
        "app_server_client": CLIENT,
        "runtime": RUNTIME,
        "trigger": trigger,
        "reason": reason,
        "implementation": implementation,
        "phase": phase,
        "strategy": "memento",
        "status": "completed",
        "active_context_tokens_before": before,
        "active_context_tokens_after": after,
        "started_at": started_at,
        "completed_at": completed_at,
        "thread_source": "user",
        "subagent_source": None,
        "parent_thread_id": None,
        "error": None,
        "duration_ms": duration_ms,
    }


SEED_COMPACTIONS = {
    "manual": seed_compaction(
        "019d74d0-5cfb-70c0-bef9-165c3bf9b2df",
        "019d74d0-d7f6-7c81-acc6-aae2030243d6",
        "manual",
        "user_requested",
        "responses",
        "standalone_turn",
        20170,
        4830,
        1775781337,
        1775781350,
        13524,
    ),
    "auto pre-turn": seed_compaction(
        "019d74d2-45ef-71d1-9c93-23cc0c13d988",
        "019d74d2-7b42-7372-9f0e-c0da3f352328",
        "auto",
        "context_limit",
        "responses",
        "pre_turn",
        20063,
        4822,
        1775781444,
        1775781449,
        5497,
    ),
    "auto mid-turn": seed_compaction(
        "019d74d3-212f-7a20-8c0a-4816a978675e",
        "019d74d3-3ee1-7462-89f6-2ffbeefcd5e3",
        "auto",
        "context_limit",
        "responses",
        "mid_turn",
        20325,
        14641,
        1775781500,
        1775781508,
        7507,
    ),
    "remote": seed_compaction(
        "019d74d4-7a11-78a1-89f7-0535a1149416",
        "019d74d4-e087-7183-9c20-b1e40b7578c0",
        "manual",
        "user_requested",
        "responses_compact",
        "standalone_turn",
        23461,
        6171,
        1775781601,
        1775781620,
        18971,
    ),
}


@pytest.mark.parametrize("name", list(SEED_COMPACTIONS))
def test_compaction_reproduces_the_seed_payload(name: str) -> None:
    seed = SEED_COMPACTIONS[name]
    reducer = AnalyticsReducer()
    initialized(reducer)
    reducer.ingest(thread_response(TUI, "thread/start", seed["thread_id"], 1775781300))
    fact = CompactionFact(
        thread_id=seed["thread_id"],
        turn_id=seed["turn_id"],
        trigger=seed["trigger"],
        reason=seed["reason"],
        implementation=seed["implementation"],
        phase=seed["phase"],
        status="completed",
        active_context_tokens_before=seed["active_context_tokens_before"],
        active_context_tokens_after=seed["active_context_tokens_after"],
        started_at=seed["started_at"],
        completed_at=seed["completed_at"],
        duration_ms=seed["duration_ms"],
    )
    assert only(reducer.ingest(fact), "codex_compaction_event") == seed


def test_compaction_of_a_thread_never_seen_yields_nothing() -> None:
    fact = CompactionFact(
        "t-unknown",
        "u",
        "manual",
        "user_requested",
        "responses",
        "pre_turn",
        "completed",
        1,
        1,
        1,
        1,
    )
    assert AnalyticsReducer().ingest(fact) == []


def test_thread_response_on_a_connection_never_initialized_yields_nothing() -> None:
    assert AnalyticsReducer().ingest(thread_response(9, "thread/start", "t", 1)) == []


# -- custom facts ------------------------------------------------------------------------------

TRACKING = TrackEventsContext(thread_id="th-1", turn_id="tu-1", model_slug="gpt-5-codex")
PLUGIN = PluginMetadata(
    plugin_name="linear",
    marketplace_name="openai-curated",
    has_skills=True,
    mcp_server_names=("linear", "linear-docs"),
    connector_ids=("connector_linear",),
)
PLUGIN_PARAMS = {
    "plugin_id": "linear@openai-curated",
    "plugin_name": "linear",
    "marketplace_name": "openai-curated",
    "has_skills": True,
    "mcp_server_count": 2,
    "connector_ids": ["connector_linear"],
    "product_client_id": "codex_cli_rs",
}


def test_hook_run_payload() -> None:
    fact = HookRunFact(TRACKING, "PreToolUse", "project", "blocked")
    assert only(AnalyticsReducer().ingest(fact), "codex_hook_run") == {
        "thread_id": "th-1",
        "turn_id": "tu-1",
        "model_slug": "gpt-5-codex",
        "hook_name": "PreToolUse",
        "hook_source": "project",
        "status": "blocked",
    }


def test_hook_source_is_classified_from_where_the_hook_was_loaded(tmp_path: Path) -> None:
    home, project = tmp_path / "home" / ".codex", tmp_path / "work" / "repo"
    kw: dict[str, Any] = {"codex_home": home, "project_root": project}
    assert classify_hook_source(home / "hooks" / "a.sh", **kw) == "user"
    assert classify_hook_source(project / ".codex" / "b.sh", **kw) == "project"
    assert classify_hook_source("/etc/codex/hooks/c.sh", **kw) == "system"
    assert classify_hook_source(tmp_path / "elsewhere.sh", **kw) == "unknown"
    assert classify_hook_source(None, **kw) == "unknown"


def test_app_mentioned_makes_one_event_per_mention_and_app_used_one() -> None:
    reducer = AnalyticsReducer()
    mentions = (
        AppInvocation("connector_gdrive", "Google Drive", "explicit"),
        AppInvocation(None, "Calendar", None),
    )
    events = reducer.ingest(AppsMentionedFact(TRACKING, mentions))
    base = {
        "thread_id": "th-1",
        "turn_id": "tu-1",
        "product_client_id": "codex_cli_rs",
        "model_slug": "gpt-5-codex",
    }
    assert [e.body for e in events] == [
        {
            "event_type": "codex_app_mentioned",
            "event_params": {
                **base,
                "connector_id": "connector_gdrive",
                "app_name": "Google Drive",
                "invoke_type": "explicit",
            },
        },
        {
            "event_type": "codex_app_mentioned",
            "event_params": {
                **base,
                "connector_id": None,
                "app_name": "Calendar",
                "invoke_type": None,
            },
        },
    ]
    used = reducer.ingest(AppUsedFact(TRACKING, mentions[0]))
    assert only(used, "codex_app_used") == {
        **base,
        "connector_id": "connector_gdrive",
        "app_name": "Google Drive",
        "invoke_type": "explicit",
    }


def test_plugin_used_carries_the_tracking_context() -> None:
    events = AnalyticsReducer().ingest(PluginUsedFact(TRACKING, PLUGIN))
    assert only(events, "codex_plugin_used") == {
        **PLUGIN_PARAMS,
        "thread_id": "th-1",
        "turn_id": "tu-1",
        "model_slug": "gpt-5-codex",
    }


@pytest.mark.parametrize("state", ["installed", "uninstalled", "enabled", "disabled"])
def test_plugin_state_changes(state: Any) -> None:
    events = AnalyticsReducer().ingest(PluginStateFact(PLUGIN, state))
    assert only(events, f"codex_plugin_{state}") == PLUGIN_PARAMS


def test_remote_plugin_id_replaces_the_local_key_and_unknown_summary_stays_null() -> None:
    plugin = PluginMetadata("notes", "remote", remote_plugin_id="plg_123")
    events = AnalyticsReducer().ingest(PluginStateFact(plugin, "installed"))
    assert only(events, "codex_plugin_installed") == {
        "plugin_id": "plg_123",
        "plugin_name": "notes",
        "marketplace_name": "remote",
        "has_skills": None,
        "mcp_server_count": None,
        "connector_ids": None,
        "product_client_id": "codex_cli_rs",
    }


def make_repo(root: Path, url: str) -> None:
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(
        '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://x/other.git\n'
        f'[remote "origin"]\n\turl = {url}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n'
    )


def test_skill_invocation_in_a_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo, "git@github.com:acme/tools.git")
    skill = repo / ".codex" / "skills" / "lint" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text("# lint")
    invocation = SkillInvocation("lint", "repo", skill, "explicit")
    events = AnalyticsReducer().ingest(SkillsInvokedFact(TRACKING, (invocation,)))
    raw = "repo_git@github.com:acme/tools.git_.codex/skills/lint/SKILL.md_lint"
    assert [e.body for e in events] == [
        {
            "event_type": "skill_invocation",
            "skill_id": hashlib.sha1(raw.encode()).hexdigest(),
            "skill_name": "lint",
            "event_params": {
                "product_client_id": "codex_cli_rs",
                "skill_scope": "repo",
                "repo_url": "git@github.com:acme/tools.git",
                "thread_id": "th-1",
                "invoke_type": "explicit",
                "model_slug": "gpt-5-codex",
            },
        }
    ]


def test_skill_outside_a_repository_is_personal_with_its_resolved_absolute_path(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real" / "SKILL.md"
    real.parent.mkdir()
    real.write_text("# s")
    link = tmp_path / "link"
    link.symlink_to(real.parent)
    expected_raw = f"personal_{real.resolve()}_notes"
    assert skill_id_for_skill(None, None, link / "SKILL.md", "notes") == (
        hashlib.sha1(expected_raw.encode()).hexdigest()
    )


def test_skill_id_writes_backslashes_as_slashes() -> None:
    path = Path("C:\\Users\\me\\skills\\x\\SKILL.md")
    raw = "personal_C:/Users/me/skills/x/SKILL.md_x"
    assert skill_id_for_skill(None, None, path, "x") == hashlib.sha1(raw.encode()).hexdigest()


def test_guardian_review_keeps_only_low_risk_metadata() -> None:
    reducer = AnalyticsReducer()
    initialized(reducer)
    reducer.ingest(thread_response(TUI, "thread/start", "th-1", 100))
    fact = GuardianReviewFact(
        thread_id="th-1",
        turn_id="tu-1",
        review_id="rev-1",
        reviewed_action=GuardianReviewedAction(
            type="unified_exec", sandbox_permissions="require_escalated", tty=True
        ),
        decision="approved",
        terminal_status="approved",
        started_at_ms=1_775_000_000_250,
        completed_at_ms=1_775_000_002_750,
        review_timeout_ms=90_000,
        risk_level="low",
        user_authorization="high",
        outcome="allow",
        guardian_model="gpt-5.4-mini",
        input_tokens=1200,
        total_tokens=1300,
    )
    assert only(reducer.ingest(fact), "codex_guardian_review") == {
        "app_server_client": CLIENT,
        "runtime": RUNTIME,
        "thread_id": "th-1",
        "turn_id": "tu-1",
        "review_id": "rev-1",
        "target_item_id": None,
        "approval_request_source": "main_turn",
        "reviewed_action": {
            "type": "unified_exec",
            "sandbox_permissions": "require_escalated",
            "additional_permissions": None,
            "tty": True,
        },
        "reviewed_action_truncated": False,
        "decision": "approved",
        "terminal_status": "approved",
        "failure_reason": None,
        "risk_level": "low",
        "user_authorization": "high",
        "outcome": "allow",
        "guardian_thread_id": None,
        "guardian_session_kind": None,
        "guardian_model": "gpt-5.4-mini",
        "guardian_reasoning_effort": None,
        "had_prior_review_context": None,
        "review_timeout_ms": 90_000,
        "tool_call_count": None,
        "time_to_first_token_ms": None,
        "completion_latency_ms": 2500,
        "started_at": 1_775_000_000,
        "completed_at": 1_775_000_002,
        "input_tokens": 1200,
        "cached_input_tokens": None,
        "output_tokens": None,
        "reasoning_output_tokens": None,
        "total_tokens": 1300,
    }


# -- a scripted app-server session: turns, steers, reviews ------------------------------------

T0 = 1_775_781_337_000
THREAD_META = {"thread_source": "user", "subagent_source": None, "parent_thread_id": None}


def session(reducer: AnalyticsReducer) -> list[TrackEvent]:
    """A turn with an image, a tool call of each kind, an accepted and a rejected steer,
    two user reviews and a guardian review; returns every event, in order."""
    initialized(reducer)
    out = reducer.ingest(thread_response(TUI, "thread/start", "th-1", T0 // 1000))

    def feed(fact: Any) -> None:
        out.extend(reducer.ingest(fact))

    def note(method: str, params: dict[str, Any], at: int) -> None:
        feed(NotificationFact(TUI, {"method": method, "params": params}, at))

    turn_input = [{"type": "text", "text": "fix"}, {"type": "localImage", "path": "/tmp/a.png"}]
    start = {"id": 2, "method": "turn/start", "params": {"threadId": "th-1", "input": turn_input}}
    feed(ClientRequestFact(TUI, start, T0))
    feed(
        TurnResolvedConfig(
            "th-1",
            "tu-1",
            model="gpt-5-codex",
            model_provider="openai",
            sandbox_policy="workspace_write",
            reasoning_effort="high",
            approval_policy="on-request",
            sandbox_network_access=False,
            is_first_turn=True,
        )
    )
    feed(ClientResponseFact(TUI, "turn/start", {"id": 2, "result": {"turn": {"id": "tu-1"}}}))
    note("turn/started", {"threadId": "th-1", "turn": {"id": "tu-1", "status": "inProgress"}}, T0)
    for n, kind in enumerate(["commandExecution", "fileChange", "mcpToolCall", "webSearch"]):
        item = {"threadId": "th-1", "turnId": "tu-1", "item": {"type": kind, "id": f"i{n}"}}
        note("item/started", item, T0 + 10)
        note("item/completed", item, T0 + 20)
    note(
        "item/completed",
        {"threadId": "th-1", "turnId": "tu-1", "item": {"type": "agentMessage"}},
        T0 + 21,
    )
    steer = {"threadId": "th-1", "expectedTurnId": "tu-1", "input": []}
    feed(ClientRequestFact(TUI, {"id": 3, "method": "turn/steer", "params": steer}, T0 + 30))
    feed(ClientResponseFact(TUI, "turn/steer", {"id": 3, "result": {"turnId": "tu-1"}}))
    stale = {**steer, "expectedTurnId": "tu-0"}
    feed(ClientRequestFact(TUI, {"id": 4, "method": "turn/steer", "params": stale}, T0 + 40))
    error = {"code": -32600, "message": "expected turn tu-0 but active turn is tu-1"}
    feed(ErrorResponseFact(TUI, "turn/steer", {"id": 4, "error": error}))
    approval = {"threadId": "th-1", "turnId": "tu-1", "itemId": "i0", "command": "rm -rf /tmp/x"}
    feed(
        ServerRequestFact(
            TUI,
            {"id": 0, "method": "item/commandExecution/requestApproval", "params": approval},
            T0 + 100,
        )
    )
    feed(ServerResponseFact(TUI, {"id": 0, "result": {"decision": "acceptForSession"}}, T0 + 350))
    patch = {"threadId": "th-1", "turnId": "tu-1", "itemId": "i1", "reason": "write a.py"}
    feed(
        ServerRequestFact(
            TUI, {"id": "p", "method": "item/fileChange/requestApproval", "params": patch}, T0 + 400
        )
    )
    feed(ServerRequestAbortedFact(TUI, "p", T0 + 450))
    guardian = {
        "threadId": "th-1",
        "turnId": "tu-1",
        "targetItemId": "i2",
        "action": {"type": "mcpToolCall", "server": "linear"},
    }
    note(
        "item/autoApprovalReview/started",
        {**guardian, "review": {"status": "inProgress"}},
        T0 + 500,
    )
    note(
        "item/autoApprovalReview/completed",
        {**guardian, "review": {"status": "denied", "riskLevel": "high"}},
        T0 + 800,
    )
    feed(
        TurnTokenUsage(
            "th-1",
            "tu-1",
            input_tokens=1000,
            cached_input_tokens=200,
            output_tokens=300,
            reasoning_output_tokens=50,
            total_tokens=1300,
        )
    )
    note(
        "turn/completed",
        {"threadId": "th-1", "turn": {"id": "tu-1", "status": "completed"}},
        T0 + 4321,
    )
    return out


def test_scripted_session_produces_turn_steer_and_review_events() -> None:
    events = session(AnalyticsReducer())
    assert [e.event_type for e in events] == [
        "codex_thread_initialized",
        "codex_turn_steer_event",
        "codex_turn_steer_event",
        "codex_review_event",
        "codex_review_event",
        "codex_review_event",
        "codex_turn_event",
    ]
    steer = {
        "thread_id": "th-1",
        "expected_turn_id": "tu-1",
        "app_server_client": CLIENT,
        "runtime": RUNTIME,
        **THREAD_META,
        "num_input_images": 0,
    }
    assert events[1].params == {
        **steer,
        "accepted_turn_id": "tu-1",
        "result": "accepted",
        "rejection_reason": None,
        "created_at": (T0 + 30) // 1000,
    }
    assert events[2].params == {
        **steer,
        "expected_turn_id": "tu-0",
        "accepted_turn_id": None,
        "result": "rejected",
        "rejection_reason": "expected_turn_mismatch",
        "created_at": (T0 + 40) // 1000,
    }
    review = {
        "thread_id": "th-1",
        "turn_id": "tu-1",
        "app_server_client": CLIENT,
        "runtime": RUNTIME,
        **THREAD_META,
        "trigger": "initial",
    }
    assert events[3].params == {
        **review,
        "item_id": "i0",
        "review_id": "0",
        "subject_kind": "command_execution",
        "subject_name": "shell",
        "reviewer": "user",
        "status": "approved",
        "resolution": "session_approval",
        "started_at_ms": T0 + 100,
        "completed_at_ms": T0 + 350,
        "duration_ms": 250,
    }
    assert events[4].params == {
        **review,
        "item_id": "i1",
        "review_id": "p",
        "subject_kind": "file_change",
        "subject_name": "apply_patch",
        "reviewer": "user",
        "status": "aborted",
        "resolution": "none",
        "started_at_ms": T0 + 400,
        "completed_at_ms": T0 + 450,
        "duration_ms": 50,
    }
    assert events[5].params == {
        **review,
        "item_id": "i2",
        "review_id": "i2",
        "subject_kind": "mcp_tool_call",
        "subject_name": "mcp_tool_call",
        "reviewer": "guardian",
        "status": "denied",
        "resolution": "none",
        "started_at_ms": T0 + 500,
        "completed_at_ms": T0 + 800,
        "duration_ms": 300,
    }
    assert events[6].params == {
        "thread_id": "th-1",
        "turn_id": "tu-1",
        "product_client_id": "CODEX_CLI",
        "submission_type": None,
        "app_server_client": CLIENT,
        "runtime": RUNTIME,
        "ephemeral": False,
        "initialization_mode": "new",
        **THREAD_META,
        "model": "gpt-5-codex",
        "model_provider": "openai",
        "sandbox_policy": "workspace_write",
        "reasoning_effort": "high",
        "reasoning_summary": None,
        "service_tier": None,
        "approval_policy": "on-request",
        "approvals_reviewer": None,
        "sandbox_network_access": False,
        "collaboration_mode": None,
        "personality": None,
        "num_input_images": 1,
        "is_first_turn": True,
        "status": "completed",
        "turn_error": None,
        "steer_count": 1,
        "total_tool_call_count": 4,
        "shell_command_count": 1,
        "file_change_count": 1,
        "mcp_tool_call_count": 1,
        "dynamic_tool_call_count": 0,
        "subagent_tool_call_count": 0,
        "web_search_count": 1,
        "image_generation_count": 0,
        "input_tokens": 1000,
        "cached_input_tokens": 200,
        "output_tokens": 300,
        "reasoning_output_tokens": 50,
        "total_tokens": 1300,
        "duration_ms": 4321,
        "started_at": T0 // 1000,
        "completed_at": (T0 + 4321) // 1000,
    }


def test_failed_turn_reports_the_error_kind_never_its_message() -> None:
    reducer = AnalyticsReducer()
    initialized(reducer)
    reducer.ingest(thread_response(TUI, "thread/start", "th-1", 1))
    started = {"method": "turn/started", "params": {"threadId": "th-1", "turn": {"id": "u"}}}
    reducer.ingest(NotificationFact(TUI, started, 5_000))
    turn = {
        "id": "u",
        "status": "failed",
        "error": {"message": "secret path /home/me", "codexErrorInfo": "contextWindowExceeded"},
    }
    done = {"method": "turn/completed", "params": {"threadId": "th-1", "turn": turn}}
    params = only(reducer.ingest(NotificationFact(TUI, done, 6_500)), "codex_turn_event")
    assert (params["status"], params["turn_error"], params["duration_ms"]) == (
        "failed",
        "context_window_exceeded",
        1500,
    )
    assert "secret" not in repr(params)


def test_every_event_type_is_produced_by_some_fact() -> None:
    reducer = AnalyticsReducer()
    events = session(reducer)
    events += reducer.ingest(HookRunFact(TRACKING, "Stop", "user", "completed"))
    events += reducer.ingest(AppsMentionedFact(TRACKING, (AppInvocation("c", "C"),)))
    events += reducer.ingest(AppUsedFact(TRACKING, AppInvocation("c", "C")))
    events += reducer.ingest(PluginUsedFact(TRACKING, PLUGIN))
    for state in ("installed", "uninstalled", "enabled", "disabled"):
        events += reducer.ingest(PluginStateFact(PLUGIN, state))  # type: ignore[arg-type]
    events += reducer.ingest(
        SkillsInvokedFact(TRACKING, (SkillInvocation("s", "user", Path("/nonexistent/s")),))
    )
    events += reducer.ingest(
        CompactionFact(
            "th-1",
            "tu-2",
            "auto",
            "context_limit",
            "responses",
            "mid_turn",
            "completed",
            10,
            5,
            1,
            2,
        )
    )
    events += reducer.ingest(
        GuardianReviewFact(
            "th-1",
            "tu-2",
            "r",
            GuardianReviewedAction(type="apply_patch"),
            "denied",
            "timed_out",
            0,
            1000,
            5000,
        )
    )
    assert sorted({e.event_type for e in events}) == sorted(ALL_EVENT_TYPES)


# -- hostile input ---------------------------------------------------------------------------

HOSTILE: list[Any] = [
    None,
    [],
    "text",
    42,
    {},
    {"id": None},
    {"id": True, "method": "turn/start"},
    {"id": 1, "method": "turn/start", "params": "x"},
    {"id": 1, "method": "turn/start", "params": {"threadId": 5, "input": "notalist"}},
    {"id": 1, "method": "turn/start", "params": {"threadId": "t", "input": [None, 3, {"type": 1}]}},
    {"id": 1, "result": None},
    {"id": 1, "result": {"thread": {"id": 9, "source": {"subAgent": [1]}}}},
    {"id": 1, "result": {"thread": {"id": "t", "source": {"subAgent": {"thread_spawn": 3}}}}},
    {"id": 1, "result": {"turn": "x", "turnId": {}}},
    {"id": 1, "error": "boom"},
    {"id": 1, "error": {"data": [], "message": None}},
    {"method": "turn/completed", "params": {"turn": {"id": "x", "error": {"codexErrorInfo": 3}}}},
    {"method": "turn/completed", "params": {"threadId": "t", "turn": {"id": 7}}},
    {"method": "item/completed", "params": {"turnId": [], "item": {"type": {}}}},
    {
        "method": "item/autoApprovalReview/completed",
        "params": {"threadId": "t", "turnId": "u", "targetItemId": "i", "review": 3},
    },
    {"method": "item/commandExecution/requestApproval", "id": {}, "params": {}},
    {
        "method": "item/commandExecution/requestApproval",
        "id": 1,
        "params": {"threadId": "t", "turnId": "u", "networkApprovalContext": {"protocol": 5}},
    },
    {"method": "unknown/method", "id": 1, "params": {"threadId": "t"}},
]


@pytest.mark.parametrize("message", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_messages_never_raise(message: Any) -> None:
    reducer = AnalyticsReducer()
    initialized(reducer)
    reducer.ingest(thread_response(TUI, "thread/start", "t", 1))
    for method in ("thread/start", "turn/start", "turn/steer", "other"):
        reducer.ingest(ClientResponseFact(TUI, method, message))
        reducer.ingest(ErrorResponseFact(TUI, method, message))
    reducer.ingest(ClientRequestFact(TUI, message))
    reducer.ingest(NotificationFact(TUI, message))
    reducer.ingest(ServerRequestFact(TUI, message))
    reducer.ingest(ServerResponseFact(TUI, message))
    reducer.ingest(ServerRequestAbortedFact(TUI, message))
    reducer.ingest(InitializeFact(TUI, message, "x", "stdio", MAC))


def test_reducer_tables_are_bounded() -> None:
    from codex_otel.analytics import _reducer

    reducer = AnalyticsReducer()
    initialized(reducer)
    for n in range(_reducer.MAX_TRACKED + 50):
        request = {"id": n, "method": "turn/start", "params": {"threadId": "t", "input": []}}
        reducer.ingest(ClientRequestFact(TUI, request))
    assert len(reducer._requests) == _reducer.MAX_TRACKED


@pytest.mark.parametrize(
    ("method", "params", "answer", "expected"),
    [
        (
            "item/commandExecution/requestApproval",
            {"source": "unifiedExec"},
            {"result": {"decision": {"acceptWithExecpolicyAmendment": {"prefix": ["ls"]}}}},
            ("command_execution", "unified_exec", "initial", "approved", "exec_policy_amendment"),
        ),
        (
            "item/commandExecution/requestApproval",
            {"networkApprovalContext": {"host": "example.com", "protocol": "https"}},
            {"result": {"decision": "decline"}},
            ("network_access", "https", "network_policy_denial", "denied", "none"),
        ),
        (
            "item/permissions/requestApproval",
            {"permissions": {"network": {"enabled": True}}},
            {"result": {"permissions": {"network": {"enabled": True}}, "scope": "session"}},
            ("permissions", "request_permissions", "initial", "approved", "session_approval"),
        ),
        (
            "item/permissions/requestApproval",
            {"permissions": {"network": {"enabled": True}}},
            {"result": {"permissions": {}}},
            ("permissions", "request_permissions", "initial", "denied", "none"),
        ),
        (
            "item/fileChange/requestApproval",
            {},
            {"error": {"code": -32000, "message": "client went away"}},
            ("file_change", "apply_patch", "initial", "aborted", "none"),
        ),
    ],
)
def test_user_review_subjects_and_answers(
    method: str, params: dict[str, Any], answer: dict[str, Any], expected: tuple[str, ...]
) -> None:
    reducer = AnalyticsReducer()
    initialized(reducer)
    reducer.ingest(thread_response(TUI, "thread/start", "th-1", 1))
    request = {
        "id": 11,
        "method": method,
        "params": {"threadId": "th-1", "turnId": "tu-1", "itemId": "i", **params},
    }
    assert reducer.ingest(ServerRequestFact(TUI, request, 1_000)) == []
    params_out = only(
        reducer.ingest(ServerResponseFact(TUI, {"id": 11, **answer}, 1_900)), "codex_review_event"
    )
    keys = ("subject_kind", "subject_name", "trigger", "status", "resolution")
    assert tuple(params_out[k] for k in keys) == expected
    assert (params_out["reviewer"], params_out["duration_ms"]) == ("user", 900)
    assert "example.com" not in repr(params_out)


def test_an_answer_is_paired_once_and_on_its_own_connection() -> None:
    reducer = AnalyticsReducer()
    initialized(reducer)
    reducer.ingest(thread_response(TUI, "thread/start", "th-1", 1))
    request = {
        "id": 1,
        "method": "item/fileChange/requestApproval",
        "params": {"threadId": "th-1", "turnId": "tu-1"},
    }
    reducer.ingest(ServerRequestFact(TUI, request, 0))
    answer = {"id": 1, "result": {"decision": "accept"}}
    assert reducer.ingest(ServerResponseFact(EXEC, answer, 5)) == []
    assert len(reducer.ingest(ServerResponseFact(TUI, answer, 5))) == 1
    assert reducer.ingest(ServerResponseFact(TUI, answer, 6)) == []
