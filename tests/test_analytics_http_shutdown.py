"""The track-events sender cut at shutdown in whichever phase its request is stuck
(connecting, the TLS handshake, writing the body, waiting for the answer), and an answer that
never ends. Servers are real sockets on 127.0.0.1; each phase is held by the server, not
faked. Every event ends in exactly one bucket of every sink, and the worker has stopped."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence

import pytest

from codex_otel.analytics import (
    AnalyticsClient,
    AnalyticsStats,
    HookRunFact,
    SinkStats,
    TrackEvent,
    TrackEventsApiSink,
    TrackEventsContext,
)
from codex_otel.analytics._replay import _Collect
from tests.analytics_backend import MAC, SocketServer, Tokens


def _silent(connection: socket.socket) -> None:
    # Reads what comes (a TLS hello, a request) and never answers.
    connection.settimeout(0.1)
    for _ in range(600):  # a minute at most
        with contextlib.suppress(TimeoutError):
            if not connection.recv(65536):
                return


def _never_reading(connection: socket.socket) -> None:
    # The request's body fills the buffers and the client's write blocks.
    threading.Event().wait(60)


@contextlib.contextmanager
def _connect_never_completes() -> Iterator[str]:
    # A listener whose queue is full: Linux drops further SYNs, so a connect waits.
    server = SocketServer(_silent, accept=False, backlog=0)
    filler = socket.create_connection(server.listener.getsockname(), timeout=5)
    try:
        yield server.url("http")
    finally:
        filler.close()
        server.close()


@contextlib.contextmanager
def _serving(
    hold: Callable[[socket.socket], None], scheme: str, receive_buffer: int | None = None
) -> Iterator[str]:
    server = SocketServer(hold, receive_buffer=receive_buffer)
    try:
        yield server.url(scheme)
    finally:
        server.close()


# Each phase of a request, held by a server: (server, the model slug of each fact).
# The body not read is larger than the buffers of both ends (4 MiB the most Linux gives a
# sending socket).
PHASES: dict[str, tuple[Callable[[], contextlib.AbstractContextManager[str]], str]] = {
    "connect": (_connect_never_completes, "m"),
    "tls": (functools.partial(_serving, _silent, "https"), "m"),
    "write": (functools.partial(_serving, _never_reading, "http", 4096), "m" * 3_000_000),
    "read": (functools.partial(_serving, _silent, "http"), "m"),
}


def _two_sinks(url: str) -> list[TrackEventsApiSink]:
    sinks = [TrackEventsApiSink(url, Tokens()), TrackEventsApiSink(url, Tokens())]
    sinks[0].name, sinks[1].name = "first", "second"
    return sinks


def _expected(stats: AnalyticsStats, facts: int) -> AnalyticsStats:
    """What a shutdown cutting the first sink's first request leaves: its events in flight
    at the first sink, never handed to the second, the facts not reduced yet unsent."""
    sent = stats.events
    return AnalyticsStats(
        accepted=facts,
        reduced=sent,
        unsent_at_shutdown=facts - sent,
        events=sent,
        sinks={
            "first": SinkStats(in_flight_at_shutdown=sent, requests=1),
            "second": SinkStats(unsent_at_shutdown=sent),
        },
    )


def _wait_for_a_request(client: AnalyticsClient) -> None:
    """Until the first sink's request is under way: a send started before shutdown is
    bounded by nothing but the request's own timeout, unless shutdown cuts it."""
    for _ in range(1000):
        if client.stats().sinks["first"].requests:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the first sink never started a request")


@pytest.mark.parametrize("phase", list(PHASES))
def test_shutdown_cuts_a_request_stuck_in_any_phase_and_counts_every_sink(
    phase: str, caplog: pytest.LogCaptureFixture
) -> None:
    serve, model = PHASES[phase]
    with serve() as url, caplog.at_level(logging.WARNING, logger="codex_otel"):
        # 10 s per request, as Codex: only the shutdown bound can end it in time.
        client = AnalyticsClient(_two_sinks(url), runtime=MAC, shutdown_timeout=0.5)
        for n in range(3):
            context = TrackEventsContext("t", f"u{n}", model)
            client.track_hook_run(HookRunFact(context, "S", "user", "completed"))
        _wait_for_a_request(client)
        client.shutdown()
        assert client._worker is not None
        alive = client._worker.is_alive()
        stats = client.stats()
    assert (alive, stats) == (False, _expected(stats, 3))
    # The cut send's events are `in_flight_at_shutdown`: no "failed to send" for them.
    assert caplog.records == []


EXITS_WITHOUT_SHUTDOWN = """
import atexit, json, sys, time
from dataclasses import asdict
from codex_otel.analytics import AnalyticsClient, HookRunFact, RuntimeMetadata
from codex_otel.analytics import TrackEventsApiSink, TrackEventsContext

def report():
    print(json.dumps({{
        "stats": asdict(analytics.stats()),
        "worker_alive": analytics._worker.is_alive(),
    }}))

# Registered first, so it runs last: what the client's own exit hook left.
atexit.register(report)
sinks = [TrackEventsApiSink("{url}", lambda: {{"Authorization": "Bearer t"}}) for _ in "12"]
sinks[0].name, sinks[1].name = "first", "second"
analytics = AnalyticsClient(
    sinks, runtime=RuntimeMetadata("0.0.0", "macos", "26.4.0", "arm"), shutdown_timeout=0.5
)
for turn in range(3):
    context = TrackEventsContext("th", str(turn), "m")
    analytics.track_hook_run(HookRunFact(context, "Stop", "user", "completed"))
while not analytics.stats().sinks["first"].requests:  # the handshake is under way
    time.sleep(0.01)
sys.exit(0)  # the host never calls analytics.shutdown()
"""


def test_a_process_exiting_during_a_tls_handshake_stops_its_worker_first() -> None:
    """The worker must not be inside OpenSSL while the exiting process tears it down (a
    forked child died of SIGSEGV so): the handshake is cut, every event counted."""
    with _serving(_silent, "https") as url:
        script = EXITS_WITHOUT_SHUTDOWN.format(url=url)
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
        )
    assert (result.returncode, result.stderr) == (0, "")
    report = json.loads(result.stdout)
    stats = AnalyticsStats(
        **{
            **report["stats"],
            "sinks": {k: SinkStats(**v) for k, v in report["stats"]["sinks"].items()},
        }
    )
    assert (report["worker_alive"], stats) == (False, _expected(stats, 3))


class Stuck:
    """A host's sink without `abandon()` whose send does not return until released."""

    name = "stuck"

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def send(self, events: Sequence[TrackEvent], deadline: float | None) -> None:
        self.entered.set()
        self.release.wait(60)

    def stats(self) -> SinkStats:
        return SinkStats()


def test_a_sink_that_cannot_be_cut_is_said_once_and_later_sinks_count_what_they_never_got(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stuck, recording = Stuck(), _Collect()
    client = AnalyticsClient([stuck, recording], runtime=MAC, shutdown_timeout=0.2)
    client.track_hook_run(HookRunFact(TrackEventsContext("t", "u", "m"), "S", "user", "completed"))
    assert stuck.entered.wait(30)
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        client.shutdown()
        client.shutdown()  # said once, however often asked
    stuck.release.set()
    assert client._worker is not None
    client._worker.join(30)
    assert client.stats() == AnalyticsStats(
        accepted=1,
        reduced=1,
        events=1,
        sinks={"stuck": SinkStats(), "replay": SinkStats(unsent_at_shutdown=1)},
    )
    assert recording.events == []  # counted unsent: never handed over after that
    assert [r.getMessage() for r in caplog.records] == [
        "codex_otel: analytics: a sink's send did not stop within shutdown_timeout (0.2 s); "
        "its worker thread is left running"
    ]
