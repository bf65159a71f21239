"""A host's wrong-typed arguments never raise: each such call is counted `invalid` and said
once per method; the client's own settings are checked at construction."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex_otel.analytics import (
    AnalyticsClient,
    AnalyticsReducer,
    AnalyticsStats,
    AppInvocation,
    CompactionFact,
    GuardianReviewedAction,
    GuardianReviewFact,
    HookRunFact,
    PluginMetadata,
    RuntimeMetadata,
    SkillInvocation,
    SubagentThreadStarted,
    TrackEventsContext,
    TurnResolvedConfig,
    TurnTokenUsage,
)
from codex_otel.analytics._facts import ClientResponseFact, InitializeFact
from tests.test_analytics_client import Collect

MAC = RuntimeMetadata("0.0.0", "macos", "26.4.0", "aarch64")
TRACKING = TrackEventsContext("th-1", "tu-1", "gpt-5-codex")
APP = AppInvocation("conn-1", "Calendar", "explicit")
PLUGIN = PluginMetadata("lint", "market")
SKILL = SkillInvocation("review", "user", Path("/skills/review"))
SUBAGENT = SubagentThreadStarted(
    thread_id="th-2",
    product_client_id="CODEX_CLI",
    client_name="codex-tui",
    client_version="0.0.0",
    model="gpt-5.3-codex",
    ephemeral=False,
    subagent_source="review",
    created_at=5,
)
HOOK = HookRunFact(TRACKING, "Stop", "user", "completed")
GUARDIAN = GuardianReviewFact(
    thread_id="th-1",
    turn_id="tu-1",
    review_id="r-1",
    reviewed_action=GuardianReviewedAction(type="shell"),
    decision="approved",
    terminal_status="approved",
    started_at_ms=1,
    completed_at_ms=2,
    review_timeout_ms=3,
)
COMPACTION = CompactionFact(
    thread_id="th-1",
    turn_id="tu-1",
    trigger="manual",
    reason="user_requested",
    implementation="responses",
    phase="standalone_turn",
    status="completed",
    active_context_tokens_before=10,
    active_context_tokens_after=5,
    started_at=1,
    completed_at=2,
)
# What a typed host passes by mistake where an object or a list belongs ("" and {} too: empty,
# they would iterate to nothing, so only the type check counts them).
WRONG: list[Any] = [None, 7, "x", "", b"x", ["x"], {"k": 1}, {}, 1.5, True]
UNHASHABLE: list[Any] = [[1], {"a": 1}, {1}]

Call = tuple[str, Callable[[AnalyticsClient], None]]


def hostile_calls() -> list[Call]:
    calls: list[Call] = []

    def add(method: str, *args: Any) -> None:
        calls.append((method, lambda client: getattr(client, method)(*args)))

    for bad in WRONG:
        add("track_app_used", bad, APP)
        add("track_app_used", TRACKING, bad)
        add("track_plugin_used", bad, PLUGIN)
        add("track_plugin_used", TRACKING, bad)
        for state in ("installed", "uninstalled", "enabled", "disabled"):
            add(f"track_plugin_{state}", bad)
        add("track_app_mentioned", bad, [APP])
        add("track_app_mentioned", TRACKING, bad if bad != ["x"] else [bad])
        add("track_skill_invocations", bad, [SKILL])
        add("track_skill_invocations", TRACKING, bad if bad != ["x"] else [bad])
        for method in (
            "track_subagent_thread_started",
            "track_hook_run",
            "track_guardian_review",
            "track_compaction",
            "track_turn_resolved_config",
            "track_turn_token_usage",
        ):
            add(method, bad)
    # Right classes, wrong fields inside: found before queueing, not in the reducer.
    add("track_subagent_thread_started", dataclasses.replace(SUBAGENT, created_at="5"))
    add("track_subagent_thread_started", dataclasses.replace(SUBAGENT, runtime=7))
    add("track_app_used", TrackEventsContext("th-1", ["tu"], "m"), APP)  # type: ignore[arg-type]
    add("track_app_used", TRACKING, AppInvocation(["c"]))  # type: ignore[arg-type]
    add("track_plugin_used", TRACKING, PluginMetadata(None, "m"))  # type: ignore[arg-type]
    add("track_hook_run", HookRunFact(None, "Stop", "user", "completed"))  # type: ignore[arg-type]
    add("track_skill_invocations", TRACKING, [SkillInvocation("s", "user", "/p")])  # type: ignore[arg-type]
    add("track_compaction", dataclasses.replace(COMPACTION, started_at=None))
    add("track_guardian_review", dataclasses.replace(GUARDIAN, reviewed_action=None))
    add("track_turn_resolved_config", TurnResolvedConfig("th", 5))  # type: ignore[arg-type]
    add("track_turn_token_usage", TurnTokenUsage("th", "tu", input_tokens="3"))  # type: ignore[arg-type]
    for bad in UNHASHABLE:
        message = {"id": 1, "method": "turn/start", "params": {}}
        add("observe", bad, "client", message)
        add("track_initialize", bad, {}, "p", "stdio")
        add("track_request", bad, message)
        add("track_response", bad, {"id": 1, "result": {}})
        add("track_error_response", bad, {"id": 1, "error": {}})
        add("track_notification", bad, {"method": "turn/started"})
        add("track_server_request", bad, message)
        add("track_server_response", bad, {"id": 1, "result": {}})
        add("track_server_request_aborted", bad, 1)
        add("track_server_request_aborted", 1, bad)
    add("track_initialize", 1, {}, None, "stdio")
    add("track_initialize", 1, {}, "p", 3)
    return calls


def test_wrong_typed_arguments_are_counted_invalid_and_said_once_per_method(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = hostile_calls()
    sink = Collect()
    with (
        caplog.at_level(logging.WARNING, logger="codex_otel"),
        AnalyticsClient([sink], runtime=MAC) as client,
    ):
        for _, call in calls:
            call(client)  # never raises
    assert client.stats() == AnalyticsStats(invalid=len(calls), sinks={"collect": sink.stats()})
    assert sink.events == []
    methods = sorted({method for method, _ in calls})
    warned = sorted(r.getMessage().split()[2].rstrip(":") for r in caplog.records)
    assert warned == methods
    assert caplog.records[0].getMessage() == (
        "codex_otel: analytics track_app_used: tracking must be TrackEventsContext, got "
        "NoneType; the call was ignored (further such calls are counted as invalid, not logged)"
    )


def test_right_typed_facts_pass_the_checks_and_are_reduced() -> None:
    sink = Collect()
    with AnalyticsClient([sink], runtime=MAC) as client:
        client.track_app_used(TRACKING, APP)
        client.track_plugin_used(TRACKING, PLUGIN)
        client.track_plugin_installed(PLUGIN)
        client.track_app_mentioned(TRACKING, (APP,))
        client.track_skill_invocations(TRACKING, [SKILL])
        client.track_subagent_thread_started(SUBAGENT)
        client.track_hook_run(HOOK)
        client.track_guardian_review(GUARDIAN)
        client.track_compaction(COMPACTION)
        client.track_turn_resolved_config(TurnResolvedConfig("th-1", "tu-1", model="m"))
        client.track_turn_token_usage(TurnTokenUsage("th-1", "tu-1", input_tokens=3))
    stats = client.stats()
    assert (stats.accepted, stats.reduced, stats.invalid, stats.reducer_failed) == (11, 11, 0, 0)


@pytest.mark.parametrize("size", [0, -1, True, 2.5])
def test_a_queue_size_below_one_is_refused_with_a_clear_error(size: Any) -> None:
    with pytest.raises(ValueError) as raised:
        AnalyticsClient(queue_size=size)
    assert str(raised.value) == (
        f"AnalyticsClient: queue_size must be an int of at least 1, got {size!r}"
    )


def test_a_negative_created_at_becomes_zero_as_codex_sends_it() -> None:
    reducer = AnalyticsReducer()
    reducer.ingest(InitializeFact(1, {"clientInfo": {"name": "tui"}}, "CODEX_CLI", "stdio", MAC))
    thread = {"id": "th-1", "source": "cli", "createdAt": -5}
    response = {"id": 7, "result": {"thread": thread, "model": "m"}}
    [from_response] = reducer.ingest(ClientResponseFact(1, "thread/start", response))
    [from_fact] = reducer.ingest(dataclasses.replace(SUBAGENT, created_at=-5, runtime=MAC))
    created = [e.body["event_params"]["created_at"] for e in (from_response, from_fact)]
    assert created == [0, 0]
