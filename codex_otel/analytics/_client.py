"""`AnalyticsClient`: the host's handle. Facts in on the caller's thread, events out on one worker.

Every `track_*` call turns its arguments into one fact and puts it on a bounded queue without
blocking; a full queue drops the fact and counts it. Traffic no reducer rule uses is filtered
here, before queueing, and `app_used` / `plugin_used` are deduped here too. A disabled client
has no queue and no thread: each call returns at its first line.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

from .._config_load import AnalyticsConfig
from .._errors import internal_logger, report_internal_error
from ..export._fork import reset_in_forked_child
from ._checks import BadArgument, check_fact, expect, expect_hashable
from ._facts import (
    AppInvocation,
    AppsMentionedFact,
    AppUsedFact,
    ClientRequestFact,
    ClientResponseFact,
    CompactionFact,
    ErrorResponseFact,
    Fact,
    GuardianReviewFact,
    HookRunFact,
    InitializeFact,
    NotificationFact,
    PluginMetadata,
    PluginStateFact,
    PluginUsedFact,
    RpcTransport,
    RuntimeMetadata,
    ServerRequestAbortedFact,
    ServerRequestFact,
    ServerResponseFact,
    SkillInvocation,
    SkillsInvokedFact,
    SubagentThreadStarted,
    TrackEventsContext,
    TurnResolvedConfig,
    TurnTokenUsage,
    current_runtime,
)
from ._reducer import APPROVAL_REQUESTS, THREAD_RESPONSES, TURN_REQUESTS, AnalyticsReducer
from ._sinks import Sink, SinkStats

__all__ = ["AnalyticsClient", "AnalyticsStats"]

QUEUE_SIZE = 256
DEDUPE_MAX_KEYS = 4096
# Facts the worker reduces before handing their events to the sinks as one batch.
_MAX_FACTS_PER_BATCH = 64

# Codex also queues `item/started` and `turn/diff/updated`, for its per-tool-item events; no
# rule here uses them, so they are filtered with the rest.
_NOTIFICATIONS = frozenset(
    {
        "turn/started",
        "turn/completed",
        "item/completed",
        "item/autoApprovalReview/started",
        "item/autoApprovalReview/completed",
    }
)
# Client requests whose responses a rule uses; only the turn ones are queued themselves.
_PAIRED_REQUESTS = frozenset(THREAD_RESPONSES) | frozenset(TURN_REQUESTS)
_STOP = object()
# How long shutdown waits, past its bound, for a worker whose sinks were told to give up
# (the API sink's send ends within a 50 ms slice; the rest is room for a loaded machine).
_ABANDON_GRACE_SECONDS = 1.0

Direction = Literal["client", "server"]


@dataclass(frozen=True)
class AnalyticsStats:
    """What became of the facts and events so far.

    Each fact offered is `invalid` (an argument of the wrong type: warned once per method,
    never raised), `filtered` (no rule uses it), `deduped`, `queue_full`, `after_shutdown`,
    or `accepted`; each accepted fact ends `reduced`, `reducer_failed` or
    `unsent_at_shutdown`. The `events` the reducer produced are followed per sink in `sinks`.
    """

    accepted: int = 0
    invalid: int = 0
    filtered: int = 0
    deduped: int = 0
    queue_full: int = 0
    after_shutdown: int = 0
    reduced: int = 0
    reducer_failed: int = 0
    unsent_at_shutdown: int = 0
    events: int = 0
    sinks: Mapping[str, SinkStats] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        """Accepted facts not reduced yet."""
        return self.accepted - self.reduced - self.reducer_failed - self.unsent_at_shutdown


class _Dedupe:
    """The keys already queued, cleared when it holds `DEDUPE_MAX_KEYS` (as Codex does)."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def first(self, key: tuple[str, str]) -> bool:
        with self._lock:
            if len(self._keys) >= DEDUPE_MAX_KEYS:
                self._keys.clear()
            if key in self._keys:
                return False
            self._keys.add(key)
            return True

    def __len__(self) -> int:
        return len(self._keys)

    def copy(self) -> _Dedupe:
        """The same keys under a lock of its own (for a forked child)."""
        new = _Dedupe()
        new._keys = set(self._keys)
        return new


_P = ParamSpec("_P")
_Client = TypeVar("_Client", bound="AnalyticsClient")


def _guarded(
    method: Callable[Concatenate[_Client, _P], None],
) -> Callable[Concatenate[_Client, _P], None]:
    """A `track_*` method whose wrong-typed arguments are counted `invalid` and said once
    per method, never raised into the host."""

    def guarded(self: _Client, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            method(self, *args, **kwargs)
        except BadArgument as exc:
            self._invalid(method.__name__, exc)

    functools.update_wrapper(guarded, method)
    return guarded


def _shut_down_live_clients() -> None:
    """At interpreter exit: each client still alive sends what it queued and stops its
    worker, within its `shutdown_timeout`. A worker left running would still be in its sink's
    native code (OpenSSL loading the CA certificates for a new connection pool, or a send)
    while the exiting process tears that library down: such a process died of SIGSEGV."""
    for client in list(_live):
        client.shutdown()


# Clients not shut down yet, held weakly (a client the host drops is not kept alive).
_live: weakref.WeakSet[AnalyticsClient] = weakref.WeakSet()


class AnalyticsClient:
    """Track facts; a worker reduces them to track events and hands those to the `sinks`.

    `product_surface` and `product_client_id` are the host's settings (Codex's backend sees
    `codex` and the originator). `runtime` defaults to what this process reports.
    `shutdown_timeout` bounds `shutdown()`, sending included.
    """

    def __init__(
        self,
        sinks: Sequence[Sink] = (),
        *,
        enabled: bool = True,
        product_surface: str = "codex",
        product_client_id: str = "codex_cli_rs",
        runtime: RuntimeMetadata | None = None,
        agent_version: str | None = None,
        shutdown_timeout: float = 3.0,
        queue_size: int = QUEUE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(queue_size, int) or isinstance(queue_size, bool) or queue_size < 1:
            # queue.Queue takes 0 (or less) for "unbounded": never what a host means here.
            raise ValueError(
                f"AnalyticsClient: queue_size must be an int of at least 1, got {queue_size!r}"
            )
        self._enabled = enabled
        self._sinks = tuple(sinks)
        self._shutdown_timeout = shutdown_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(
            (
                "accepted",
                "invalid",
                "filtered",
                "deduped",
                "queue_full",
                "after_shutdown",
                "reduced",
                "reducer_failed",
                "unsent_at_shutdown",
                "events",
            ),
            0,
        )
        self._warned: set[str] = set()
        self._closed = False
        self._deadline: float | None = None
        self._sending = 0
        # The batch being sent: [its event count, index of the first sink not handed it].
        self._batch: list[int] | None = None
        # Set when the shutdown bound ran out: no sink is handed a batch after that.
        self._cut = False
        # Per sink index: events of batches the worker never handed it (`unsent_at_shutdown`).
        self._unreached = [0] * len(self._sinks)
        self._queue: queue.Queue[object] | None = None
        self._worker: threading.Thread | None = None
        if not enabled:
            return
        self.runtime = runtime if runtime is not None else current_runtime(agent_version)
        self._reducer = AnalyticsReducer(
            product_surface=product_surface, product_client_id=product_client_id
        )
        self._app_used = _Dedupe()
        self._plugin_used = _Dedupe()
        # (connection, request id) -> method of requests whose answer a rule needs.
        self._pending: dict[tuple[int, object], str] = {}
        self._queue = queue.Queue(maxsize=queue_size)
        self._idle = threading.Condition(self._lock)
        self._start_worker()
        reset_in_forked_child(self._after_fork_in_child)
        _live.add(self)
        # Re-registered last: this client sends at exit before the hooks registered before
        # it (the provider its `OtelSink` hands events to shuts down after).
        atexit.unregister(_shut_down_live_clients)
        atexit.register(_shut_down_live_clients)

    def _start_worker(self) -> None:
        self._worker = threading.Thread(target=self._run, name="codex-otel-analytics", daemon=True)
        self._worker.start()

    def _after_fork_in_child(self) -> None:
        """The worker did not survive the fork, and a lock a parent thread held stays held:
        the child gets its own locks, queue, tallies and worker. What the parent had queued
        is the parent's to send."""
        if self._queue is None:
            return
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._counts = dict.fromkeys(self._counts, 0)
        self._sending = 0
        self._batch = None
        self._unreached = [0] * len(self._sinks)
        self._app_used = self._app_used.copy()
        self._plugin_used = self._plugin_used.copy()
        self._pending = dict(self._pending)
        self._queue = queue.Queue(maxsize=self._queue.maxsize)
        if not self._closed:
            self._start_worker()

    @classmethod
    def from_config(
        cls, config: AnalyticsConfig, sinks: Sequence[Sink] = (), **options: Any
    ) -> AnalyticsClient:
        """A client as the `[analytics]` table says (`enabled = false`: a disabled client).

        `options` are the constructor's keyword options.
        """
        return cls(sinks, enabled=config.enabled, **options)

    @classmethod
    def disabled(cls) -> AnalyticsClient:
        """A client that does nothing, at the cost of one attribute check per call."""
        return cls(enabled=False)

    @property
    def enabled(self) -> bool:
        return self._queue is not None and not self._closed

    def __repr__(self) -> str:
        return f"AnalyticsClient(enabled={self.enabled}, sinks={[s.name for s in self._sinks]})"

    # -- app-server traffic ------------------------------------------------------------

    @_guarded
    def observe(
        self,
        connection_id: int,
        sender: Direction,
        message: Any,
        *,
        product_client_id: str | None = None,
        rpc_transport: RpcTransport = "stdio",
    ) -> None:
        """Track one JSON-RPC message of a connection, whatever it is.

        `sender` is who sent it: `client` (to the app-server) or `server`. An `initialize`
        request takes `product_client_id` (default: its `clientInfo.name`) and `rpc_transport`.
        """
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        if not isinstance(message, dict):
            self._count("filtered")
            return
        method = message.get("method")
        has_id = "id" in message
        if sender == "client":
            if method == "initialize" and has_id:
                params = message.get("params")
                if product_client_id is None:
                    info = params.get("clientInfo") if isinstance(params, dict) else None
                    name = info.get("name") if isinstance(info, dict) else None
                    product_client_id = name if isinstance(name, str) else "unknown"
                self.track_initialize(connection_id, params, product_client_id, rpc_transport)
            elif isinstance(method, str) and has_id:
                self.track_request(connection_id, message)
            elif method is None and has_id:
                self.track_server_response(connection_id, message)
            else:
                self._count("filtered")
        elif isinstance(method, str):
            if has_id:
                self.track_server_request(connection_id, message)
            else:
                self.track_notification(connection_id, message)
        elif has_id and "error" in message:
            self.track_error_response(connection_id, message)
        elif has_id:
            self.track_response(connection_id, message)
        else:
            self._count("filtered")

    @_guarded
    def track_initialize(
        self,
        connection_id: int,
        params: Any,
        product_client_id: str,
        rpc_transport: RpcTransport,
    ) -> None:
        """A connection's `initialize` request `params`, and what the host knows of it."""
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        expect(product_client_id, str, "product_client_id")
        expect(rpc_transport, str, "rpc_transport")
        self._record(
            InitializeFact(
                connection_id, params, product_client_id, rpc_transport, self.runtime, self._ms()
            )
        )

    @_guarded
    def track_request(self, connection_id: int, message: Any) -> None:
        """A request from the client (the whole JSON-RPC message)."""
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        method = _get(message, "method")
        if method not in _PAIRED_REQUESTS or not _valid_id(_get(message, "id")):
            self._count("filtered")
            return
        self._remember(connection_id, message["id"], str(method))
        if method in TURN_REQUESTS:
            self._record(ClientRequestFact(connection_id, message, self._ms()))

    @_guarded
    def track_response(self, connection_id: int, message: Any) -> None:
        """The server's result for a client request (the whole JSON-RPC message)."""
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        method = self._forget(connection_id, _get(message, "id"))
        if method is None:
            self._count("filtered")
            return
        self._record(ClientResponseFact(connection_id, method, message, self._ms()))

    @_guarded
    def track_error_response(self, connection_id: int, message: Any) -> None:
        """The server's error for a client request (the whole JSON-RPC message)."""
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        method = self._forget(connection_id, _get(message, "id"))
        if method not in TURN_REQUESTS:
            self._count("filtered")
            return
        self._record(ErrorResponseFact(connection_id, method, message, self._ms()))

    @_guarded
    def track_notification(self, connection_id: int, message: Any) -> None:
        """A server notification (the whole JSON-RPC message)."""
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        if _get(message, "method") not in _NOTIFICATIONS:
            self._count("filtered")
            return
        self._record(NotificationFact(connection_id, message, self._ms()))

    @_guarded
    def track_server_request(self, connection_id: int, message: Any) -> None:
        """A request from the server to the client, e.g. a command approval."""
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        method = _get(message, "method")
        if method not in APPROVAL_REQUESTS or not _valid_id(_get(message, "id")):
            self._count("filtered")
            return
        self._remember(connection_id, ("server", message["id"]), str(method))
        self._record(ServerRequestFact(connection_id, message, self._ms()))

    @_guarded
    def track_server_response(self, connection_id: int, message: Any) -> None:
        """The client's answer to a server request; its arrival time ends the review."""
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        if self._forget(connection_id, ("server", _get(message, "id"))) is None:
            self._count("filtered")
            return
        self._record(ServerResponseFact(connection_id, message, self._ms()))

    @_guarded
    def track_server_request_aborted(self, connection_id: int, request_id: Any) -> None:
        """A server request that ended unanswered (turn interrupted, connection closed)."""
        if self._queue is None:
            return
        expect_hashable(connection_id, "connection_id")
        expect_hashable(request_id, "request_id")
        if self._forget(connection_id, ("server", request_id)) is None:
            self._count("filtered")
            return
        self._record(ServerRequestAbortedFact(connection_id, request_id, self._ms()))

    # -- what the host knows itself ----------------------------------------------------

    @_guarded
    def track_skill_invocations(
        self, tracking: TrackEventsContext, invocations: Iterable[SkillInvocation]
    ) -> None:
        """Skills the agent invoked in a turn (one `skill_invocation` each)."""
        if self._queue is None:
            return
        check_fact(tracking, TrackEventsContext, "tracking")
        kept = _items(invocations, SkillInvocation, "invocations")
        if kept:
            self._record(SkillsInvokedFact(tracking, kept, self._ms()))

    @_guarded
    def track_app_mentioned(
        self, tracking: TrackEventsContext, mentions: Iterable[AppInvocation]
    ) -> None:
        """Apps mentioned in a prompt (one `codex_app_mentioned` each)."""
        if self._queue is None:
            return
        check_fact(tracking, TrackEventsContext, "tracking")
        kept = _items(mentions, AppInvocation, "mentions")
        if kept:
            self._record(AppsMentionedFact(tracking, kept, self._ms()))

    @_guarded
    def track_app_used(self, tracking: TrackEventsContext, app: AppInvocation) -> None:
        """An app used in a turn: once per (turn, connector); without a connector, always."""
        if self._queue is None:
            return
        check_fact(tracking, TrackEventsContext, "tracking")
        check_fact(app, AppInvocation, "app")
        if app.connector_id is not None and not self._app_used.first(
            (tracking.turn_id, app.connector_id)
        ):
            self._count("deduped")
            return
        self._record(AppUsedFact(tracking, app, self._ms()))

    @_guarded
    def track_plugin_used(self, tracking: TrackEventsContext, plugin: PluginMetadata) -> None:
        """A plugin used in a turn: once per (turn, plugin)."""
        if self._queue is None:
            return
        check_fact(tracking, TrackEventsContext, "tracking")
        check_fact(plugin, PluginMetadata, "plugin")
        if not self._plugin_used.first((tracking.turn_id, plugin.plugin_key)):
            self._count("deduped")
            return
        self._record(PluginUsedFact(tracking, plugin, self._ms()))

    @_guarded
    def track_plugin_installed(self, plugin: PluginMetadata) -> None:
        self._plugin_state(plugin, "installed")

    @_guarded
    def track_plugin_uninstalled(self, plugin: PluginMetadata) -> None:
        self._plugin_state(plugin, "uninstalled")

    @_guarded
    def track_plugin_enabled(self, plugin: PluginMetadata) -> None:
        self._plugin_state(plugin, "enabled")

    @_guarded
    def track_plugin_disabled(self, plugin: PluginMetadata) -> None:
        self._plugin_state(plugin, "disabled")

    def _plugin_state(
        self,
        plugin: PluginMetadata,
        state: Literal["installed", "uninstalled", "enabled", "disabled"],
    ) -> None:
        if self._queue is None:
            return
        check_fact(plugin, PluginMetadata, "plugin")
        self._record(PluginStateFact(plugin, state, self._ms()))

    @_guarded
    def track_hook_run(self, fact: HookRunFact) -> None:
        """A hook handler ran."""
        if self._queue is not None:
            check_fact(fact, HookRunFact, "fact")
            self._record(fact)

    @_guarded
    def track_subagent_thread_started(self, fact: SubagentThreadStarted) -> None:
        """A thread the agent started for itself; its runtime is this client's when not given."""
        if self._queue is None:
            return
        check_fact(fact, SubagentThreadStarted, "fact")
        if fact.runtime is None:
            fact = replace(fact, runtime=self.runtime)
        self._record(fact)

    @_guarded
    def track_guardian_review(self, fact: GuardianReviewFact) -> None:
        """A guardian review ended."""
        if self._queue is not None:
            check_fact(fact, GuardianReviewFact, "fact")
            self._record(fact)

    @_guarded
    def track_compaction(self, fact: CompactionFact) -> None:
        """A thread's context was compacted."""
        if self._queue is not None:
            check_fact(fact, CompactionFact, "fact")
            self._record(fact)

    @_guarded
    def track_turn_resolved_config(self, fact: TurnResolvedConfig) -> None:
        """The configuration a turn runs with (joins its `codex_turn_event`)."""
        if self._queue is not None:
            check_fact(fact, TurnResolvedConfig, "fact")
            self._record(fact)

    @_guarded
    def track_turn_token_usage(self, fact: TurnTokenUsage) -> None:
        """A turn's token counts (join its `codex_turn_event`)."""
        if self._queue is not None:
            check_fact(fact, TurnTokenUsage, "fact")
            self._record(fact)

    # -- queue, worker, lifecycle ----------------------------------------------------------

    def stats(self) -> AnalyticsStats:
        """Counts so far; safe from any thread."""
        with self._lock:
            counts = dict(self._counts)
            unreached = list(self._unreached)
        sinks = {}
        for sink, unsent in zip(self._sinks, unreached, strict=True):
            stats = sink.stats()
            if unsent:
                stats = replace(stats, unsent_at_shutdown=stats.unsent_at_shutdown + unsent)
            sinks[sink.name] = stats
        return AnalyticsStats(**counts, sinks=sinks)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every accepted fact is reduced and sent; False if `timeout` ran out."""
        if self._queue is None:
            return True
        end = time.monotonic() + timeout
        with self._idle:
            while self._outstanding() > 0 or self._sending:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def shutdown(self) -> None:
        """Reduce and send what is queued, within `shutdown_timeout`; then stop the worker.

        What the bound leaves unsent is counted `unsent_at_shutdown`: facts still queued, and
        the events of the batch under way that the sinks after the one sending never got.
        Later calls are counted `after_shutdown` and ignored.
        """
        q, worker = self._queue, self._worker
        with self._lock:
            if q is None or worker is None or self._closed:
                return
            self._closed = True
            self._deadline = time.monotonic() + self._shutdown_timeout
        deadline = self._deadline
        with contextlib.suppress(queue.Full):
            q.put(_STOP, timeout=max(deadline - time.monotonic(), 0.001))
        worker.join(max(deadline - time.monotonic(), 0))
        if worker.is_alive():
            self._abandon(q)
            with self._lock:
                self._cut = True
                self._count_unreached()
            # A sink that can cut its send short counts what it held; the worker then ends
            # its batch at once, within the grace.
            for sink in self._sinks:
                abandon = getattr(sink, "abandon", None)
                if callable(abandon):
                    abandon()
            worker.join(_ABANDON_GRACE_SECONDS)
            if worker.is_alive():
                internal_logger.warning(
                    "codex_otel: analytics: a sink's send did not stop within "
                    "shutdown_timeout (%s s); its worker thread is left running",
                    self._shutdown_timeout,
                )

    def _count_unreached(self) -> None:
        # Under the lock: the sinks not handed the batch under way never will be.
        batch = self._batch
        if batch is None:
            return
        events, first = batch
        for index in range(first, len(self._sinks)):
            self._unreached[index] += events
        batch[1] = len(self._sinks)

    def _abandon(self, q: queue.Queue[object]) -> None:
        # The worker is stuck in a send: whatever is still queued will not be reduced.
        left = 0
        for _ in range(q.maxsize + 1):
            try:
                item = q.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                left += 1
        with self._idle:
            self._counts["unsent_at_shutdown"] += left
            self._idle.notify_all()
        # The queue was just emptied; a track call racing in cannot fill all of it again.
        with contextlib.suppress(queue.Full):
            q.put_nowait(_STOP)

    def __enter__(self) -> AnalyticsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def _outstanding(self) -> int:
        c = self._counts
        return c["accepted"] - c["reduced"] - c["reducer_failed"] - c["unsent_at_shutdown"]

    def _ms(self) -> int:
        return int(self._clock() * 1000)

    def _invalid(self, method: str, error: BadArgument) -> None:
        with self._lock:
            self._counts["invalid"] += 1
            if method in self._warned:
                return
            self._warned.add(method)
        internal_logger.warning(
            "codex_otel: analytics %s: %s; the call was ignored (further such calls are "
            "counted as invalid, not logged)",
            method,
            error,
        )

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _remember(self, connection_id: int, request_id: object, method: str) -> None:
        key = (connection_id, _id_key(request_id))
        with self._lock:
            if len(self._pending) >= DEDUPE_MAX_KEYS:
                # Requests never answered: forget the oldest rather than grow.
                del self._pending[next(iter(self._pending))]
            self._pending[key] = method

    def _forget(self, connection_id: int, request_id: object) -> str | None:
        if not _valid_id(request_id):
            return None
        with self._lock:
            return self._pending.pop((connection_id, _id_key(request_id)), None)

    def _record(self, fact: Fact) -> None:
        q = self._queue
        assert q is not None
        with self._lock:
            if self._closed:
                self._counts["after_shutdown"] += 1
                return
            try:
                q.put_nowait(fact)
            except queue.Full:
                self._counts["queue_full"] += 1
                return
            self._counts["accepted"] += 1

    def _run(self) -> None:
        q = self._queue
        assert q is not None
        while True:
            first = q.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            for _ in itertools.repeat(None, _MAX_FACTS_PER_BATCH - 1):
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._process(batch)
            if stop:
                return

    def _process(self, batch: list[object]) -> None:
        events = []
        reduced = failed = 0
        for fact in batch:
            try:
                events.extend(self._reducer.ingest(fact))  # type: ignore[arg-type]
                reduced += 1
            except Exception as exc:
                failed += 1
                _report(f"reducing an analytics fact ({type(fact).__name__})", exc)
        with self._idle:
            # Counted before sending: from here the events are each sink's to account for.
            self._counts["reduced"] += reduced
            self._counts["reducer_failed"] += failed
            self._counts["events"] += len(events)
            self._sending += 1
            self._batch = [len(events), 0] if events else None
        try:
            for index, sink in enumerate(self._sinks if events else ()):
                with self._lock:
                    if self._cut:  # the shutdown bound ran out: counted, never handed over
                        self._count_unreached()
                        return
                    self._batch = [len(events), index + 1]
                try:
                    sink.send(events, self._deadline)
                except Exception as exc:
                    _report(f"analytics sink {sink.name}", exc)
        finally:
            with self._idle:
                self._batch = None
                self._sending -= 1
                self._idle.notify_all()


def _report(where: str, exc: Exception) -> None:
    try:
        report_internal_error(where, exc)
    except Exception:
        # Strict mode (the package's tests) re-raises: the worker must live on, so the error
        # goes to the thread-exception hook, which the test run turns into a failure.
        threading.excepthook(
            threading.ExceptHookArgs(
                (type(exc), exc, exc.__traceback__, threading.current_thread())
            )
        )


def _items(values: object, kind: type, what: str) -> tuple[Any, ...]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise BadArgument(
            f"{what} must be an iterable of {kind.__name__}, got {type(values).__name__}"
        )
    kept = tuple(values)
    for index, value in enumerate(kept):
        check_fact(value, kind, f"{what}[{index}]")
    return kept


def _get(message: object, key: str) -> Any:
    return message.get(key) if isinstance(message, dict) else None


def _valid_id(request_id: object) -> bool:
    if isinstance(request_id, tuple) and len(request_id) == 2:
        request_id = request_id[1]
    return isinstance(request_id, (int, str)) and not isinstance(request_id, bool)


def _id_key(request_id: object) -> object:
    # 1 and "1" are different JSON-RPC ids; keep the type in the key.
    if isinstance(request_id, tuple):
        return (request_id[0], type(request_id[1]).__name__, request_id[1])
    return (type(request_id).__name__, request_id)
