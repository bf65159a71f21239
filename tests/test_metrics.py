"""Metrics recorded by the event methods, read with the public in-memory reader."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.instrument import instrument_tool
from codex_otel.testing import InMemoryMetrics, MetricPoint
from tests.conftest import METADATA, emit_catalog
from tests.metrics_script import (
    ACCOUNT_HASH,
    API_KEY,
    API_KEY_HASH,
    TAGS,
    expected_session,
    run_session,
    summarise,
)

Metrics = tuple[OtelProvider, InMemoryMetrics]


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    reader = InMemoryMetrics()
    provider = OtelProvider(None, metric_readers=[reader])
    yield provider, reader
    provider.shutdown()


def test_session_records_every_instrument_with_units_descriptions_tags_and_values(
    metrics: Metrics,
) -> None:
    provider, reader = metrics
    run_session(OtelEventManager(provider, **METADATA))
    assert summarise(reader.metrics()) == expected_session()


def test_in_memory_reader_is_cumulative_by_default_and_delta_on_request() -> None:
    cumulative, delta = InMemoryMetrics(), InMemoryMetrics(temporality="delta")
    provider = OtelProvider(None, metric_readers=[cumulative, delta])
    manager = OtelEventManager(provider, **METADATA)
    manager.conversation_starts(
        provider_name="openai",
        reasoning_summary="auto",
        approval_policy="never",
        sandbox_policy="read-only",
    )
    point = MetricPoint(attributes=TAGS, value=1)
    assert {m.temporality for m in cumulative.metrics()} == {"cumulative"}
    assert cumulative.points("codex.conversation.starts") == [point]
    assert delta.points("codex.conversation.starts") == [point]
    # A second read: the cumulative total stays, the delta one has nothing new.
    assert cumulative.points("codex.conversation.starts") == [point]
    assert delta.points("codex.conversation.starts") == []
    provider.shutdown()


def test_events_and_metrics_come_from_the_same_call() -> None:
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

    exporter = InMemoryLogRecordExporter()
    reader = InMemoryMetrics()
    provider = OtelProvider(exporter, metric_readers=[reader])
    manager = OtelEventManager(provider, **METADATA)
    assert manager.enabled and manager.metrics_enabled
    manager.tool_result("shell", "call-1", {}, 0.5, True, "ok")
    provider.force_flush()
    assert [r.log_record.event_name for r in exporter.get_finished_logs()] == ["codex.tool_result"]
    assert [(p.attributes, p.value) for p in reader.points("codex.tool.call")] == [
        ({**TAGS, "tool": "shell", "success": "true"}, 1)
    ]
    provider.shutdown()


def test_whole_catalog_with_timed_calls_records_without_errors(metrics: Metrics) -> None:
    provider, reader = metrics
    emit_catalog(OtelEventManager(provider, **METADATA))
    requests = reader.points("codex.api_request")
    assert sorted((p.attributes["status"], p.attributes["success"], p.value) for p in requests) == [
        ("200", "true", 1),
        ("unspecified", "false", 1),
    ]


def test_api_key_is_hashed_when_there_is_no_account_id(metrics: Metrics) -> None:
    provider, reader = metrics
    metadata = {**METADATA, "account_id": None, "auth_mode": "ApiKey"}
    manager = OtelEventManager(provider, **metadata, api_key=API_KEY)
    manager.sse_event("response.created", 0)
    (point,) = reader.points("codex.sse_event")
    assert point.attributes == {
        **TAGS,
        "auth_mode": "ApiKey",
        "user.hash": API_KEY_HASH,
        "kind": "response.created",
        "success": "true",
    }
    # Only the hash is kept: nothing the manager holds shows the key.
    assert API_KEY not in repr(manager)
    assert API_KEY not in repr(vars(manager))
    assert API_KEY not in repr(manager._metrics)


def test_account_id_wins_over_api_key_and_no_secret_means_no_user_hash(
    metrics: Metrics,
) -> None:
    provider, reader = metrics
    OtelEventManager(provider, **METADATA, api_key=API_KEY).conversation_starts(
        provider_name="p", reasoning_summary="s", approval_policy="a", sandbox_policy="s"
    )
    OtelEventManager(provider, **{**METADATA, "account_id": None}).conversation_starts(
        provider_name="p", reasoning_summary="s", approval_policy="a", sandbox_policy="s"
    )
    without_hash = {k: v for k, v in TAGS.items() if k != "user.hash"}
    assert sorted((p.attributes for p in reader.points("codex.conversation.starts")), key=len) == [
        without_hash,
        {**without_hash, "user.hash": ACCOUNT_HASH},
    ]


def test_conversation_id_is_off_by_default_and_can_be_turned_on() -> None:
    reader = InMemoryMetrics()
    provider = OtelProvider(None, metric_readers=[reader], metrics_conversation_id=True)
    OtelEventManager(provider, **METADATA).sse_event("response.created", 0)
    (point,) = reader.points("codex.sse_event")
    assert point.attributes == {
        **TAGS,
        "conversation.id": "conv-1234",
        "kind": "response.created",
        "success": "true",
    }
    provider.shutdown()


def test_with_model_tags_the_new_model_and_leaves_the_original(metrics: Metrics) -> None:
    provider, reader = metrics
    manager = OtelEventManager(provider, **METADATA)
    manager.with_model("gpt-5-mini", "gpt-5").sse_event("a", 0)
    manager.sse_event("a", 0)
    assert sorted(p.attributes["model"] for p in reader.points("codex.sse_event")) == [
        "gpt-5-codex",
        "gpt-5-mini",
    ]


def test_tag_values_are_sanitized_capped_and_never_empty(metrics: Metrics) -> None:
    provider, reader = metrics
    manager = OtelEventManager(
        provider,
        conversation_id="c",
        model="gpt 5 (preview) ✨",
        slug="s",
        auth_mode="",
        app_version=None,
    )
    manager.tool_result("mcp__" + "x" * 200, "call", {}, 0, True, "")
    manager.sse_event("", 0)
    common = {
        "auth_mode": "unspecified",
        "model": "gpt_5_preview_",
        "app.version": "unspecified",
        "originator": "codex-cli",  # none given: the provider's, its service name
        "session_source": "unknown",
    }
    (tool,) = reader.points("codex.tool.call")
    assert tool.attributes == {**common, "tool": ("mcp__" + "x" * 200)[:128], "success": "true"}
    (sse,) = reader.points("codex.sse_event")
    assert sse.attributes == {**common, "kind": "unspecified", "success": "true"}


def test_an_error_status_is_not_a_success(metrics: Metrics) -> None:
    provider, reader = metrics

    class Response:
        status_code = 503
        headers: dict[str, str] = {}  # noqa: RUF012

    manager = OtelEventManager(provider, **METADATA)
    assert isinstance(manager.log_request(1, Response), Response)
    (point,) = reader.points("codex.api_request")
    assert point.attributes == {**TAGS, "status": "503", "success": "false"}


def test_bad_input_to_a_metric_never_raises_into_the_caller(
    metrics: Metrics, lenient: None, caplog: pytest.LogCaptureFixture
) -> None:
    provider, reader = metrics
    manager = OtelEventManager(provider, **METADATA)

    class Weird:
        @property
        def status_code(self) -> int:
            raise RuntimeError("no status")

    weird = Weird()
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        assert manager.log_request(1, lambda: weird) is weird
        manager.api_request(2, 0.1, status_code="not-a-number")  # type: ignore[arg-type]
        manager.sse_event("response.created", "soon")  # type: ignore[arg-type]
    # The bad parts are dropped; the rest is still counted.
    assert sorted((p.attributes["kind"], p.value) for p in reader.points("codex.sse_event")) == [
        ("response.created", 1)
    ]
    assert reader.points("codex.sse_event.duration_ms") == []
    assert all("codex_otel:" in record.getMessage() for record in caplog.records)
    assert caplog.records, "each failure is said once"


def test_tags_that_cannot_be_built_turn_metrics_off_for_that_manager(
    metrics: Metrics, lenient: None, caplog: pytest.LogCaptureFixture
) -> None:
    provider, reader = metrics

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        manager = OtelEventManager(provider, **{**METADATA, "model": Unprintable()})  # type: ignore[arg-type]
        manager.sse_event("response.created", 0)
        good = OtelEventManager(provider, **METADATA)
        assert good.with_model(Unprintable(), "s").metrics_enabled is False  # type: ignore[arg-type]
    assert (manager.metrics_enabled, good.metrics_enabled) == (False, True)
    assert reader.points("codex.sse_event") == []
    assert [r.getMessage() for r in caplog.records] == [
        "codex_otel: building metric tags failed (RuntimeError: no text); "
        "telemetry carries on without it"
    ]


def test_metric_calls_after_shutdown_are_ignored(metrics: Metrics) -> None:
    provider, _ = metrics
    manager = OtelEventManager(provider, **METADATA)
    provider.shutdown()
    manager.sse_event("late", 0)
    assert not manager.metrics_enabled
    assert provider.metrics is None


def test_metrics_none_builds_no_meter_provider_and_imports_no_grpc() -> None:
    code = (
        "import sys, codex_otel as c\n"
        "p = c.OtelProvider.from_config(c.OtelConfig())\n"
        "m = c.OtelEventManager(p, conversation_id='c', model='m', slug='s', api_key='k')\n"
        "m.sse_event('x', 0); m.tool_result('t', 'c', {}, 0, True, ''); p.shutdown()\n"
        "assert p.metrics is None and m._metrics is None and not m.metrics_enabled\n"
        "loaded = [n for n in ('grpc', 'codex_otel._metrics', 'opentelemetry.sdk.metrics')\n"
        "          if n in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_metrics_without_event_exporter_still_records(metrics: Metrics) -> None:
    provider, reader = metrics
    manager = OtelEventManager(provider, **METADATA)
    assert (manager.enabled, manager.metrics_enabled) == (False, True)
    manager.tool_failed("apply_patch", "rejected")
    assert [(p.attributes, p.value) for p in reader.points("codex.tool.call")] == [
        ({**TAGS, "tool": "apply_patch", "success": "false"}, 1)
    ]
    # A tool that never ran has no duration to record.
    assert reader.points("codex.tool.call.duration_ms") == []


def test_config_with_metrics_none_is_the_default() -> None:
    assert OtelProvider.from_config(OtelConfig()).metrics is None


def test_attribute_sets_kept_by_a_recorder_stay_right_past_their_bound(
    metrics: Metrics,
) -> None:
    # Statuses 200 and "200" share one tag; a kind of an odd type is never kept; past 512
    # distinct sets the kept ones start afresh, and every point keeps its own attributes.
    provider, reader = metrics
    manager = OtelEventManager(provider, **METADATA)
    for _ in range(2):
        for i in range(600):
            manager.sse_event(f"kind.{i}", 0.001)
        manager.api_request(1, 0.001, status_code=200)
        manager.api_request(1, 0.001, status_code="200")  # type: ignore[arg-type]
        manager.sse_event(3.5, 0.001)  # type: ignore[arg-type]
    events = {point.attributes["kind"]: point.value for point in reader.points("codex.sse_event")}
    assert events == {**{f"kind.{i}": 2 for i in range(600)}, "3.5": 2}
    assert reader.points("codex.api_request") == [
        MetricPoint(attributes={**TAGS, "status": "200", "success": "true"}, value=4)
    ]


def test_queued_measurements_reach_the_sdk_in_order_and_the_queue_stays_bounded() -> None:
    from codex_otel._metrics import _MAX_PENDING, _WAKE_AT, DeferredMeasurements, Target

    deferred = DeferredMeasurements()
    applied: list[tuple[float, object]] = []
    most_pending = 0

    class Recording:
        """Not an SDK instrument: each value takes the public `record`."""

        def record(self, value: float, attributes: object) -> None:
            applied.append((value, attributes))

    recording: Any = Recording()
    target = Target(None, recording, "a")
    for i in range(_MAX_PENDING + 5_000):
        deferred.add(target, i)
        most_pending = max(most_pending, deferred.waiting)
    deferred.on_collect(None)  # type: ignore[arg-type]
    assert applied == [(i, "a") for i in range(_MAX_PENDING + 5_000)]
    assert most_pending <= _MAX_PENDING
    # Stopped, the worker is gone: the caller's thread hands them over itself.
    deferred.stop()
    applied.clear()
    for i in range(_MAX_PENDING):
        deferred.add(Target(None, recording, "b"), i)
    left = deferred.waiting
    assert left < _WAKE_AT and len(applied) == _MAX_PENDING - left


def test_a_shell_tool_call_is_tagged_with_the_facts_given_and_only_on_the_counter(
    metrics: Metrics,
) -> None:
    provider, reader = metrics
    manager = OtelEventManager(provider, **METADATA)
    shell = {
        "command_category": "read",
        "sandbox": "seatbelt",
        "sandbox_policy": "workspace-write",
        "shell_snapshot_mode": "disabled",
    }
    manager.tool_result("shell", "call-1", {}, 0.25, True, "ok", **shell)
    manager.log_tool_result("shell", "call-2", {}, lambda: "ok", sandbox="none")
    manager.tool_result("apply_patch", "call-3", {}, 0.5, True, "ok")
    instrument_tool(manager, "shell", **shell)(lambda call_id: "ok")(call_id="call-4")
    counted = sorted(((p.attributes, p.value) for p in reader.points("codex.tool.call")), key=repr)
    assert counted == sorted(
        [
            ({**TAGS, "tool": "shell", "success": "true", **shell}, 2),
            ({**TAGS, "tool": "shell", "success": "true", "sandbox": "none"}, 1),
            ({**TAGS, "tool": "apply_patch", "success": "true"}, 1),
        ],
        key=repr,
    )
    (counter,) = [m for m in reader.metrics() if m.name == "codex.tool.call"]
    assert (counter.kind, counter.unit, counter.monotonic) == ("sum", "", True)
    durations = {
        p.attributes["tool"]: (p.attributes, p.count)
        for p in reader.points("codex.tool.call.duration_ms")
    }
    assert durations == {
        "shell": ({**TAGS, "tool": "shell", "success": "true"}, 3),
        "apply_patch": ({**TAGS, "tool": "apply_patch", "success": "true"}, 1),
    }
