"""Forking while exporting over HTTP: the child exports on connections of its own, so no
request is corrupted (logs, metrics, traces, analytics), and no child hangs on a pool lock
it inherited while held.

The exporting process is a subprocess of its own (the forks happen there, not in pytest);
the receivers run here, on 127.0.0.1, both keeping connections alive between requests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict

import pytest

from codex_otel import DeliveryStats
from codex_otel.analytics import SinkStats
from codex_otel.testing import OtlpReceiver
from tests.analytics_backend import Backend, serving
from tests.test_fork import WAIT_CHILD

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")

FORKS_WHILE_EXPORTING = """
import json, os, sys, time, warnings
from dataclasses import asdict
warnings.simplefilter("ignore")
from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.analytics import AnalyticsClient, HookRunFact, RuntimeMetadata
from codex_otel.analytics import TrackEventsApiSink, TrackEventsContext

def http(path):
    return {{"otlp-http": {{"endpoint": "http://127.0.0.1:{port}" + path,
                           "protocol": "{protocol}"}}}}

table = {{"exporter": http("/v1/logs"), "metrics_exporter": http("/v1/metrics"),
         "trace_exporter": http("/v1/traces"), "batch": {{"schedule_delay_ms": 1}},
         "shutdown_timeout": 10,  # the check is what arrives, not how fast
         "metrics_export_interval_ms": 20}}
provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
manager = OtelEventManager(provider, conversation_id="c", model="m", slug="s")
sink = TrackEventsApiSink("{analytics}", lambda: {{"Authorization": "Bearer t"}})
mac = RuntimeMetadata("0.0.0", "macos", "26.4.0", "aarch64")
analytics = AnalyticsClient([sink], runtime=mac, shutdown_timeout=10)

def record(who, count):
    for index in range(count):
        with manager.turn():
            manager.sse_event(f"{{who}}-{{index}}", 0)
        context = TrackEventsContext("th", f"{{who}}-{{index}}", "m")
        analytics.track_hook_run(HookRunFact(context, "Stop", "user", "completed"))

outcomes = []
for fork in range({forks}):
    record(f"parent{{fork}}", {parent_events})  # being exported at the fork
    if {idle_analytics} and fork % 2:
        # Every fact sent: the sink's connection waits in its pool, for a child to take.
        analytics.flush()
    pid = os.fork()
    if pid == 0:
        record(f"child{{fork}}", {child_events})
        if not {check_child}:
            sys.exit(0)  # the exit-time flush and shutdown run on the way out
        analytics.shutdown()
        provider.shutdown()
        api = asdict(analytics.stats().sinks["track_events_api"])
        del api["requests"]  # how the facts fell into batches varies
        print(json.dumps({{"events": asdict(provider.stats()),
                          "spans": asdict(provider.stats("spans")), "analytics": api}}),
              flush=True)
        os._exit(0)
{wait_child}
analytics.shutdown()
provider.shutdown()
print(json.dumps({{"outcomes": outcomes, "events": asdict(provider.stats()),
                  "spans": asdict(provider.stats("spans")),
                  "analytics": analytics.stats().sinks["track_events_api"].delivered}}))
"""


@pytest.fixture
def analytics_backend() -> Iterator[Backend]:
    yield from serving()


def run_forks(
    receiver: OtlpReceiver,
    backend: Backend,
    protocol: str,
    *,
    forks: int,
    parent_events: int,
    child_events: int,
    check_child: bool,
    idle_analytics: bool = False,
) -> dict[str, object]:
    script = FORKS_WHILE_EXPORTING.format(
        wait_child=WAIT_CHILD,
        port=receiver.http_port,
        protocol=protocol,
        analytics=backend.base_url,
        forks=forks,
        parent_events=parent_events,
        child_events=child_events,
        check_child=check_child,
        idle_analytics=idle_analytics,
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )
    assert result.returncode == 0, result.stderr
    # The SDK's "Cannot call collect on a MetricReader until it is registered" (its reader's
    # timer starts before registration, and a child's metrics start anew) never shows.
    assert "MetricReader" not in result.stderr
    *children, parent = result.stdout.splitlines()
    outcome: dict[str, object] = json.loads(parent)
    outcome["children"] = [json.loads(line) for line in children]
    return outcome


def arrivals(counts: Counter[str], *, forks: int, parent: int, child: int) -> dict[str, int]:
    """How the events named `parent{fork}-{n}` and `child{fork}-{n}` arrived: how many of
    each process's were lost or arrived more than once, and how many arrived unasked."""
    expected = {
        "parent": {f"parent{fork}-{index}" for fork in range(forks) for index in range(parent)},
        "child": {f"child{fork}-{index}" for fork in range(forks) for index in range(child)},
    }
    outcome = {"unexpected": len(counts.keys() - expected["parent"] - expected["child"])}
    for who, names in expected.items():
        outcome[f"{who}_lost"] = len(names - counts.keys())
        outcome[f"{who}_twice"] = sum(1 for name in names if counts[name] > 1)
    return outcome


@pytest.mark.parametrize("protocol", ["binary", "json"])
def test_children_forked_while_the_parent_exports_over_http_corrupt_nothing(
    receiver: OtlpReceiver, analytics_backend: Backend, protocol: str
) -> None:
    """Both receivers keep connections alive, as collectors do: a child writing into the
    parent's pooled connections would interleave its bytes with the parent's (answered 400,
    events lost) if it did not open connections of its own."""
    outcome = run_forks(
        receiver,
        analytics_backend,
        protocol,
        forks=20,
        parent_events=50,
        child_events=10,
        check_child=True,
        idle_analytics=True,
    )
    logs = receiver.wait_for(1200, timeout=30)
    spans = receiver.wait_for_spans(1200, timeout=30)
    sse_events: Counter[str] = Counter()
    for metric in receiver.metrics:
        if metric.name == "codex.sse_event":  # delta: each export counts what is new
            for point in metric.points:
                sse_events[str(point.attributes["kind"])] += int(point.value or 0)
    # Each span is the turn of one event: its trace is that event's.
    turn_of = {log.trace_id: log.attributes["event.kind"] for log in logs}
    turns = Counter(
        event["event_params"]["turn_id"]
        for request in analytics_backend.requests
        for event in request["body"]["events"]
    )
    answered = receiver.http_statuses
    figures = {
        "statuses_other_than_200": {code: n for code, n in answered.items() if code != 200},
        "logs": Counter(str(log.attributes["event.kind"]) for log in logs),
        "metrics": sse_events,
        "spans": Counter(str(turn_of.get(span.trace_id, "?")) for span in spans),
        "analytics": turns,
    }
    shape = dict(forks=20, parent=50, child=10)
    none_lost = arrivals(Counter(), forks=0, parent=0, child=0)
    assert {
        "statuses_other_than_200": figures.pop("statuses_other_than_200"),
        **{signal: arrivals(counts, **shape) for signal, counts in figures.items()},
    } == {"statuses_other_than_200": {}, **dict.fromkeys(figures, none_lost)}
    # Each of the 21 processes sent on connections of its own, one a signal, each kept
    # alive for all of its requests (a child writing into the parent's opens fewer).
    assert (receiver.http_connections, analytics_backend.connections) == (21 * 3, 21)
    assert answered[200] > 21 * 3 and len(analytics_backend.requests) > 21
    # Each child counted all of its own delivered, the parent all of its own.
    ten = asdict(DeliveryStats(accepted=10, exported=10))
    delivered = asdict(SinkStats(delivered=10))
    del delivered["requests"]
    child = {"events": ten, "spans": ten, "analytics": delivered}
    assert outcome == {
        "outcomes": [0] * 20,
        "events": asdict(DeliveryStats(accepted=1000, exported=1000)),
        "spans": asdict(DeliveryStats(accepted=1000, exported=1000)),
        "analytics": 1000,
        "children": [child] * 20,
    }


def test_two_hundred_children_forked_while_the_parent_exports_over_http_never_hang(
    receiver: OtlpReceiver, analytics_backend: Backend
) -> None:
    outcome = run_forks(
        receiver,
        analytics_backend,
        "binary",
        forks=200,
        parent_events=20,
        child_events=1,
        check_child=False,
    )
    codes = outcome["outcomes"]
    assert isinstance(codes, list)
    assert [(fork, code) for fork, code in enumerate(codes) if code != 0] == []
    assert outcome == {
        "outcomes": [0] * 200,
        "events": asdict(DeliveryStats(accepted=4000, exported=4000)),
        "spans": asdict(DeliveryStats(accepted=4000, exported=4000)),
        "analytics": 4000,
        "children": [],
    }


FIRST_EXPORTS = """
import json, sys, warnings
warnings.simplefilter("ignore")
from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.analytics import AnalyticsClient, HookRunFact, RuntimeMetadata
from codex_otel.analytics import TrackEventsApiSink, TrackEventsContext

def http(path):
    return {{"otlp-http": {{"endpoint": "http://127.0.0.1:{port}" + path}}}}

table = {{"exporter": http("/v1/logs"), "metrics_exporter": http("/v1/metrics"),
         "trace_exporter": http("/v1/traces")}}
provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
manager = OtelEventManager(provider, conversation_id="c", model="m", slug="s")
sink = TrackEventsApiSink("{analytics}", lambda: {{"Authorization": "Bearer t"}})
analytics = AnalyticsClient([sink], runtime=RuntimeMetadata("0.0.0", "macos", "26.4.0", "arm"))
before = set(sys.modules)
with manager.turn():
    manager.sse_event("first", 0)
context = TrackEventsContext("th", "t", "m")
analytics.track_hook_run(HookRunFact(context, "Stop", "user", "completed"))
provider.force_flush()
analytics.shutdown()
provider.shutdown()
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_a_first_export_of_every_signal_imports_no_module(
    receiver: OtlpReceiver, analytics_backend: Backend
) -> None:
    """A module an exporting thread imports while the host forks stays half-made in the
    child, its lock held for good: the child's exporter waits forever on it (seen as a child
    whose spans were never exported). So every module a first export needs is imported
    before, on the host's thread (`requests` looked for `netrc` on its first request)."""
    script = FIRST_EXPORTS.format(port=receiver.http_port, analytics=analytics_backend.base_url)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, json.loads(result.stdout)) == (0, [])
    assert receiver.wait_for(1)[0].attributes["event.kind"] == "first"
