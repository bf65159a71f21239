"""`TrackEventsApiSink`: track events POSTed to Codex's track-events API, over httpx2.

Every event handed to `send` ends in exactly one bucket of `SinkStats`, whatever the server
does: answers 2xx (`delivered`), anything else, a redirect included (`failed`), nothing
parseable, or nothing in time (`failed`), or is still being sent when the client's shutdown
bound runs out (`in_flight_at_shutdown`, and the events of that send not started yet
`unsent_at_shutdown`).
"""

from __future__ import annotations

import itertools
import json
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from .._config import redact_url
from ..export._fork import keep_inherited, load_lazy_http_modules, reset_in_forked_child
from ._bounded_http import bounded_client, request_deadline
from ._reducer import TrackEvent
from ._sinks import SinkStats, _Counts, track_event_batches

if TYPE_CHECKING:
    import httpx2

__all__ = ["MAX_ANSWER_BYTES", "TRACK_EVENTS_PATH", "TRACK_EVENTS_TIMEOUT", "TrackEventsApiSink"]

TRACK_EVENTS_PATH = "/codex/analytics-events/events"
TRACK_EVENTS_TIMEOUT = 10.0
# The answer's body is not used: at most this much of it is read (a small one whole, so its
# connection is kept alive); the rest is left unread and the connection closed.
MAX_ANSWER_BYTES = 64 * 1024


class TrackEventsApiSink:
    """POSTs `{"events": [...]}` to `{base_url}/codex/analytics-events/events`.

    `auth_headers` is called before every request, so a refreshed token is used as soon as the
    host has it; it returns None when there is no auth for Codex's backend (nothing is sent
    then). Header values are never logged or shown. `timeout` bounds each request as a
    whole (connecting, the TLS handshake, sending, and reading the answer however slowly it
    comes); of the answer's body at most `MAX_ANSWER_BYTES` are read. A redirect is never
    followed: the credentials stay with the configured URL, and the events count as
    `failed`.
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
        # Built here, on the host's thread, which imports httpx2 and its transport: an
        # import under way on the worker when the process forks would leave that module's
        # import lock held in the child for good (its first send would wait forever).
        self._client: httpx2.Client | None = bounded_client(timeout)
        load_lazy_http_modules()
        # Its kept-alive connections close with the sink (or at exit), not at garbage collection.
        self._closer = weakref.finalize(self, self._client.close)
        # Events of the sends under way: send id -> [events in the request in flight, events
        # of that send still to go]. Emptied into the stats by `abandon()`.
        self._open: dict[int, list[int]] = {}
        self._ids = itertools.count()
        self._abandoned = False
        # A forked child must not share the parent's connections (bytes of two processes
        # would interleave on one socket) nor wait on a pool lock the parent held.
        reset_in_forked_child(self._after_fork_in_child)

    def __repr__(self) -> str:
        return f"TrackEventsApiSink(url={redact_url(self.url)!r})"

    def stats(self) -> SinkStats:
        return self._counts.snapshot()

    def close(self) -> None:
        """Close the connections kept alive for later requests (sending still works after,
        on new ones)."""
        client = self._client
        if client is not None:
            client.close()
            self._client = None

    def abandon(self) -> None:
        """The client's shutdown bound ran out: a request in flight is cut at once and its
        events counted `in_flight_at_shutdown` (the server may have them); the rest of its
        send, and every later send, `unsent_at_shutdown`."""
        with self._counts.lock:
            self._abandoned = True
            for in_flight, waiting in self._open.values():
                self._counts.values["in_flight_at_shutdown"] += in_flight
                self._counts.values["unsent_at_shutdown"] += waiting
            self._open.clear()

    def send(self, events: Sequence[TrackEvent], deadline: float | None) -> None:
        send_id = next(self._ids)
        with self._counts.lock:
            if self._abandoned:
                self._counts.values["unsent_at_shutdown"] += len(events)
                return
            self._open[send_id] = [0, len(events)]
        try:
            for batch in track_event_batches(events):
                with self._counts.lock:
                    state = self._open.get(send_id)
                    if state is None:  # abandoned: counted there
                        return
                    state[0], state[1] = len(batch), state[1] - len(batch)
                outcome = self._send_batch(batch, deadline)
                with self._counts.lock:
                    if self._open.get(send_id) is state:
                        self._counts.values[outcome] += len(batch)
                        state[0] = 0
        finally:
            with self._counts.lock:
                state = self._open.pop(send_id, None)
                if state is not None:  # an unexpected error ended the send early
                    self._counts.values["failed"] += state[0] + state[1]

    def _stop_at(self, deadline: float | None) -> float:
        if self._abandoned:
            return 0.0
        return deadline if deadline is not None else float("inf")

    def _send_batch(self, batch: list[TrackEvent], deadline: float | None) -> str:
        """One request; returns the `SinkStats` field its events fall under."""
        end = time.monotonic() + self._timeout
        if deadline is not None and deadline <= time.monotonic():
            return "unsent_at_shutdown"
        try:
            headers = self._auth_headers()
        except Exception as exc:
            self._counts.warn_once(
                "auth", f"the auth_headers callable failed ({type(exc).__name__})"
            )
            return "failed"
        if headers is None:
            return "not_sent"
        if not isinstance(headers, Mapping):
            self._counts.warn_once(
                "auth",
                f"the auth_headers callable returned {type(headers).__name__}, "
                "expected a mapping of header names to values, or None",
            )
            return "failed"
        body = json.dumps({"events": [event.body for event in batch]}).encode()
        self._counts.add(requests=1)
        try:
            client = self._client or self._new_client()
            request_headers = {str(name): str(value) for name, value in headers.items()}
            request_headers["Content-Type"] = "application/json"
            with (
                request_deadline(lambda: min(end, self._stop_at(deadline))),
                client.stream("POST", self.url, content=body, headers=request_headers) as response,
            ):
                status = response.status_code
                _read_at_most(response, MAX_ANSWER_BYTES)
        except Exception as exc:
            # Anything: refused, reset, timed out, a malformed answer, a bad header value.
            if self._abandoned or (deadline is not None and time.monotonic() >= deadline):
                # Cut by the shutdown bound: `in_flight_at_shutdown`, which the shutdown
                # summary reports; not a failure to warn of.
                return "in_flight_at_shutdown"
            self._counts.warn_once(
                "send",
                f"failed to send events request to {redact_url(self.url)} ({type(exc).__name__})",
            )
            return "failed"
        if 200 <= status < 300:
            return "delivered"
        if 300 <= status < 400:
            self._counts.warn_once(
                "redirect",
                f"events failed: {redact_url(self.url)} answered {status}, a "
                "redirect, which is never followed with credentials",
            )
        else:
            self._counts.warn_once("status", f"events failed with status {status}")
        return "failed"

    def _new_client(self) -> httpx2.Client:
        # After `close()`, or in a forked child (the modules are loaded already).
        client = self._client = bounded_client(self._timeout)
        self._closer.detach()
        self._closer = weakref.finalize(self, client.close)
        return client

    def _after_fork_in_child(self) -> None:
        if self._client is not None:
            keep_inherited(self._client)
        self._closer.detach()  # the parent's client: never closed here
        self._client = None
        self._counts.reset_after_fork()
        self._open = {}
        self._abandoned = False


def _read_at_most(response: httpx2.Response, limit: int) -> None:
    """Reads the answer's body up to its end or `limit` bytes, whichever comes first."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read >= limit:
            return
