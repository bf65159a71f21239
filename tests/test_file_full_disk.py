"""A full disk under the `otlp-file` exporter: a short write fails its export (counted), and
every line written once there is room again reads whole, never glued to a torn one.

Over a real, small tmpfs (mounting one needs root: without it the test says so and skips).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from tests.conftest import METADATA

DISK_BYTES = 256 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """A file taking all of `disk` but about `leave` bytes."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"x" * 4096) == 4096:
            pass
    except OSError:
        pass  # full
    finally:
        os.ftruncate(fd, max(os.fstat(fd).st_size - leave, 0))
        os.close(fd)
    return filler


def test_a_full_disk_fails_the_export_and_tears_no_later_line(small_disk: Path) -> None:
    path = small_disk / "telemetry.jsonl"
    table = {
        "exporter": {"otlp-file": {"path": str(path)}},
        "batch": {"schedule_delay_ms": 60_000},
        "log_user_prompt": True,
    }
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    manager = OtelEventManager(provider, **METADATA)
    manager.sse_event("before", 0)
    assert provider.force_flush(timeout_millis=10_000)
    filler = fill(small_disk, leave=4096)
    # Each event is larger than what is left: its line can only go out in part.
    manager.user_prompt(["p" * 2000 + uuid.uuid4().hex * 200])
    assert not provider.force_flush(timeout_millis=10_000)
    filler.unlink()  # room again
    for index in range(5):
        manager.sse_event(f"after-{index}", 0)
    assert provider.force_flush(timeout_millis=10_000)
    provider.shutdown()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    kinds: list[str] = []
    unreadable = 0
    for line in lines[:-1]:
        try:
            request = json.loads(line)
        except ValueError:
            unreadable += 1
            continue
        for resource in request["resourceLogs"]:
            for scope in resource["scopeLogs"]:
                for record in scope["logRecords"]:
                    attributes = {a["key"]: a["value"] for a in record["attributes"]}
                    kinds.append(attributes.get("event.kind", {}).get("stringValue", "prompt"))
    assert (unreadable, kinds) == (1, ["before", *(f"after-{i}" for i in range(5))])
    assert provider.stats() == DeliveryStats(accepted=7, exported=6, export_failed=1)
    assert os.stat(path).st_mode & 0o777 == 0o600
