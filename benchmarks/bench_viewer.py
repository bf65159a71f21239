"""`codex-otel view` on a real size: a session file of tool results with 2 KiB payloads (the
default content cap) opened by the command, as a user opens it.

Measured from outside the viewer process: the time from start until the whole file is read and
the page's first view can be fetched (open time), its peak and settled RSS (`/proc/PID/status`),
the bytes the page fetches for its first view (page state) and for one poll after 100 more
events were appended (what the page's protocol moves per change). The page's requests are
made as `static/view.js` makes them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, load_average, target

# The README's promises, each measured here at the default cap (--max-events 20000).
OPEN_LIMIT_S = 5.0  # a 150 MB session browsable within 5 s
RSS_LIMIT_MIB = 300.0  # 20,000 events and spans of 4 KiB values, and the interpreter
RSS_GROWTH_LIMIT = 1.15  # twice the file, (nearly) the same memory: files are read streaming
STATE_LIMIT_MIB = 5.0
POLL_LIMIT_KIB = 256.0  # a poll after 100 new events moves kilobytes, not the whole state
PAINT_LIMIT_S = 2.0  # the page's first view drawn, at the default cap

_POLL_S = 1.0  # as the page polls
_READING_POLL_S = 0.25  # and while a file is read
OPEN_RUNS = 3

_WRITE = """
import sys
from codex_otel import OtelConfig, OtelEventManager, OtelProvider
path, turns, calls, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sink = {"otlp-file": {"path": path}}
config = OtelConfig.from_mapping(
    {"exporter": sink, "trace_exporter": sink, "log_user_prompt": True}
)
text = ("lorem ipsum dolor sit amet, " * 80)[:2048]
with OtelProvider.from_config(config) as provider:
    manager = OtelEventManager(
        provider, conversation_id="0199a9c4-2f6e-7c31-9b0e-5d3c1f8e4a27", model="gpt-5-codex",
        slug="gpt-5",
    )
    for turn in range(first, first + turns):
        with manager.turn():
            manager.user_prompt([f"turn {turn}: run the tests"])
            for call in range(calls):
                call_id = f"call-{turn}-{call}"
                with manager.tool_span("shell", call_id):
                    manager.tool_result(
                        "shell", call_id, {"command": text}, 0.1, call % 50 != 7, text
                    )
"""


def write_session(path: Path, turns: int, calls: int, first: int = 0) -> None:
    """Append `turns` turns of a prompt and `calls` tool calls each (events and spans)."""
    subprocess.run(
        [sys.executable, "-c", _WRITE, str(path), str(turns), str(calls), str(first)],
        check=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=900,
    )


def _rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) RSS of `pid` in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
    return int(fields["VmRSS"]) / 1024, int(fields["VmHWM"]) / 1024


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        body: bytes = response.read()
        return body


class _Page:
    """The page's requests, as view.js makes them: the state (when its version moved; every
    second, four times a second while a file is read), then for the conversation shown its
    turns' headers and the open turns that changed (the last turn and the newest with
    failures are open)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.version = ""
        self.conversation: str | None = None
        self.conversation_version = -1
        self.bodies: set[str] = set()
        self.turns: list[dict[str, Any]] = []
        self.reading = False  # the last state said a file is being read

    def _conversation(
        self, since: int, keys: list[str], whole: tuple[str, ...] = ()
    ) -> tuple[int, dict[str, Any]]:
        query = urllib.parse.urlencode(
            [("id", self.conversation or ""), ("since", str(since))]
            + [("open", k) for k in keys]
            + [("whole", k) for k in whole]
        )
        try:
            body = _get(f"{self.url}api/conversation?{query}")
        except urllib.error.HTTPError as exc:  # gone since the state was read (dropped)
            if exc.code != 404:
                raise
            return 0, {"turns": [], "version": -1}
        data = json.loads(body)
        self.bodies |= {turn["key"] for turn in data["turns"] if "events" in turn}
        # As the page: a turn unchanged since `since` comes as its key, its header is held.
        held = {turn["key"]: turn for turn in self.turns}
        data["turns"] = [
            turn if "start" in turn else {**held[turn["key"]], **turn} for turn in data["turns"]
        ]
        self.turns = data["turns"]
        return len(body), data

    def poll(self) -> tuple[int, dict[str, Any]]:
        """One poll: (bytes fetched, the state)."""
        body = _get(f"{self.url}api/state?since={self.version}")
        state = json.loads(body)
        fetched = len(body)
        if state.get("unchanged"):
            return fetched, state
        self.version = str(state["version"])
        conversations = state.get("conversations") or []
        if not conversations or not isinstance(conversations[-1].get("turns"), int):
            return fetched, state  # the viewer before: everything came with the state
        summary = conversations[-1]
        fresh = summary["id"] != self.conversation
        if not fresh and summary["version"] <= self.conversation_version:
            return fetched, state
        if fresh:
            self.conversation, self.bodies = summary["id"], set()
            size, data = self._conversation(-1, [])
            fetched += size
        turns = data["turns"] if fresh else self.turns
        failing = [turn["key"] for turn in turns if turn["errors"]][-1:]
        wanted = {turns[-1]["key"], *failing} if turns else set()
        if not fresh:
            size, data = self._conversation(self.conversation_version, sorted(wanted & self.bodies))
            fetched += size
            turns = data["turns"]
            failing = [turn["key"] for turn in turns if turn["errors"]][-1:]
            wanted = {turns[-1]["key"], *failing} if turns else set()
        missing = sorted(wanted - self.bodies)
        if missing:
            size, data = self._conversation(data["version"], [], tuple(missing))
            fetched += size
        self.turns = data["turns"]
        self.conversation_version = data["version"]
        return fetched, state


# The page has drawn its first view: the state, and the rows of the open turns.
_PAINTED = (
    "document.body !== null && !!document.body.dataset.version && "
    "document.querySelectorAll('section.turn.open ol.events li').length > 0"
)


def first_paint(url: str) -> float | None:
    """Seconds from asking headless chromium for the page to its first view drawn (None
    without chromium)."""
    from tests.browser import CHROMIUM, Browser  # the suite's DevTools driver

    if not CHROMIUM.exists():
        return None
    with Browser() as browser:
        browser.open("about:blank")
        started = time.perf_counter()
        browser.call("Page.navigate", url=url)
        if not browser.wait_until(_PAINTED, timeout=60):
            raise RuntimeError("the page drew no turn within 60 s")
        return time.perf_counter() - started


def _received(state: dict[str, Any]) -> int:
    """Events the viewer took in so far (held, or dropped for the cap)."""
    return int(state["counts"]["events"]) + int(state["dropped"]["events"])


@contextlib.contextmanager
def _viewer(path: Path, max_events: int, root: Path) -> Iterator[tuple[int, _Page, float]]:
    """`codex-otel view path` running: its pid, the page (its URL printed) and when it was
    started."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "codex_otel",
            "view",
            str(path),
            "--port",
            "0",
            "--max-events",
            str(max_events),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=root,
        env=dict(os.environ, PYTHONPATH=str(root)),
    )
    assert process.stdout is not None
    try:
        url = ""
        while not url:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"view ended: {process.communicate()[1]}")
            match = re.search(r"viewer: (\S+) ", line)
            url = match[1] if match else ""
        yield process.pid, _Page(url), started
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _until_read(page: _Page, path: Path, pid: int) -> tuple[dict[str, Any], float]:
    """Polls as the page does until the whole file is read and the page's first view is
    served: (the state then, the peak RSS meanwhile)."""
    peak = 0.0
    while True:
        _, state = page.poll()
        peak = max(peak, _rss_mib(pid)[1])
        progress = state.get("progress")
        # This viewer says how far it read; the one before served only once it had read all.
        read = progress is None or (
            str(path) in progress and all(done >= total for done, total in progress.values())
        )
        if read and state.get("counts", {}).get("events", 0) > 0 and not state.get("unchanged"):
            return state, peak
        if not state.get("unchanged"):
            page.reading = any(done < total for done, total in (progress or {}).values())
        time.sleep(_READING_POLL_S if page.reading else _POLL_S)


def open_seconds(path: Path, *, max_events: int = 20_000, root: Path = ROOT) -> float:
    """Seconds from starting `codex-otel view path` until the file is read and the page's
    first view served (one run of what `measure` times)."""
    with _viewer(path, max_events, root) as (pid, page, started):
        _until_read(page, path, pid)
        return round(time.perf_counter() - started, 2)


def measure(path: Path, *, max_events: int = 20_000, root: Path = ROOT) -> dict[str, Any]:
    """The figures of `codex-otel view path`, run from the checkout at `root`."""
    size = path.stat().st_size
    with _viewer(path, max_events, root) as (pid, page, started):
        state, peak_during = _until_read(page, path, pid)
        opened = time.perf_counter() - started
        first_view, _ = _Page(page.url).poll()  # a page opened now: what its first view fetches
        painted = first_paint(page.url)
        received = _received(state)
        write_session(path, 1, 99, first=10_000)  # a prompt and 99 tool results: 100 events
        poll_bytes = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            fetched, state = page.poll()
            if not state.get("unchanged"):
                poll_bytes = fetched  # the poll that brought the change (earlier ones: none)
                if _received(state) >= received + 100:
                    break
            time.sleep(_POLL_S)
        rss, peak = _rss_mib(pid)
    return {
        "file_mb": round(size / 1e6, 1),
        "open_s": round(opened, 2),
        "rss_mib": round(rss, 1),
        "peak_rss_mib": round(max(peak, peak_during), 1),
        "first_view_mib": round(first_view / 1048576, 2),
        "first_paint_s": None if painted is None else round(painted, 2),
        "poll_after_100_events_kib": round(poll_bytes / 1024, 1),
        "events_shown": state["counts"]["events"],
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    # 25 turns of 1000 tool calls (2 KiB arguments and output each): about 150 MB. Whether
    # memory grows with the file: that file and half of it, both past a cap of 5,000.
    turns, calls = (4, 250) if quick else (25, 1000)
    small_cap = 500 if quick else 5_000
    with tempfile.TemporaryDirectory(prefix="codex-otel-bench-view-") as folder:
        # The whole session first, at the default cap, as recorded (its last turn a full one:
        # each measure then appends a turn of 100 events).
        path = Path(folder) / "session.jsonl"
        write_session(path, turns, calls)
        load = load_average()
        # The machine is shared: the open time is the median of three runs.
        opens = [open_seconds(path) for _ in range(OPEN_RUNS - 1)]
        figures = measure(path)
        opens.append(figures["open_s"])
        figures["open_s"] = statistics.median(opens)
        load_after = load_average()
        whole = measure(path, max_events=small_cap)
        half = Path(folder) / "half.jsonl"
        write_session(half, turns // 2, calls)
        halved = measure(half, max_events=small_cap)
    growth = whole["rss_mib"] / halved["rss_mib"]
    return {
        "figures": figures,
        "open_runs_s": opens,
        "load": {"before": load, "after": load_after},
        "half": halved,
        "whole": whole,
        "targets": [
            target(
                f"view: open a {figures['file_mb']} MB session (median of {OPEN_RUNS})",
                figures["open_s"],
                OPEN_LIMIT_S,
                "s",
            ),
            target(
                "view: peak RSS at the default cap", figures["peak_rss_mib"], RSS_LIMIT_MIB, "MiB"
            ),
            target(
                f"view: RSS at {whole['file_mb']} MB vs {halved['file_mb']} MB of file "
                f"(cap {small_cap} events)",
                round(growth, 2),
                RSS_GROWTH_LIMIT,
                "x",
            ),
            target(
                "view: the page's first view at the default cap",
                figures["first_view_mib"],
                STATE_LIMIT_MIB,
                "MiB",
            ),
            *(
                []
                if figures["first_paint_s"] is None
                else [
                    target(
                        "view: the page's first paint at the default cap",
                        figures["first_paint_s"],
                        PAINT_LIMIT_S,
                        "s",
                    )
                ]
            ),
            target(
                "view: a poll after 100 new events",
                figures["poll_after_100_events_kib"],
                POLL_LIMIT_KIB,
                "KiB",
            ),
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    rows = [
        f"| {f['file_mb']} | {f['open_s']} | {f['rss_mib']} | {f['peak_rss_mib']} | "
        f"{f['first_view_mib']} | {f['first_paint_s']} | {f['poll_after_100_events_kib']} | "
        f"{f['events_shown']} |"
        for f in (result["half"], result["whole"], result["figures"])
    ]
    load = result.get("load") or {}
    opens = result.get("open_runs_s")
    return "\n".join(
        [
            "`codex-otel view FILE` on a session of tool results with 2 KiB arguments and "
            "output, then 100 more events appended; the page's requests made as view.js makes "
            "them (polling every second, four times a second while a file is read). Half the "
            "session and all of it with a cap of 5,000 "
            "events (memory must not grow with the file), then all of it at the default cap "
            "(20,000 events)"
            + (
                f", opened {len(opens)} times (open s: the median of "
                f"{', '.join(map(str, opens))} s); load average before/after: "
                f"{load.get('before')} / {load.get('after')}."
                if opens
                else "."
            ),
            "",
            "| file MB | open s | RSS MiB | peak RSS MiB | first view MiB | first paint s "
            "| poll KiB | held |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(json.dumps(run(quick=quick), indent=1))
