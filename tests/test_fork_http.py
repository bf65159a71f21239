"""Forking while exporting over HTTP: the child exports on connections of its own, so no
request is corrupted (logs, metrics, traces, analytics), and no child hangs on a pool lock
it inherited while held.

The exporting process is a subprocess of its own (the forks happen there, not in pytest);
the receivers run here, on 127.0.0.1 (the analytics backend keeps connections alive; the
test OTLP receiver answers HTTP/1.0, one connection per request).
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


@pytest.mark.parametrize("protocol", ["binary", "json"])
def test_children_forked_while_the_parent_exports_over_http_corrupt_nothing(
    receiver: OtlpReceiver, analytics_backend: Backend, protocol: str
) -> None:
    outcome = run_forks(
        receiver,
        analytics_backend,
        protocol,
        forks=20,
        parent_events=50,
        child_events=10,
        check_child=True,
    )
    # Each child delivered all of its own, the parent all of its own.
    ten = asdict(DeliveryStats(accepted=10, exported=10))
    delivered = asdict(SinkStats(delivered=10))
    del delivered["requests"]
    child = {"events": ten, "spans": ten, "analytics": delivered}
    children = outcome["children"]
    assert isinstance(children, list)
    assert [(fork, got) for fork, got in enumerate(children) if got != child] == []
    assert outcome == {
        "outcomes": [0] * 20,
        "events": asdict(DeliveryStats(accepted=1000, exported=1000)),
        "spans": asdict(DeliveryStats(accepted=1000, exported=1000)),
        "analytics": 1000,
        "children": [child] * 20,
    }
    logs = receiver.wait_for(1200, timeout=30)
    kinds = Counter(log.attributes["event.kind"].split("-")[0] for log in logs)
    assert kinds == {
        **{f"parent{fork}": 50 for fork in range(20)},
        **{f"child{fork}": 10 for fork in range(20)},
    }
    spans = Counter(span.name for span in receiver.wait_for_spans(1200, timeout=30))
    assert spans == {"invoke_agent codex": 1200}
    turns = Counter(
        event["event_params"]["turn_id"].split("-")[0]
        for request in analytics_backend.requests
        for event in request["body"]["events"]
    )
    assert turns == kinds
    assert receiver.metrics  # the children's and the parent's metrics arrived whole


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
