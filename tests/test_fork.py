"""Fork safety: a child delivers its own events; the parent's queued events go out once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings

import pytest

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA
from tests.transports import TRANSPORTS, exporter_table, receiver_port

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")


def wait_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def wait_child(pid: int, timeout: float = 15.0) -> int:
    """The child's exit code; bounded, polling gently (waitpid itself has no timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    raise AssertionError("the forked child did not finish")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_forked_child_delivers_its_own_events_over_http_not_grpc_and_the_parents_go_out_once(
    receiver: OtlpReceiver, transport: str
) -> None:
    table = {
        "exporter": exporter_table(transport, receiver_port(receiver, transport)),
        # Nothing leaves on a timer: what is queued at the fork is still queued.
        "batch": {"schedule_delay_ms": 60_000},
    }
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    manager = OtelEventManager(provider, **METADATA)
    manager.sse_event("parent-early", 0)
    assert provider.force_flush(timeout_millis=10_000)  # a live connection exists at the fork
    manager.sse_event("parent-queued-0", 0)
    manager.sse_event("parent-queued-1", 0)
    with warnings.catch_warnings():
        # Python >= 3.12 warns about fork() in a process with threads (pytest's, ours);
        # surviving exactly that is what this test is about.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 3
        try:
            manager.sse_event("child-0", 0)
            manager.sse_event("child-1", 0)
            provider.shutdown()
            # gRPC cannot work after a fork: the child's events are counted, never sent.
            expected = (
                DeliveryStats(after_shutdown=2)
                if transport == "grpc"
                else DeliveryStats(accepted=2, exported=2)
            )
            code = 0 if provider.stats() == expected else 1
        finally:
            os._exit(code)
    assert wait_child(pid) == 0
    provider.shutdown()
    children = [] if transport == "grpc" else ["child-0", "child-1"]
    logs = receiver.wait_for(3 + len(children))
    assert sorted(log.attributes["event.kind"] for log in logs) == [
        *children,
        "parent-early",
        "parent-queued-0",
        "parent-queued-1",
    ]
    assert provider.stats() == DeliveryStats(accepted=3, exported=3)
    # The SDK gives a forked child a resource of its own: the child's events carry it.
    instance = {log.attributes["event.kind"]: log.resource["service.instance.id"] for log in logs}
    parent = {instance["parent-early"], instance["parent-queued-0"], instance["parent-queued-1"]}
    child = {instance[kind] for kind in children}
    assert len(parent) == 1
    assert len(child) == (0 if transport == "grpc" else 1)
    assert parent.isdisjoint(child)


# In a script's fork loop: the child's exit code into `outcomes`, or "hung" after 20 s.
WAIT_CHILD = """    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            outcomes.append(os.waitstatus_to_exitcode(status))
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            outcomes.append("hung")
            break
        time.sleep(0.005)"""

FORK_WHILE_EXPORTING = """
import os, sys, time, warnings
warnings.simplefilter("ignore")
from codex_otel import OtelConfig, OtelEventManager, OtelProvider
grpc = {{"otlp-grpc": {{"endpoint": "http://127.0.0.1:{port}"}}}}
table = {{"exporter": grpc, "metrics_exporter": grpc, "trace_exporter": grpc,
         "batch": {{"schedule_delay_ms": 1}}, "shutdown_timeout": 1}}
provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
manager = OtelEventManager(provider, conversation_id="c", model="m", slug="s")
outcomes = []
for fork in range(10):
    for index in range(300):  # the exporter thread is busy sending these at the fork
        manager.sse_event(f"parent-{{fork}}-{{index}}", 0)
    pid = os.fork()
    if pid == 0:
        if "{mode}" == "emit":
            with manager.turn():
                manager.sse_event("child", 0)
        sys.exit(0)  # the exit-time flush runs in the child
{wait_child}
provider.shutdown()
print(outcomes, provider.stats().exported)
"""


FORK_WHILE_OFFERING = """
import os, sys, threading, time, warnings
warnings.simplefilter("ignore")
from codex_otel import OtelConfig, OtelEventManager, OtelProvider
# Nothing listens there: exports fail and are counted; what matters is the offering thread.
table = {{"exporter": {{"otlp-grpc": {{"endpoint": "http://127.0.0.1:{port}"}}}}}}
provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
manager = OtelEventManager(provider, conversation_id="c", model="m", slug="s")
stop = threading.Event()

def offer():
    while not stop.is_set():
        manager.sse_event("parent", 0)

thread = threading.Thread(target=offer, daemon=True)
thread.start()
hung = 0
for fork in range({forks}):
    pid = os.fork()
    if pid == 0:
        os._exit(0)  # the fork hooks ran on the way here
    deadline = time.monotonic() + 5
    while not os.waitpid(pid, os.WNOHANG)[0]:
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            hung += 1
            break
        time.sleep(0.002)
stop.set()
thread.join(10)
print(hung)
"""


def test_a_child_forked_while_another_thread_records_never_hangs_in_the_fork_hooks() -> None:
    # A lock a parent's thread holds at the fork stays held in the child for good: the
    # hooks that stop gRPC in the child must not wait on one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = FORK_WHILE_OFFERING.format(port=port, forks=200)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0\n"


@pytest.mark.parametrize("mode", ["exit", "emit"])
def test_a_child_forked_while_grpc_exports_never_hangs_or_aborts(mode: str) -> None:
    # The collector runs in a process of its own: the test's in-process receiver would be
    # inherited by the children (with its own gRPC server) and hide what is under test.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = subprocess.Popen(
        [sys.executable, "-m", "codex_otel", "receive", "--no-http", "--grpc-port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        script = FORK_WHILE_EXPORTING.format(port=port, mode=mode, wait_child=WAIT_CHILD)
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=200
        )
    finally:
        collector.kill()
        collector.wait(10)
    assert result.returncode == 0, result.stderr
    outcomes, exported = result.stdout.split("]")
    assert outcomes + "]" == str([0] * 10)
    assert int(exported) == 3000  # the parent's own events all went out
