"""`codex-otel view` never hangs and never traces back: a start-up failure is one line and exit 2,
a bad line is counted (on the page too), a following thread that dies says so."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from codex_otel.cli._view import serving
from codex_otel.cli._view_model import StoredEvent, ViewStore
from codex_otel.cli._view_pages import state_of
from tests.browser import Browser
from tests.cli import CLI
from tests.test_view import (
    RECORDED_COUNTS,
    RENDERED,
    _need_chromium,
    record_session,
    viewing,
    wait_read,
)

# Deeper than any JSON parser in the path goes (json's C scanner, protobuf's ParseDict).
DEEP_LINE = b'{"resourceLogs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"


@contextmanager
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 something else listens on (a collector, `codex-otel receive`)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


def run_view(*args: str) -> subprocess.CompletedProcess[str]:
    # The bound is the test's: the command must end on its own, long before it.
    return subprocess.run([CLI, "view", *args], capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize("flag", ["--http-port", "--grpc-port"])
def test_view_with_a_receiver_port_taken_is_one_line_and_exit_2(flag: str) -> None:
    other = "--grpc-port" if flag == "--http-port" else "--http-port"
    with taken_port() as port:
        result = run_view(flag, str(port), other, "0")
    protocol = "HTTP" if flag == "--http-port" else "gRPC"
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: OTLP receiver: cannot bind {protocol} on 127.0.0.1:{port}: "
        "Address already in use\n"
    )


def test_view_with_its_page_port_taken_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_text("")
    with taken_port() as port:
        result = run_view("--port", str(port), str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: the page: cannot bind 127.0.0.1:{port}: Address already in use\n"
    )


def test_view_of_a_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_view(str(tmp_path))
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        result.stderr
        == f"codex-otel: {tmp_path}: is a directory; expected an OTLP/JSON lines file\n"
    )


def test_view_of_a_named_pipe_is_one_line_and_exit_2_without_waiting(tmp_path: Path) -> None:
    pipe = tmp_path / "p"
    os.mkfifo(pipe)  # no one writes to it: opening it would wait for ever
    result = run_view(str(pipe))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"codex-otel: {pipe}: is a pipe; expected an OTLP/JSON lines file\n"


def test_view_of_a_process_substitution_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """`codex-otel view <(cat s.jsonl)`: a pipe read once, that cannot be followed."""
    path = tmp_path / "session.jsonl"
    record_session(path)
    read, write = os.pipe()
    try:
        with path.open("rb") as source:
            os.write(write, source.read(4096))
        fd = f"/dev/fd/{read}"
        result = subprocess.run(
            [CLI, "view", fd], capture_output=True, text=True, timeout=20, pass_fds=(read,)
        )
    finally:
        os.close(read)
        os.close(write)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"codex-otel: {fd}: is a pipe; expected an OTLP/JSON lines file\n"


def test_view_of_a_device_is_one_line_and_exit_2() -> None:
    result = run_view("/dev/null")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "codex-otel: /dev/null: is a character device; expected an OTLP/JSON lines file\n"
    )


def test_a_deeply_nested_line_is_counted_and_the_file_still_followed(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_bytes(DEEP_LINE)
    store = ViewStore()
    with serving(store, files=[path]):
        wait_read(store, path)
        first = state_of(store)
        with path.open("ab") as file:
            file.write(DEEP_LINE + b"not json\n")
        record_session(path)  # appended after the bad lines: still read
        wait_read(store, path)
        later = state_of(store)
    assert (first["bad_lines"], first["counts"]["events"]) == ({str(path): 1}, 0)
    assert later["bad_lines"] == {str(path): 3}
    assert later["notes"] == [
        f"{path}: 3 lines are neither OTLP/JSON nor receive --output JSON; skipped"
    ]
    assert (later["counts"], later["failure"]) == (RECORDED_COUNTS, None)


def test_view_of_a_file_with_a_deeply_nested_line_serves_and_counts_it(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    with path.open("ab") as file:
        file.write(DEEP_LINE)
    with viewing(str(path)) as (process, url):
        for _ in range(400):
            state = httpx.get(url + "api/state").json()
            if state["bad_lines"]:
                break
            time.sleep(0.025)
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert (state["bad_lines"], state["counts"]) == ({str(path): 1}, RECORDED_COUNTS)
    assert (process.returncode, err) == (0, "stopped: showed 8 events, 19 metric series, 4 spans\n")


class _FailingStore(ViewStore):
    """A store whose ingestion breaks (as an unforeseen bug would) once events arrive."""

    def add_records(self, records: Iterable[StoredEvent], source: str = "") -> None:
        raise MemoryError("no room for the events")


def test_a_follow_thread_that_fails_says_so_in_the_state_and_on_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "session.jsonl"
    record_session(path)
    store = _FailingStore()
    with serving(store, files=[path], err=sys.stderr):
        for _ in range(400):
            if state_of(store)["failure"]:
                break
            time.sleep(0.025)
    message = "stopped following the files: MemoryError: no room for the events"
    state = state_of(store)
    assert (state["failure"], state["notes"]) == (message, [message])
    assert capsys.readouterr().err == f"codex-otel: {message}\n"


# What the header says about the files, as a person sees it.
HEADER = """(() => ({
  live: document.getElementById("live").innerText,
  stale: document.getElementById("live").classList.contains("stale"),
  bad: document.getElementById("bad-lines").innerText,
  notes: [...document.querySelectorAll("#notes li")].map((li) => li.innerText),
}))()"""


def _header(store: ViewStore, path: Path, ready: str, screenshot: str) -> dict[str, object]:
    """The header of the page showing `path`, once `document.getElementById('<ready>` holds."""
    with serving(store, files=[path]) as server, Browser() as browser:
        browser.open(server.url)
        assert browser.wait_until(RENDERED)
        assert browser.wait_until(f"document.getElementById('{ready}")
        header: dict[str, object] = browser.evaluate(HEADER)
        browser.screenshot(screenshot)
    return header


def test_the_page_counts_bad_lines_and_says_when_following_failed(tmp_path: Path) -> None:
    _need_chromium()
    path = tmp_path / "session.jsonl"
    record_session(path)
    with path.open("ab") as file:
        file.write(DEEP_LINE + b"not json\n")
    broken = tmp_path / "broken.jsonl"
    record_session(broken)
    counted = _header(ViewStore(), path, "bad-lines').innerText !== ''", "view-bad-lines.png")
    ready = "live').innerText.startsWith('not')"
    failed = _header(_FailingStore(), broken, ready, "view-following-failed.png")
    assert counted["bad"] == "2 bad lines skipped"
    assert counted["notes"] == [
        f"{path}: 2 lines are neither OTLP/JSON nor receive --output JSON; skipped"
    ]
    assert not counted["stale"]
    message = "stopped following the files: MemoryError: no room for the events"
    assert failed == {"live": f"not live: {message}", "stale": True, "bad": "", "notes": [message]}
