"""Track events through the package's own OpenTelemetry pipeline, to the real OTLP receiver."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from codex_otel import OtelConfig, OtelProvider
from codex_otel.analytics import (
    AnalyticsClient,
    OtelSink,
    PluginMetadata,
    RuntimeMetadata,
    SkillInvocation,
    TrackEventsContext,
)
from codex_otel.testing import OtlpReceiver

MAC = RuntimeMetadata("0.0.0", "macos", "26.4.0", "aarch64")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def received(receiver: OtlpReceiver) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for log in receiver.logs:
        assert log.event_name == log.body
        assert (log.severity_number, log.severity_text) == (9, "INFO")
        attributes = dict(log.attributes)
        assert TIMESTAMP.match(str(attributes.pop("event.timestamp")))
        out.append((log.event_name, attributes))
    return out


def test_track_events_arrive_as_log_records_with_flattened_params(
    receiver: OtlpReceiver,
) -> None:
    config = OtelConfig.from_mapping(
        {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
    )
    provider = OtelProvider.from_config(config)
    client = AnalyticsClient([OtelSink(provider)], runtime=MAC, product_client_id="my_host")
    init = {
        "clientInfo": {"name": "ide", "version": "2.0"},
        "capabilities": {"experimentalApi": False},
    }
    client.observe(
        7,
        "client",
        {"id": 1, "method": "initialize", "params": init},
        product_client_id="IDE",
        rpc_transport="websocket",
    )
    client.observe(7, "client", {"id": 2, "method": "thread/start", "params": {}})
    thread = {"id": "th-1", "source": {"subAgent": "review"}, "ephemeral": True, "createdAt": 5}
    client.observe(7, "server", {"id": 2, "result": {"thread": thread, "model": "gpt-5"}})
    tracking = TrackEventsContext("th-1", "tu-1", "gpt-5")
    plugin = PluginMetadata("linear", "curated", connector_ids=("c1", "c2"))
    client.track_plugin_used(tracking, plugin)
    client.track_skill_invocations(
        tracking, [SkillInvocation("notes", "user", Path("/nonexistent/x"))]
    )
    client.shutdown()
    provider.shutdown()
    events = received(receiver)
    assert events[0] == (
        "codex_thread_initialized",
        {
            "event.name": "codex_thread_initialized",
            "thread_id": "th-1",
            "product_surface": "codex",
            "app_server_client.product_client_id": "IDE",
            "app_server_client.client_name": "ide",
            "app_server_client.client_version": "2.0",
            "app_server_client.rpc_transport": "websocket",
            "app_server_client.experimental_api_enabled": False,
            "runtime.codex_rs_version": "0.0.0",
            "runtime.runtime_os": "macos",
            "runtime.runtime_os_version": "26.4.0",
            "runtime.runtime_arch": "aarch64",
            "model": "gpt-5",
            "ephemeral": True,
            "initialization_mode": "new",
            "created_at": 5,
            "thread_source": "subagent",
            "subagent_source": "review",
        },
    )
    assert events[1] == (
        "codex_plugin_used",
        {
            "event.name": "codex_plugin_used",
            "plugin_id": "linear@curated",
            "plugin_name": "linear",
            "marketplace_name": "curated",
            "connector_ids": ["c1", "c2"],
            "product_client_id": "my_host",
            "thread_id": "th-1",
            "turn_id": "tu-1",
            "model_slug": "gpt-5",
        },
    )
    name, skill = events[2]
    assert (name, skill["skill_name"], len(str(skill.pop("skill_id")))) == (
        "skill_invocation",
        "notes",
        40,
    )
    assert skill == {
        "event.name": "skill_invocation",
        "skill_name": "notes",
        "product_client_id": "my_host",
        "skill_scope": "user",
        "thread_id": "th-1",
        "model_slug": "gpt-5",
    }
    assert len(events) == 3
    assert client.stats().sinks["otel"].delivered == 3
    assert provider.stats().exported == 3


def test_provider_without_exporter_counts_events_not_sent() -> None:
    provider = OtelProvider(None)
    client = AnalyticsClient([OtelSink(provider)], runtime=MAC)
    client.track_plugin_installed(PluginMetadata("a", "b"))
    client.shutdown()
    assert client.stats().sinks["otel"].not_sent == 1
