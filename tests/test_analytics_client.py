"""The client: filtering before queueing, the queue of 256, dedupe and its 4,096 cap, counts,
a disabled client, and a shutdown bounded even when a sink hangs."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from codex_otel.analytics import (
    AnalyticsClient,
    AppInvocation,
    HookRunFact,
    PluginMetadata,
    RuntimeMetadata,
    SinkStats,
    TrackEvent,
    TrackEventsContext,
    _client,
    current_runtime,
)

MAC = RuntimeMetadata("0.0.0", "macos", "26.4.0", "aarch64")
TRACKING = TrackEventsContext("th-1", "tu-1", "gpt-5-codex")


class Collect:
    """A sink keeping what it was given; `gate`, when set, holds the worker inside `send`."""

    name = "collect"

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.events: list[TrackEvent] = []
        self.gate = gate
        self.entered = threading.Event()

    def send(self, events: Sequence[TrackEvent], deadline: float | None) -> None:
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(30), "the test never opened the gate"
        self.events.extend(events)

    def stats(self) -> SinkStats:
        return SinkStats(delivered=len(self.events))


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # never leave a worker parked


def hook(turn: str = "tu-1") -> HookRunFact:
    return HookRunFact(TrackEventsContext("th-1", turn, "m"), "Stop", "user", "completed")


def test_queue_of_256_drops_and_counts_when_full_without_blocking(gate: threading.Event) -> None:
    sink = Collect(gate)
    client = AnalyticsClient([sink], runtime=MAC)
    client.track_hook_run(hook())
    assert sink.entered.wait(10)  # the worker now holds one fact, the queue is empty
    for _ in range(256 + 10):
        client.track_hook_run(hook())
    assert (client.stats().accepted, client.stats().queue_full) == (257, 10)
    gate.set()
    assert client.flush(10)
    client.shutdown()
    stats = client.stats()
    assert (stats.accepted, stats.queue_full, stats.reduced, stats.events) == (257, 10, 257, 257)
    assert stats.pending == 0
    assert len(sink.events) == 257


def test_app_used_is_deduped_per_turn_and_connector() -> None:
    sink = Collect()
    with AnalyticsClient([sink], runtime=MAC) as client:
        app = AppInvocation("connector_drive", "Drive", "explicit")
        client.track_app_used(TRACKING, app)
        client.track_app_used(TRACKING, app)
        client.track_app_used(TrackEventsContext("th-1", "tu-2", "m"), app)
        client.track_app_used(TRACKING, AppInvocation(None, "no connector"))
        client.track_app_used(TRACKING, AppInvocation(None, "no connector"))
    assert client.stats().deduped == 1
    assert [(e.params["turn_id"], e.params["app_name"]) for e in sink.events] == [
        ("tu-1", "Drive"),
        ("tu-2", "Drive"),
        ("tu-1", "no connector"),
        ("tu-1", "no connector"),
    ]


def test_plugin_used_is_deduped_per_turn_and_plugin() -> None:
    sink = Collect()
    with AnalyticsClient([sink], runtime=MAC) as client:
        plugin = PluginMetadata("linear", "openai-curated")
        client.track_plugin_used(TRACKING, plugin)
        client.track_plugin_used(TRACKING, plugin)
        client.track_plugin_used(TRACKING, PluginMetadata("linear", "other-market"))
    assert client.stats().deduped == 1
    assert [e.params["plugin_id"] for e in sink.events] == [
        "linear@openai-curated",
        "linear@other-market",
    ]


def test_dedupe_set_holds_at_most_4096_keys_and_is_cleared_when_full() -> None:
    client = AnalyticsClient([], runtime=MAC, queue_size=10_000)
    first = AppInvocation("c-0", "app")
    for n in range(_client.DEDUPE_MAX_KEYS - 1):
        client.track_app_used(TRACKING, AppInvocation(f"c-{n}", "app"))
    client.track_app_used(TRACKING, first)  # remembered: deduped
    client.track_app_used(TRACKING, AppInvocation("c-last", "app"))
    assert len(client._app_used) == 4096
    client.track_app_used(TRACKING, first)  # the set is full: cleared, so queued again
    assert len(client._app_used) == 1
    client.track_app_used(TRACKING, first)  # remembered again: deduped
    client.shutdown()
    stats = client.stats()
    assert (stats.deduped, stats.accepted) == (2, 4096 + 1)


def test_traffic_no_rule_uses_is_filtered_before_queueing() -> None:
    sink = Collect()
    with AnalyticsClient([sink], runtime=MAC) as client:
        client.observe(1, "client", {"id": 1, "method": "thread/list", "params": {}})
        client.observe(1, "server", {"id": 1, "result": {"data": []}})
        client.observe(1, "server", {"method": "item/agentMessage/delta", "params": {}})
        client.observe(1, "server", {"method": "item/started", "params": {}})
        client.observe(1, "server", {"id": 5, "method": "item/tool/requestUserInput"})
        client.observe(1, "client", {"id": 5, "result": {}})
        client.observe(1, "client", {"method": "initialized"})
        client.observe(1, "server", {"id": 99, "error": {"code": 1, "message": "x"}})
    stats = client.stats()
    assert (stats.filtered, stats.accepted) == (8, 0)


def test_observe_pairs_responses_with_the_requests_it_saw() -> None:
    sink = Collect()
    with AnalyticsClient([sink], runtime=MAC) as client:
        init = {"clientInfo": {"name": "my-ide", "version": "1.2.3"}}
        client.observe(1, "client", {"id": 0, "method": "initialize", "params": init})
        client.observe(1, "client", {"id": 1, "method": "thread/start", "params": {}})
        thread = {"id": "th-9", "source": "vscode", "createdAt": 1_775_000_000}
        client.observe(1, "server", {"id": 1, "result": {"thread": thread, "model": "gpt-5"}})
        # The same id on another connection is another request: filtered.
        client.observe(2, "server", {"id": 1, "result": {"thread": thread, "model": "gpt-5"}})
    assert [e.body for e in sink.events] == [
        {
            "event_type": "codex_thread_initialized",
            "event_params": {
                "thread_id": "th-9",
                "product_surface": "codex",
                "app_server_client": {
                    "product_client_id": "my-ide",
                    "client_name": "my-ide",
                    "client_version": "1.2.3",
                    "rpc_transport": "stdio",
                    "experimental_api_enabled": None,
                },
                "runtime": {
                    "codex_rs_version": "0.0.0",
                    "runtime_os": "macos",
                    "runtime_os_version": "26.4.0",
                    "runtime_arch": "aarch64",
                },
                "model": "gpt-5",
                "ephemeral": False,
                "initialization_mode": "new",
                "created_at": 1_775_000_000,
                "thread_source": "user",
                "subagent_source": None,
                "parent_thread_id": None,
            },
        }
    ]
    stats = client.stats()
    assert (stats.accepted, stats.filtered, stats.reduced) == (2, 1, 2)


def test_disabled_client_has_no_thread_and_queues_nothing() -> None:
    before = threading.active_count()
    client = AnalyticsClient.disabled()
    assert threading.active_count() == before
    assert not client.enabled
    client.observe(1, "client", {"id": 0, "method": "initialize", "params": {}})
    client.track_hook_run(hook())
    client.track_app_used(TRACKING, AppInvocation("c", "a"))
    assert client.flush(0)
    client.shutdown()
    assert client.stats() == _client.AnalyticsStats()


def test_after_shutdown_facts_are_counted_and_ignored() -> None:
    client = AnalyticsClient([Collect()], runtime=MAC)
    client.shutdown()
    client.track_hook_run(hook())
    client.shutdown()
    assert (client.stats().after_shutdown, client.stats().accepted) == (1, 0)


def test_shutdown_is_bounded_when_a_sink_hangs(gate: threading.Event) -> None:
    sink = Collect(gate)
    client = AnalyticsClient([sink], runtime=MAC, shutdown_timeout=0.2)
    client.track_hook_run(hook())
    assert sink.entered.wait(10)
    for _ in range(5):
        client.track_hook_run(hook())
    client.shutdown()  # returns: the bound ran out with the worker still inside `send`
    stats = client.stats()
    assert (stats.accepted, stats.reduced, stats.unsent_at_shutdown) == (6, 1, 5)
    assert stats.pending == 0


def test_reducer_failure_is_counted_and_the_worker_lives_on(
    lenient: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = Collect()
    client = AnalyticsClient([sink], runtime=MAC)
    real = client._reducer.ingest

    def ingest(fact: Any) -> list[TrackEvent]:
        if fact.hook_name == "Boom":
            raise RuntimeError("rule bug")
        return real(fact)

    monkeypatch.setattr(client._reducer, "ingest", ingest)
    client.track_hook_run(HookRunFact(TRACKING, "Boom", "user", "failed"))
    client.track_hook_run(hook())
    client.shutdown()
    stats = client.stats()
    assert (stats.accepted, stats.reduced, stats.reducer_failed, stats.events) == (2, 1, 1, 1)


def test_hostile_traffic_never_raises_into_the_host() -> None:
    sink = Collect()
    with AnalyticsClient([sink], runtime=MAC) as client:
        for message in [
            None,
            3,
            "x",
            [],
            {},
            {"id": {}},
            {"id": [1], "method": "turn/start"},
            {"id": 1, "method": 5},
            {"method": None},
            {"id": None, "result": 1},
        ]:
            for sender in ("client", "server", "nobody"):
                client.observe(1, sender, message)  # type: ignore[arg-type]
            client.track_request(1, message)
            client.track_response(1, message)
            client.track_error_response(1, message)
            client.track_notification(1, message)
            client.track_server_request(1, message)
            client.track_server_response(1, message)
            client.track_server_request_aborted(1, message)
            client.track_initialize(1, message, "p", "stdio")
    stats = client.stats()
    assert stats.reducer_failed == 0
    assert stats.accepted == stats.reduced


def test_current_runtime_names_the_os_and_arch_as_codex_does() -> None:
    runtime = current_runtime("1.2.3")
    assert runtime.codex_rs_version == "1.2.3"
    assert runtime.runtime_os in ("linux", "macos", "windows", "freebsd")
    assert runtime.runtime_arch in (
        "x86_64",
        "aarch64",
        "x86",
        "arm",
        "riscv64",
        "s390x",
        "ppc64le",
    )
    assert runtime.runtime_os_version
