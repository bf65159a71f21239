"""Where track events go: what a sink is, what it counts, and the package's OpenTelemetry
pipeline as one (Codex's track-events API is `_api_sink`).

A sink is called from the client's one worker thread with the events of a batch of facts and
the shutdown deadline (a `time.monotonic()` value, or None). It never raises for a failure it
expects (a refused or unreachable API): it counts it and warns once. A sink may also have
`abandon()`, which the client calls when its shutdown bound runs out during a send.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._errors import internal_logger
from ._reducer import TrackEvent

__all__ = ["OtelSink", "Sink", "SinkStats", "track_event_batches"]


@dataclass(frozen=True)
class SinkStats:
    """What a sink did with the events handed to it; each event is counted exactly once."""

    delivered: int = 0
    """Accepted by the destination (a 2xx answer; for OpenTelemetry: handed to the pipeline,
    whose own `provider.stats()` follows it from there)."""
    failed: int = 0
    """Refused (non-2xx, a redirect included), unreachable, timed out, or answered with
    something that is not HTTP."""
    not_sent: int = 0
    """Nowhere to send: no backend auth, or a provider without an exporter."""
    unsent_at_shutdown: int = 0
    """Still to send when the shutdown bound ran out."""
    in_flight_at_shutdown: int = 0
    """Being sent when the shutdown bound ran out: they may have arrived."""
    requests: int = 0
    """HTTP requests made (the API sink)."""


class Sink(Protocol):
    name: str

    def send(self, events: Sequence[TrackEvent], deadline: float | None) -> None: ...

    def stats(self) -> SinkStats: ...


class _Counts:
    """Counters behind `SinkStats`, and the warn-once of a sink."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.values = dict.fromkeys(SinkStats.__dataclass_fields__, 0)
        self.warned: set[str] = set()

    def add(self, **counts: int) -> None:
        with self.lock:
            for key, value in counts.items():
                self.values[key] += value

    def reset_after_fork(self) -> None:
        """A forked child counts its own events, under a lock no parent thread holds."""
        self.lock = threading.Lock()
        self.values = dict.fromkeys(SinkStats.__dataclass_fields__, 0)

    def snapshot(self) -> SinkStats:
        with self.lock:
            return SinkStats(**self.values)

    def warn_once(self, reason: str, detail: str) -> None:
        with self.lock:
            if reason in self.warned:
                return
            self.warned.add(reason)
        internal_logger.warning(
            "codex_otel: analytics %s: %s; further such failures are counted, not logged",
            self.name,
            detail,
        )


def track_event_batches(events: Sequence[TrackEvent]) -> list[list[TrackEvent]]:
    """Events in order, in shared requests, except isolated ones, each in a request of its own."""
    batches: list[list[TrackEvent]] = []
    current: list[TrackEvent] = []
    for event in events:
        if event.isolated:
            if current:
                batches.append(current)
                current = []
            batches.append([event])
        else:
            current.append(event)
    if current:
        batches.append(current)
    return batches


class OtelSink:
    """One OpenTelemetry log record per track event on an `OtelProvider`'s logger.

    EventName and body are the `event_type`; the params are the attributes, nested objects
    flattened with dots (`app_server_client.client_name`), None left out.
    """

    name = "otel"

    def __init__(self, provider: Any) -> None:
        self._provider = provider
        self._counts = _Counts(self.name)

    def stats(self) -> SinkStats:
        return self._counts.snapshot()

    def send(self, events: Sequence[TrackEvent], deadline: float | None) -> None:
        logger = self._provider.logger
        if logger is None:
            self._counts.add(not_sent=len(events))
            return
        from opentelemetry._logs import SeverityNumber

        for event in events:
            now = time.time_ns()
            attributes = {"event.name": event.event_type, "event.timestamp": _rfc3339(now)}
            attributes.update(event_attributes(event))
            logger.emit(
                timestamp=now,
                observed_timestamp=now,
                severity_number=SeverityNumber.INFO,
                severity_text="INFO",
                body=event.event_type,
                attributes=attributes,
                event_name=event.event_type,
            )
            self._counts.add(delivered=1)


def event_attributes(event: TrackEvent) -> dict[str, Any]:
    """The event's params (and top-level extras such as `skill_id`) as flat attributes."""
    out: dict[str, Any] = {}
    for key, value in event.body.items():
        if key == "event_params":
            _flatten(value, "", out)
        elif key != "event_type":
            _flatten(value, key, out)
    return out


def _flatten(value: object, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif value is None:
        return
    elif isinstance(value, (str, bool, int, float)):
        out[prefix] = value
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        out[prefix] = tuple(value)
    else:
        out[prefix] = json.dumps(value, default=str)


def _rfc3339(time_ns: int) -> str:
    second, rest = divmod(time_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)) + f".{rest // 1_000_000:03d}Z"
