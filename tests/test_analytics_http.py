"""The track-events API sender against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from dataclasses import asdict

import pytest

from codex_otel.analytics import (
    AnalyticsClient,
    HookRunFact,
    SinkStats,
    TrackEventsApiSink,
    TrackEventsContext,
)
from tests.analytics_backend import MAC, PATH, Backend, Tokens, backend, event

__all__ = ["backend"]  # the fixture, used by name


def test_events_go_in_order_and_isolated_ones_alone(backend: Backend) -> None:
    sink = TrackEventsApiSink(backend.base_url, Tokens())
    sink.send([event(1), event(2), event(3, isolated=True), event(4)], None)
    assert [r["body"] for r in backend.requests] == [
        {"events": [event(1).body, event(2).body]},
        {"events": [event(3).body]},
        {"events": [event(4).body]},
    ]
    assert {r["path"] for r in backend.requests} == {PATH}
    assert sink.stats() == SinkStats(delivered=4, requests=3)


def test_auth_headers_are_asked_for_on_every_request(backend: Backend) -> None:
    sink = TrackEventsApiSink(backend.base_url.rstrip("/"), Tokens())
    sink.send([event(1)], None)
    sink.send([event(2)], None)
    assert [(r["authorization"], r["account"], r["content_type"]) for r in backend.requests] == [
        ("Bearer secret-token-1", "acct", "application/json"),
        ("Bearer secret-token-2", "acct", "application/json"),
    ]


def test_nothing_is_sent_without_backend_auth(backend: Backend) -> None:
    sink = TrackEventsApiSink(backend.base_url, lambda: None)
    sink.send([event(1), event(2, isolated=True)], None)
    assert backend.requests == []
    assert sink.stats() == SinkStats(not_sent=2)


def test_a_500_is_counted_and_warned_once_without_the_token(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    backend.status = 500
    sink = TrackEventsApiSink(backend.base_url, Tokens())
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        sink.send([event(1), event(2)], None)
        sink.send([event(3)], None)
    assert sink.stats() == SinkStats(failed=3, requests=2)
    assert [r.getMessage() for r in caplog.records] == [
        "codex_otel: analytics track_events_api: events failed with status 500; "
        "further such failures are counted, not logged"
    ]
    assert "secret" not in caplog.text and "secret" not in repr(sink)


def test_a_hanging_server_is_bounded_by_the_timeout_and_counted(backend: Backend) -> None:
    backend.hang.set()
    sink = TrackEventsApiSink(backend.base_url, Tokens(), timeout=0.3)
    sink.send([event(1), event(2)], None)  # returns: the timeout ends the request
    assert sink.stats() == SinkStats(failed=2, requests=1)


def test_unreachable_backend_is_counted() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = TrackEventsApiSink(f"http://127.0.0.1:{port}", Tokens(), timeout=2)
    sink.send([event(1)], None)
    assert sink.stats() == SinkStats(failed=1, requests=1)


def test_failing_auth_callable_is_counted_not_raised(backend: Backend) -> None:
    def broken() -> dict[str, str]:
        raise RuntimeError("keychain locked")

    sink = TrackEventsApiSink(backend.base_url, broken)
    sink.send([event(1)], None)
    assert (backend.requests, sink.stats()) == ([], SinkStats(failed=1))


def test_client_batches_facts_into_requests_and_accounts_for_every_event(
    backend: Backend,
) -> None:
    sink = TrackEventsApiSink(backend.base_url, Tokens())
    with AnalyticsClient([sink], runtime=MAC) as client:
        for n in range(3):
            tracking = TrackEventsContext("th-1", f"tu-{n}", "gpt-5-codex")
            client.track_hook_run(HookRunFact(tracking, "Stop", "user", "completed"))
    sent = [e for r in backend.requests for e in r["body"]["events"]]
    assert sent == [
        {
            "event_type": "codex_hook_run",
            "event_params": {
                "thread_id": "th-1",
                "turn_id": f"tu-{n}",
                "model_slug": "gpt-5-codex",
                "hook_name": "Stop",
                "hook_source": "user",
                "status": "completed",
            },
        }
        for n in range(3)
    ]
    stats = client.stats()
    assert (stats.events, stats.sinks["track_events_api"].delivered) == (3, 3)


def test_shutdown_with_a_hanging_server_is_bounded_and_every_fact_counted(
    backend: Backend,
) -> None:
    backend.hang.set()
    sink = TrackEventsApiSink(backend.base_url, Tokens())  # 10 s per request, as Codex
    client = AnalyticsClient([sink], runtime=MAC, shutdown_timeout=0.5)
    for n in range(20):
        client.track_hook_run(
            HookRunFact(TrackEventsContext("t", f"u{n}", "m"), "S", "user", "completed")
        )
    client.shutdown()  # within the bound: the request in flight is cut at the deadline
    assert client._worker is not None
    client._worker.join(15)
    stats = client.stats()
    api = stats.sinks["track_events_api"]
    assert stats.accepted == 20
    assert stats.reduced + stats.unsent_at_shutdown == 20
    # The request in flight may have arrived; the rest of its send never left.
    assert (api.delivered, api.failed, api.not_sent) == (0, 0, 0)
    assert api.in_flight_at_shutdown > 0
    assert api.in_flight_at_shutdown + api.unsent_at_shutdown == stats.events


EXITS_WITHOUT_SHUTDOWN = """
import atexit, json, sys
from dataclasses import asdict
from codex_otel.analytics import AnalyticsClient, HookRunFact, RuntimeMetadata
from codex_otel.analytics import TrackEventsApiSink, TrackEventsContext

# Registered first, so it runs last: what the client's own exit hook left.
atexit.register(lambda: print(json.dumps(asdict(analytics.stats().sinks["track_events_api"]))))
sink = TrackEventsApiSink("{url}", lambda: {{"Authorization": "Bearer t"}})
analytics = AnalyticsClient([sink], runtime=RuntimeMetadata("0.0.0", "macos", "26.4.0", "arm"))
for turn in range(3):
    context = TrackEventsContext("th", str(turn), "m")
    analytics.track_hook_run(HookRunFact(context, "Stop", "user", "completed"))
sys.exit(0)  # the host never calls analytics.shutdown()
"""


def test_a_process_exiting_without_shutdown_sends_what_it_queued_first(
    backend: Backend,
) -> None:
    """The worker is not left sending (in OpenSSL's code, loading certificates or writing)
    while the exiting process tears OpenSSL down: a forked child died of SIGSEGV so."""
    backend.delay = 0.3  # the send is still under way when the host's script ends
    script = EXITS_WITHOUT_SHUTDOWN.format(url=backend.base_url)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == asdict(SinkStats(delivered=3, requests=1))
    assert [
        event["event_params"]["turn_id"]
        for request in backend.requests
        for event in request["body"]["events"]
    ] == ["0", "1", "2"]
