"""Fork safety: a child delivers its own events; the parent's queued events go out once."""

from __future__ import annotations

import os
import time
import warnings

import pytest

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA
from tests.transports import TRANSPORTS, exporter_table, receiver_port

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")


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
def test_a_forked_child_delivers_its_own_events_and_the_parents_go_out_once(
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
            code = 0 if provider.stats() == DeliveryStats(accepted=2, exported=2) else 1
        finally:
            os._exit(code)
    assert wait_child(pid) == 0
    provider.shutdown()
    logs = receiver.wait_for(5)
    assert sorted(log.attributes["event.kind"] for log in logs) == [
        "child-0",
        "child-1",
        "parent-early",
        "parent-queued-0",
        "parent-queued-1",
    ]
    assert provider.stats() == DeliveryStats(accepted=3, exported=3)
