"""Replay a recorded app-server session through a real `AnalyticsClient` and show its events.

The recording is JSON Lines, one JSON-RPC message per line with who sent it:

    {"from": "client", "connection": 1, "at_ms": 1775781337000, "message": {...}}

`from` is `client` or `server`; `connection` (default 1) and `at_ms` (the time the host saw the
message, unix milliseconds; default: now) are optional. Blank lines and lines starting with `#`
are skipped.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .._errors import ReplayError
from ._client import AnalyticsClient
from ._reducer import TrackEvent
from ._sinks import Sink, SinkStats

__all__ = ["ReplayError", "read_session", "replay"]


class _Collect:
    """A sink keeping the events in order, to print them."""

    name = "replay"

    def __init__(self) -> None:
        self.events: list[TrackEvent] = []

    def send(self, events: Sequence[TrackEvent], deadline: float | None) -> None:
        self.events.extend(events)

    def stats(self) -> SinkStats:
        return SinkStats(delivered=len(self.events))


def read_session(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The recording's lines, checked; raises `ReplayError` on the first bad one."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{source}: cannot read the recording ({exc})") from None
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReplayError(f"{source}:{number}: expected a JSON object ({exc.msg})") from None
        if not isinstance(entry, dict):
            raise ReplayError(f"{source}:{number}: expected a JSON object")
        if entry.get("from") not in ("client", "server"):
            raise ReplayError(f"{source}:{number}: from: expected 'client' or 'server'")
        if not isinstance(entry.get("message"), dict):
            raise ReplayError(f"{source}:{number}: message: expected a JSON-RPC object")
        connection = entry.get("connection", 1)
        if not isinstance(connection, int) or isinstance(connection, bool):
            raise ReplayError(f"{source}:{number}: connection: expected an integer")
        at_ms = entry.get("at_ms")
        if at_ms is not None and (not isinstance(at_ms, int) or isinstance(at_ms, bool)):
            raise ReplayError(f"{source}:{number}: at_ms: expected unix milliseconds")
        lines.append(entry)
    return lines


def replay(
    path: str | os.PathLike[str],
    out: TextIO,
    *,
    sinks: Sequence[Sink] = (),
    product_surface: str = "codex",
) -> int:
    """Feed the recording at `path` through a client; print each track event as a JSON line,
    then a summary line. Extra `sinks` (an `OtelSink`, say) receive the events too.

    Returns 0; a bad recording raises `ReplayError`.
    """
    entries = read_session(path)
    now = [time.time()]
    collect = _Collect()
    client = AnalyticsClient(
        [collect, *sinks],
        product_surface=product_surface,
        queue_size=max(len(entries), 1),
        clock=lambda: now[0],
    )
    try:
        for entry in entries:
            at_ms = entry.get("at_ms")
            now[0] = at_ms / 1000 if at_ms is not None else time.time()
            client.observe(
                entry.get("connection", 1),
                entry["from"],
                entry["message"],
                product_client_id=entry.get("product_client_id"),
                rpc_transport=entry.get("rpc_transport", "stdio"),
            )
    finally:
        client.shutdown()
    for event in collect.events:
        print(json.dumps(event.body), file=out)
    stats = client.stats()
    print(
        f"# {len(entries)} messages: {stats.accepted} facts queued, {stats.filtered} filtered, "
        f"{stats.events} track events",
        file=out,
    )
    return 0
