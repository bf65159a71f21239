"""A full disk under the `otlp-file` exporter: a short write fails its export (counted), and
every line written once there is room again reads whole, never glued to a torn one, whichever
of the file's writers in the process (events, metrics) writes next.

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
from codex_otel.export._file import AppendOnlyLines
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


def readable(lines: list[bytes]) -> tuple[int, list[str]]:
    """How many lines do not parse, and the kind of each that does (its top-level key, and an
    event's `event.kind`)."""
    unreadable, kinds = 0, []
    for line in lines:
        try:
            request = json.loads(line)
        except ValueError:
            unreadable += 1
            continue
        for key, resources in request.items():
            if key != "resourceLogs":
                kinds.append(key)
                continue
            for resource in resources:
                for scope in resource["scopeLogs"]:
                    for record in scope["logRecords"]:
                        attributes = {a["key"]: a["value"] for a in record["attributes"]}
                        kind = attributes.get("event.kind", {}).get("stringValue", "prompt")
                        kinds.append(f"{key}:{kind}")
    return unreadable, kinds


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
    assert readable(lines[:-1]) == (
        1,
        ["resourceLogs:before", *(f"resourceLogs:after-{i}" for i in range(5))],
    )
    assert provider.stats() == DeliveryStats(accepted=7, exported=6, export_failed=1)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_a_line_torn_by_events_is_ended_by_the_metrics_sharing_the_file(
    small_disk: Path,
) -> None:
    path = small_disk / "telemetry.jsonl"
    table = {
        "exporter": {"otlp-file": {"path": str(path)}},
        "metrics_exporter": {"otlp-file": {"path": str(path)}},
        "batch": {"schedule_delay_ms": 60_000},
        "metrics_export_interval_ms": 3_600_000,
        "log_user_prompt": True,
    }
    provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
    metrics = provider.metrics
    assert metrics is not None
    manager = OtelEventManager(provider, **METADATA)
    filler = fill(small_disk, leave=4096)
    # A prompt records no metric: only the events' line goes out, in part.
    manager.user_prompt(["p" * 2000 + uuid.uuid4().hex * 200])
    assert not provider.force_flush(timeout_millis=10_000)
    filler.unlink()  # room again
    manager.sse_event("after", 0)
    # The metrics' stream writes first: it must end the line the events' stream tore.
    flush = metrics.start_flush(10_000)
    assert flush is not None and flush.wait(10)
    manager.sse_event("later", 0)
    provider.shutdown()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    unreadable, kinds = readable(lines[:-1])
    # At shutdown both streams write, in either order.
    assert (unreadable, kinds[0], sorted(kinds[1:])) == (
        1,
        "resourceMetrics",
        ["resourceLogs:after", "resourceLogs:later", "resourceMetrics"],
    )
    assert provider.stats() == DeliveryStats(accepted=3, exported=2, export_failed=1)


def test_two_streams_of_one_file_share_its_torn_line(small_disk: Path) -> None:
    path = small_disk / "lines.jsonl"
    first, second = AppendOnlyLines(path), AppendOnlyLines(small_disk / "." / "lines.jsonl")
    first.write('{"n": 0}\n')
    filler = fill(small_disk, leave=4096)
    with pytest.raises(OSError, match="short write"):
        first.write(json.dumps({"big": "p" * 20_000}) + "\n")
    filler.unlink()
    for n in (1, 2):
        second.write(f'{{"n": {n}}}\n')
    first.write('{"n": 3}\n')
    first.close()
    second.close()
    lines = path.read_bytes().split(b"\n")
    assert (lines[0], lines[2:]) == (b'{"n": 0}', [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}', b""])
    assert lines[1].startswith(b'{"big": "ppp') and not lines[1].endswith(b'"}')
