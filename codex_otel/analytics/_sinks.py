"""Where track events go: Codex's track-events API, and the package's OpenTelemetry pipeline.

A sink is called from the client's one worker thread with the events of a batch of facts and
the shutdown deadline (a `time.monotonic()` value, or None). It never raises for a failure it
expects (a refused or unreachable API): it counts it and warns once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._config import redact_url
from .._errors import internal_logger
from ._reducer import TrackEvent

__all__ = ["OtelSink", "Sink", "SinkStats", "TrackEventsApiSink", "track_event_batches"]

TRACK_EVENTS_PATH = "/codex/analytics-events/events"
TRACK_EVENTS_TIMEOUT = 10.0


@dataclass(frozen=True)
class SinkStats:
    """What a sink did with the events handed to it; each event is counted exactly once."""

    delivered: int = 0
    """Accepted by the destination (a 2xx answer; for OpenTelemetry: handed to the pipeline,
    whose own `provider.stats()` follows it from there)."""
    failed: int = 0
    """Refused (non-2xx), unreachable or timed out."""
    not_sent: int = 0
    """Nowhere to send: no backend auth, or a provider without an exporter."""
    unsent_at_shutdown: int = 0
    """Still to send when the shutdown bound ran out."""
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


class TrackEventsApiSink:
    """POSTs `{"events": [...]}` to `{base_url}/codex/analytics-events/events`.

    `auth_headers` is called before every request, so a refreshed token is used as soon as the
    host has it; it returns None when there is no auth for Codex's backend (nothing is sent
    then). Header values are never logged or shown.
    """

    name = "track_events_api"

    def __init__(
        self,
        base_url: str,
        auth_headers: Callable[[], Mapping[str, str] | None],
        *,
        timeout: float = TRACK_EVENTS_TIMEOUT,
    ) -> None:
        self.url = base_url.rstrip("/") + TRACK_EVENTS_PATH
        self._auth_headers = auth_headers
        self._timeout = timeout
        self._counts = _Counts(self.name)
        # Imported here: a host without this sink does not pay for urllib, http.client and ssl.
        import urllib.request

        # urllib's default opener honours the proxy variables, as Codex's HTTP client does.
        self._opener = urllib.request.build_opener()

    def __repr__(self) -> str:
        return f"TrackEventsApiSink(url={redact_url(self.url)!r})"

    def stats(self) -> SinkStats:
        return self._counts.snapshot()

    def send(self, events: Sequence[TrackEvent], deadline: float | None) -> None:
        for batch in track_event_batches(events):
            self._send_batch(batch, deadline)

    def _send_batch(self, batch: list[TrackEvent], deadline: float | None) -> None:
        timeout = self._timeout
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
            if timeout <= 0:
                self._counts.add(unsent_at_shutdown=len(batch))
                return
        try:
            headers = self._auth_headers()
        except Exception as exc:
            self._counts.add(failed=len(batch))
            self._counts.warn_once(
                "auth", f"the auth_headers callable failed ({type(exc).__name__})"
            )
            return
        if headers is None:
            self._counts.add(not_sent=len(batch))
            return
        import urllib.error
        import urllib.request

        body = json.dumps({"events": [event.body for event in batch]}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")
        for name, value in headers.items():
            request.add_header(str(name), str(value))
        request.add_header("Content-Type", "application/json")
        self._counts.add(requests=1)
        try:
            with self._opener.open(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            self._counts.add(failed=len(batch))
            self._counts.warn_once("status", f"events failed with status {exc.code}")
        except (OSError, ValueError) as exc:
            # URLError, timeouts, resets; ValueError for a malformed URL.
            self._counts.add(failed=len(batch))
            reason = getattr(exc, "reason", exc)
            self._counts.warn_once(
                "send", f"failed to send events request to {redact_url(self.url)} ({reason})"
            )
        else:
            self._counts.add(delivered=len(batch))


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
