"""The metrics signal: a private MeterProvider with the catalog's instruments, the periodic
reader `metrics_exporter` asks for, and each manager's recorder with its tags.

Imported only when metrics are on (`_provider` imports it lazily), so `metrics_exporter = "none"`
costs neither the import nor any work on the event methods' path.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Observation
from opentelemetry.sdk import metrics as sdk_metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import OsResourceDetector, Resource

from ._errors import report_internal_error
from ._version import package_version
from .catalog import (
    GEN_AI_TOKEN_TYPES,
    INSTRUMENTS,
    SCOPE_NAME,
    SHELL_TAGS,
    TOKEN_TYPES,
    MetricName,
    Tag,
)
from .export import _factory
from .export._fork import reset_in_forked_child
from .export._private_sdk_exporters import uses_grpc
from .export._private_sdk_metrics import (
    aggregate_in_bulk,
    fresh_metrics_locks,
    reader_exporter,
    stop_reader_thread,
)
from .export._quiet import quiet_sdk_loggers

if TYPE_CHECKING:
    from ._config_load import OtelConfig

__all__ = [
    "UNSPECIFIED",
    "MetricsFlush",
    "MetricsPipeline",
    "MetricsRecorder",
    "ShellFacts",
    "reader_from_config",
    "sanitize_tag",
    "user_hash",
]


# -- tags -----------------------------------------------------------------------------

UNSPECIFIED = "unspecified"

# A shell tool's `command_category`, `sandbox`, `sandbox_policy`, `shell_snapshot_mode`
# (`SHELL_TAGS`), each None when not given; None for any other tool.
ShellFacts = tuple[str | None, str | None, str | None, str | None] | None
MAX_TAG_LENGTH = 128
# Letters, digits and the punctuation of model names, versions, kinds and tool names.
_DISALLOWED = re.compile(r"[^A-Za-z0-9._\-/:]+")


@functools.lru_cache(maxsize=1024)
def _sanitize(value: str) -> str:
    cleaned = _DISALLOWED.sub("_", value)[:MAX_TAG_LENGTH]
    return cleaned or UNSPECIFIED


def sanitize_tag(value: object) -> str:
    """A tag value backends accept: disallowed runs -> `_`, capped, `unspecified` when empty."""
    if value is None:
        return UNSPECIFIED
    # Cached: kinds and tool names repeat, so the regex runs once per distinct value.
    return _sanitize(value if isinstance(value, str) else str(value))


def user_hash(account_id: str | None, api_key: str | None) -> str | None:
    """SHA-256 hex of the account id or, without one, of the API key; None when neither."""
    secret = account_id or api_key
    if not secret:
        return None
    return hashlib.sha256(str(secret).encode("utf-8")).hexdigest()


def _bool_tag(value: bool) -> str:
    return "true" if value else "false"


def _no_tags(first: object, second: object) -> dict[str, str]:
    return {}


def _maybe_bool(value: bool | None) -> str:
    return "unknown" if value is None else _bool_tag(value)


def _gen_ai(provider: str | None, model: str) -> tuple[tuple[str, object], ...]:
    return (
        (Tag.GEN_AI_OPERATION_NAME, _GEN_AI_CHAT),
        (Tag.GEN_AI_PROVIDER_NAME, provider or UNSPECIFIED),
        (Tag.GEN_AI_REQUEST_MODEL, model),
    )


# In a cache key: a value of another type, whose attributes are built afresh, not kept.
_UNCACHED = object()


def _plain(value: object) -> object:
    """`value` as part of a cache key: None, text and integers with their type (an int and a
    str of the same digits stay apart); `_UNCACHED` for anything else."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return (kind, value)
    return _UNCACHED


# `gen_ai.operation.name` of the GenAI client metrics: every model request is a chat.
_GEN_AI_CHAT = "chat"


def reader_from_config(config: OtelConfig) -> MetricReader | None:
    """The periodic reader `metrics_exporter` asks for; None for `none` or if it cannot start."""
    if config.metrics_exporter.kind == "none":
        return None
    try:
        exporter = _factory.build_exporter(
            "metrics",
            config.metrics_exporter,
            metrics_temporality=config.metrics_temporality,
        )
        quiet_sdk_loggers()  # before the reader's timer starts (it may tick unregistered)
        # Explicit values: inherited OTEL_METRIC_EXPORT_* variables do not apply.
        return PeriodicExportingMetricReader(
            exporter,
            export_interval_millis=config.metrics_export_interval_ms,
            export_timeout_millis=_factory.EXPORT_TIMEOUT_SECONDS * 1000,
        )
    except Exception as exc:
        kind = config.metrics_exporter.kind
        report_internal_error(f"starting the {kind} metrics exporter", exc)
        return None


# -- the pipeline and the per-manager recorder ---------------------------------------


def _fresh_locks_in_child() -> None:
    for pipeline in list(_live_pipelines):
        pipeline._after_fork_in_child()


# Registered at import, before any reader exists: the SDK's own fork hook restarts each
# reader's thread in the child, which must find the new locks, not the held ones.
_live_pipelines: weakref.WeakSet[MetricsPipeline] = weakref.WeakSet()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_locks_in_child)


class MetricsPipeline:
    """A private MeterProvider (never global) and the instruments, created once."""

    def __init__(
        self, readers: Sequence[MetricReader], resource: Resource, *, conversation_id: bool
    ) -> None:
        self.closed = False
        self.conversation_id = conversation_id
        self._readers = tuple(readers)
        self._provider = MeterProvider(
            metric_readers=readers,
            # os.type and os.version ride on the metrics' resource.
            resource=resource.merge(OsResourceDetector().detect()),
            shutdown_on_exit=False,  # the OtelProvider's own exit hook shuts this down
            # No spans here, so no exemplars: skip the per-measurement sampling check.
            exemplar_filter=sdk_metrics.AlwaysOffExemplarFilter(),
        )
        self._flush: MetricsFlush | None = None
        self._flush_lock = threading.Lock()
        self._process_started = False
        _live_pipelines.add(self)
        meter = self._provider.get_meter(SCOPE_NAME, package_version())
        self.deferred = DeferredMeasurements()
        # Read before every collection (periodic, flush, shutdown), so what was recorded
        # before one is in it. Observes nothing, so it is never exported.
        meter.create_observable_gauge(_DRAIN_INSTRUMENT, callbacks=[self.deferred.on_collect])
        self.counters: dict[str, Counter] = {}
        self.histograms: dict[str, Histogram] = {}
        for spec in INSTRUMENTS:
            if spec.kind == "counter":
                self.counters[spec.name] = meter.create_counter(
                    spec.name, unit=spec.unit, description=spec.description
                )
            else:
                self.histograms[spec.name] = meter.create_histogram(
                    spec.name,
                    unit=spec.unit,
                    description=spec.description,
                    explicit_bucket_boundaries_advisory=spec.bounds,
                )

    def _after_fork_in_child(self) -> None:
        # Locks the parent's reader thread held at the fork stay held: new ones.
        fresh_metrics_locks(self._provider)
        self._flush_lock = threading.Lock()

    def recorder(
        self,
        *,
        conversation_id: str,
        model: str,
        auth_mode: str | None,
        app_version: str | None,
        account_id: str | None,
        api_key: str | None,
        originator: str | None = None,
        session_source: str | None = None,
        service_name: str | None = None,
    ) -> MetricsRecorder | None:
        """Tags for one manager (None if they cannot be built); the API key is hashed, not kept.

        Every point carries `originator` and `session_source` (and `service_name` when one
        was set), as Codex's do."""
        try:
            tags = {
                Tag.AUTH_MODE: sanitize_tag(auth_mode),
                Tag.MODEL: sanitize_tag(model),
                Tag.APP_VERSION: sanitize_tag(app_version),
                Tag.ORIGINATOR: sanitize_tag(originator),
                Tag.SESSION_SOURCE: sanitize_tag(session_source),
            }
            if service_name is not None:
                tags[Tag.SERVICE_NAME] = sanitize_tag(service_name)
            hashed = user_hash(account_id, api_key)
            if hashed is not None:
                tags[Tag.USER_HASH] = hashed
            if self.conversation_id:
                tags[Tag.CONVERSATION_ID] = sanitize_tag(conversation_id)
        except Exception as exc:
            report_internal_error("building metric tags", exc)
            return None
        return MetricsRecorder(self, tags)

    def first_conversation(self) -> bool:
        """True the first time only: the process's first conversation records
        `codex.process.start`, once per pipeline (Codex: once per process)."""
        with self._flush_lock:
            first, self._process_started = not self._process_started, True
        return first

    def start_flush(self, timeout_millis: int) -> MetricsFlush | None:
        """Start exporting what is recorded on a daemon thread (None if no thread can start).

        The SDK's flush exports on the caller's thread and its exporters ignore the flush's
        timeout, so only waiting on another thread bounds it. One flush at a time: against a
        hanging collector, repeated calls wait on the same attempt instead of piling up threads.
        """
        with self._flush_lock:
            if self._flush is None or not self._flush.running:
                try:
                    self._flush = MetricsFlush(self._provider, timeout_millis)
                except RuntimeError:  # no new threads at interpreter exit (Python 3.12)
                    return None
            return self._flush

    def abandon_if_grpc(self) -> bool:
        """In a forked child: gRPC readers stop without a call into gRPC. True if so."""
        grpc = [r for r in self._readers if uses_grpc(reader_exporter(r))]
        if not grpc:
            return False
        self.closed = True  # nothing is recorded or flushed from now on
        for reader in grpc:
            stop_reader_thread(reader)
        return True

    def shutdown(self, timeout_millis: int) -> None:
        """Export what is left and stop; waits at most `timeout_millis`."""
        if self.closed:
            return
        self.closed = True
        try:
            # Here, not in the last collection: that one runs on the reader's thread within
            # the bound, and should only export.
            self.deferred.apply_pending()
            self._provider.shutdown(timeout_millis)
        except Exception as exc:
            report_internal_error("shutting metrics down", exc)
        self.deferred.stop()


_DRAIN_INSTRUMENT = "codex_otel.internal.pending_measurements"
# Entries (one or two measurements each) the caller's thread queues before the worker is
# woken to hand them to the SDK, and past which the caller hands them over itself (memory
# stays bounded, nothing is lost).
_WAKE_AT = 512
_MAX_PENDING = 32_768

# Distinct targets in one hand-over up to which each target's values are picked out in C
# (one pass over the batch per target); past it, one Python pass groups them all.
_PICK_IN_C = 16


class Target:
    """What one queued entry records: `counter` (when not None) gets 1 added, `histogram`
    (when not None) the entry's value recorded (when not None), with `attributes` (a dict
    nobody changes once built). Built once per attribute set and shared by its entries."""

    __slots__ = ("attributes", "counter", "histogram")

    def __init__(
        self, counter: Counter | None, histogram: Histogram | None, attributes: Any
    ) -> None:
        self.counter = counter
        self.histogram = histogram
        self.attributes = attributes


class DeferredMeasurements:
    """Measurements queued by the caller's thread and handed to the SDK instruments later:
    by a worker once `_WAKE_AT` entries are waiting, and before every collection, whichever
    comes first. They are handed over in bulk, each instrument and attribute set at once: the
    SDK's per-measurement work (a `Measurement` object, cleaning and hashing the attributes,
    finding the aggregation, about 15 µs for one counter add on a slow machine) is done once
    per group, not once per value, and off the caller's thread unless the queue is full or no
    worker can run. What is exported is the same, since the SDK aggregates the same
    measurements before each collection reads.
    """

    def __init__(self) -> None:
        # Target, value, target, value, ...: two items per entry, added in one step.
        self._pending: list[Target | float | None] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False
        reset_in_forked_child(self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        # The parent applies what it queued; the child's worker is gone and its lock may
        # have been held by it.
        self._pending.clear()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None

    def add(self, target: Target, value: float | None) -> None:
        """Queue `counter.add(1, attributes)` and `histogram.record(value, attributes)` for
        `target`'s instruments that are not None (the histogram only for a value)."""
        pending = self._pending
        # One `extend` of a tuple runs without letting another thread in: entries of
        # several threads never interleave, and no object per entry is kept.
        pending.extend((target, value))
        size = len(pending)
        if size >= 2 * _WAKE_AT and (size >= 2 * _MAX_PENDING or not self._wake_worker()):
            self.apply_pending()

    def add_entries(self, entries: list[Any]) -> None:
        """Queue several entries at once: target, value, target, value, ..."""
        pending = self._pending
        pending.extend(entries)  # one step, as in `add`
        size = len(pending)
        if size >= 2 * _WAKE_AT and (size >= 2 * _MAX_PENDING or not self._wake_worker()):
            self.apply_pending()

    @property
    def waiting(self) -> int:
        """Entries queued and not yet handed over."""
        return len(self._pending) // 2

    def _wake_worker(self) -> bool:
        """Wake the worker (started on first need); False if none can run."""
        if self._stopped:
            return False
        thread = self._thread
        if thread is None or not thread.is_alive():
            try:
                thread = threading.Thread(
                    target=self._work, name="codex-otel-measurements", daemon=True
                )
                thread.start()
            except RuntimeError:  # no new threads at interpreter exit (Python 3.12)
                return False
            self._thread = thread
        self._wake.set()
        return True

    def _work(self) -> None:
        while not self._stopped:
            self._wake.wait()
            self._wake.clear()
            self.apply_pending()

    def apply_pending(self) -> None:
        """Hand every queued measurement to the SDK, grouped by target: groups in the order
        each first appears (so the SDK first sees each instrument in the same order), each
        group's values in order, and each instrument's values of a group in one step where
        the SDK allows it (`aggregate_in_bulk`), else one public `add`/`record` per value.

        Two targets with equal attributes (two managers with the same tags) are handed over
        one after the other rather than interleaved; the recorder records integers, whose
        sums do not depend on the order of adding."""
        with self._lock:
            pending = self._pending
            # What is queued now (whole entries: each was added in one step); entries added
            # meanwhile go after these and wait for the next hand-over.
            size = len(pending)
            batch = pending[:size]
            del pending[:size]
            targets: list[Any] = batch[0::2]
            values: list[Any] = batch[1::2]
            distinct = dict.fromkeys(targets)
            groups: Iterable[tuple[Target, list[float | None]]]
            if len(distinct) == 1:
                groups = ((targets[0], values),) if targets else ()
            elif len(distinct) <= _PICK_IN_C:
                groups = ((target, _picked(target, targets, values)) for target in distinct)
            else:
                picked: dict[Target, list[float | None]] = {target: [] for target in distinct}
                for target, value in zip(targets, values, strict=True):
                    picked[target].append(value)
                groups = picked.items()
            for target, group in groups:
                if target.counter is not None:
                    _apply_group(target.counter, target.attributes, [1] * len(group))
                histogram = target.histogram
                if histogram is not None:
                    recorded = [v for v in group if v is not None] if None in group else group
                    if recorded:
                        _apply_group(histogram, target.attributes, recorded)  # type: ignore[arg-type]

    def on_collect(self, options: CallbackOptions) -> Iterable[Observation]:
        """The SDK runs this before reading its instruments for a collection."""
        self.apply_pending()
        return ()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()


def _picked(target: Target, targets: list[Any], values: list[Any]) -> list[Any]:
    """The values of `target`'s entries, in order."""
    return list(itertools.compress(values, map(operator.is_, targets, itertools.repeat(target))))


def _apply_group(instrument: Counter | Histogram, attributes: Any, values: list[float]) -> None:
    try:
        left = aggregate_in_bulk(instrument, attributes, values)
    except Exception as exc:
        report_internal_error("recording a metric", exc)
        return
    if left:
        apply = instrument.add if isinstance(instrument, Counter) else instrument.record
        for value in left:
            try:
                apply(value, attributes)
            except Exception as exc:
                report_internal_error("recording a metric", exc)


class MetricsFlush:
    """One `MeterProvider.force_flush` on a daemon thread, which callers wait for as they can."""

    def __init__(self, provider: MeterProvider, timeout_millis: int) -> None:
        self._provider = provider
        self._timeout_millis = timeout_millis
        self._ok = False
        self._thread = threading.Thread(
            target=self._run, name="codex-otel-metrics-flush", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._ok = self._provider.force_flush(self._timeout_millis)
        except Exception as exc:
            report_internal_error("flushing metrics", exc)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, seconds: float) -> bool:
        """Wait at most `seconds`; True if the flush ended by then without raising."""
        self._thread.join(max(seconds, 0.0))
        return not self._thread.is_alive() and self._ok


# Distinct attribute sets a recorder keeps built (kinds, tools and statuses repeat); past
# this the cache starts afresh, so odd values cannot grow it without bound.
_MAX_ATTRIBUTE_SETS = 512


class MetricsRecorder:
    """Records the instruments for one event manager, with its tags bound.

    Each distinct set of attributes is built once, with the instruments it goes to (a
    `Target`), and queued again on later measurements (the SDK copies what it keeps, so
    sharing the dict is safe).
    """

    __slots__ = ("_pipeline", "_tags", "_targets", "_token_targets")

    def __init__(self, pipeline: MetricsPipeline, tags: dict[str, str]) -> None:
        self._pipeline = pipeline
        self._tags = tags
        self._targets: dict[tuple[object, ...], Target] = {}
        self._token_targets: dict[str, Target] | None = None

    def with_model(self, model: str) -> MetricsRecorder | None:
        try:
            return MetricsRecorder(self._pipeline, {**self._tags, Tag.MODEL: sanitize_tag(model)})
        except Exception as exc:
            report_internal_error("building metric tags", exc)
            return None

    def _target(
        self,
        key: tuple[object, ...],
        counter: str | None,
        histogram: str | None,
        tags: Callable[[Any, Any], dict[str, str]],
        first: object,
        second: object,
    ) -> Target:
        """The target for `key` (what `tags(first, second)` depends on, as values of
        built-in types, so keys compare by value), built on first use."""
        target = self._targets.get(key)
        if target is None:
            pipeline = self._pipeline
            target = Target(
                None if counter is None else pipeline.counters[counter],
                None if histogram is None else pipeline.histograms[histogram],
                {**self._tags, **tags(first, second)},
            )
            if _UNCACHED not in key:
                if len(self._targets) >= _MAX_ATTRIBUTE_SETS:
                    self._targets = {}
                self._targets[key] = target
        return target

    def _count(
        self,
        key: tuple[object, ...],
        counter: str | None,
        histogram: str | None,
        millis: int | None,
        tags: Callable[[Any, Any], dict[str, str]],
        first: object,
        second: object,
    ) -> None:
        """Add 1 to `counter` (when not None) and record `millis` (when not None) in
        `histogram`."""
        pipeline = self._pipeline
        if pipeline.closed:
            return
        try:
            target = self._targets.get(key) or self._target(
                key, counter, histogram, tags, first, second
            )
            pipeline.deferred.add(target, millis)
        except Exception as exc:
            report_internal_error(f"recording {counter or histogram}", exc)

    def conversation_start(self) -> None:
        if self._pipeline.first_conversation():
            self.process_start()
        key = (MetricName.CONVERSATION_STARTS,)
        self._count(key, MetricName.CONVERSATION_STARTS, None, None, _no_tags, None, None)

    def api_request(self, millis: int | None, status: int | None, success: bool) -> None:
        """A request; a response with an error status (>= 400) is not a success."""
        key = (MetricName.API_REQUEST, _plain(status), bool(success))
        self._count(
            key,
            MetricName.API_REQUEST,
            MetricName.API_REQUEST_DURATION,
            millis,
            _request_tags,
            status,
            success,
        )

    def sse_event(self, kind: str | None, millis: int | None, success: bool) -> None:
        key = (MetricName.SSE_EVENT, _plain(kind), bool(success))
        self._count(
            key,
            MetricName.SSE_EVENT,
            MetricName.SSE_EVENT_DURATION,
            millis,
            _kind_tags,
            kind,
            success,
        )

    def tool_call(
        self, tool: str, millis: int | None, success: bool, shell: ShellFacts = None
    ) -> None:
        """`shell`: a shell tool's facts in `SHELL_TAGS` order (None for one not given),
        tags on the counter only, as upstream's."""
        if shell is None:
            key: tuple[object, ...] = (MetricName.TOOL_CALL, _plain(tool), bool(success))
            self._count(
                key,
                MetricName.TOOL_CALL,
                MetricName.TOOL_CALL_DURATION,
                millis,
                _tool_tags,
                tool,
                success,
            )
            return
        # The counter with the shell's tags, the histogram without (two attribute sets).
        key = (MetricName.TOOL_CALL, _plain(tool), bool(success), *map(_plain, shell))
        self._count(key, MetricName.TOOL_CALL, None, None, _shell_tool_tags, (tool, shell), success)
        key = (MetricName.TOOL_CALL_DURATION, _plain(tool), bool(success))
        if millis is not None:
            self._count(key, None, MetricName.TOOL_CALL_DURATION, millis, _tool_tags, tool, success)

    def token_usage(self, usage: dict[str, int]) -> None:
        """One `codex.turn.token_usage` value per token type in `usage` (see `TOKEN_TYPES`):
        once per turn, or once per response outside a turn."""
        pipeline = self._pipeline
        if pipeline.closed:
            return
        try:
            targets = self._token_targets
            if targets is None:
                histogram = pipeline.histograms[MetricName.TOKEN_USAGE]
                targets = self._token_targets = {
                    token_type: Target(None, histogram, {**self._tags, Tag.TOKEN_TYPE: token_type})
                    for token_type in TOKEN_TYPES
                }
            entries: list[Any] = []
            for token_type in TOKEN_TYPES:
                value = usage.get(token_type)
                if value is not None:
                    entries += (targets[token_type], int(value))
            pipeline.deferred.add_entries(entries)
        except Exception as exc:
            report_internal_error(f"recording {MetricName.TOKEN_USAGE}", exc)

    def _point(
        self,
        counter: str | None,
        histogram: str | None,
        value: float | None,
        own: tuple[tuple[str, object], ...] = (),
        *,
        common: bool = True,
    ) -> None:
        """Add 1 to `counter` and record `value` in `histogram` (each when named), with the
        tags on every point (unless not `common`) and `own` (sanitized unless GenAI's)."""
        pipeline = self._pipeline
        if pipeline.closed:
            return
        key = (counter, histogram, common, *own)
        try:
            target = self._targets.get(key)
            if target is None:
                tags = {
                    name: item if name.startswith("gen_ai.") else sanitize_tag(item)
                    for name, item in own
                }
                target = Target(
                    None if counter is None else pipeline.counters[counter],
                    None if histogram is None else pipeline.histograms[histogram],
                    {**self._tags, **tags} if common else tags,
                )
                if len(self._targets) >= _MAX_ATTRIBUTE_SETS:
                    self._targets = {}
                self._targets[key] = target
            pipeline.deferred.add(target, value)
        except Exception as exc:
            report_internal_error(f"recording {counter or histogram}", exc)

    def process_start(self) -> None:
        # As Codex: the originator only.
        originator = self._tags[Tag.ORIGINATOR]
        self._point(
            MetricName.PROCESS_START, None, None, ((Tag.ORIGINATOR, originator),), common=False
        )

    def thread_started(self, is_git: bool | None, is_worktree: bool | None) -> None:
        self._point(
            MetricName.THREAD_STARTED,
            None,
            None,
            ((Tag.IS_GIT, _maybe_bool(is_git)), (Tag.IS_WORKTREE, _maybe_bool(is_worktree))),
        )

    def turn_ended(
        self,
        millis: int | None,
        ttfm: int | None,
        tool_calls: int,
        usage: dict[str, int] | None,
    ) -> None:
        """What a turn records at its end (its first token was recorded as it came)."""
        self._point(MetricName.CONVERSATION_TURN_COUNT, None, None)
        self._point(None, MetricName.TURN_E2E_DURATION, millis)
        if ttfm is not None:
            self._point(None, MetricName.TURN_TTFM_DURATION, ttfm)
        self._point(None, MetricName.TURN_TOOL_CALL, tool_calls)
        if usage:
            self.token_usage(usage)

    def turn_ttft(self, millis: int | None) -> None:
        self._point(None, MetricName.TURN_TTFT_DURATION, millis)

    def startup_phase(self, phase: str, status: str | None, millis: int | None) -> None:
        own: tuple[tuple[str, object], ...] = ((Tag.PHASE, phase),)
        if status is not None:
            own += ((Tag.STATUS, status),)
        self._point(None, MetricName.STARTUP_PHASE_DURATION, millis, own)

    def websocket_request(self, millis: int | None, success: bool) -> None:
        own = ((Tag.SUCCESS, _bool_tag(success)),)
        self._point(
            MetricName.WEBSOCKET_REQUEST, MetricName.WEBSOCKET_REQUEST_DURATION, millis, own
        )

    def websocket_event(self, kind: str | None, millis: int | None, success: bool) -> None:
        own = ((Tag.KIND, kind or "unknown"), (Tag.SUCCESS, _bool_tag(success)))
        self._point(MetricName.WEBSOCKET_EVENT, MetricName.WEBSOCKET_EVENT_DURATION, millis, own)

    def plugin_install_elicitation(self, tool_type: str) -> None:
        own = ((Tag.TOOL_TYPE, tool_type),)
        self._point(MetricName.PLUGIN_INSTALL_ELICITATION_SENT, None, None, own)

    def plugin_install_suggestion(self, tool_type: str, action: str, completed: bool) -> None:
        own = (
            (Tag.TOOL_TYPE, tool_type),
            (Tag.RESPONSE_ACTION, action),
            (Tag.COMPLETED, _bool_tag(completed)),
        )
        self._point(MetricName.PLUGIN_INSTALL_SUGGESTION, None, None, own)

    def gen_ai_duration(
        self, millis: int | None, provider: str | None, model: str, error_type: str | None
    ) -> None:
        """`gen_ai.client.operation.duration` of one request, in seconds."""
        own: tuple[tuple[str, object], ...] = _gen_ai(provider, model)
        if error_type is not None:
            own += ((Tag.ERROR_TYPE, error_type),)
        seconds = None if millis is None else millis / 1000
        self._point(None, MetricName.GEN_AI_OPERATION_DURATION, seconds, own)

    def gen_ai_tokens(self, provider: str | None, model: str, input: int, output: int) -> None:
        """`gen_ai.client.token.usage` of one response: its input and its output tokens."""
        for token_type, count in zip(GEN_AI_TOKEN_TYPES, (input, output), strict=True):
            own = (*_gen_ai(provider, model), (Tag.GEN_AI_TOKEN_TYPE, token_type))
            self._point(None, MetricName.GEN_AI_TOKEN_USAGE, int(count), own)

    def __repr__(self) -> str:
        return f"MetricsRecorder(tags={self._tags!r})"


# What each event's tags depend on, as plain functions: built only for a new attribute set.


def _request_tags(status: object, success: object) -> dict[str, str]:
    ok = bool(success) and (status is None or int(status) < 400)  # type: ignore[call-overload]
    return {Tag.STATUS: sanitize_tag(status), Tag.SUCCESS: _bool_tag(ok)}


def _kind_tags(kind: object, success: object) -> dict[str, str]:
    return {Tag.KIND: sanitize_tag(kind), Tag.SUCCESS: _bool_tag(bool(success))}


def _tool_tags(tool: object, success: object) -> dict[str, str]:
    return {Tag.TOOL: sanitize_tag(tool), Tag.SUCCESS: _bool_tag(bool(success))}


def _shell_tool_tags(tool_and_shell: Any, success: object) -> dict[str, str]:
    tool, shell = tool_and_shell
    tags = _tool_tags(tool, success)
    for tag, value in zip(SHELL_TAGS, shell, strict=True):
        if value is not None:
            tags[tag] = sanitize_tag(value)
    return tags
