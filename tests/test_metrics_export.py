"""Metrics over real OTLP (HTTP protobuf, HTTP JSON, gRPC) to the local receiver."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from codex_otel import OtelEventManager, OtelProvider, load_config
from codex_otel.testing import Metric, OtlpReceiver
from tests.conftest import METADATA
from tests.metrics_script import (
    ACCOUNT_HASH,
    ACCOUNT_ID,
    API_KEY,
    API_KEY_HASH,
    expected_session,
    run_session,
    summarise,
)

TRANSPORTS = ["http/protobuf", "http/json", "grpc"]
TOKEN_ENV = {"COLLECTOR_TOKEN": "tok-123"}
INSTRUMENT_COUNT = len(expected_session())


def metrics_table(transport: str, receiver: OtlpReceiver, extra: str = "") -> str:
    """An [otel] table exporting metrics only (events go nowhere), with a `${VAR}` header."""
    headers = 'headers = { "x-codex-auth" = "Bearer ${COLLECTOR_TOKEN}" }'
    head = f'[otel]\nenvironment = "staging"\n{extra}'
    if transport == "grpc":
        endpoint = receiver.grpc_endpoint
        return f'{head}[otel.metrics_exporter.otlp-grpc]\nendpoint = "{endpoint}"\n{headers}\n'
    protocol = "json" if transport == "http/json" else "binary"
    return (
        f'{head}[otel.metrics_exporter.otlp-http]\nendpoint = "{receiver.metrics_endpoint}"\n'
        f'protocol = "{protocol}"\n{headers}\n'
    )


def start(tmp_path: Path, text: str) -> OtelProvider:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return OtelProvider.from_config(load_config(path, env=TOKEN_ENV), service_version="9.9.9")


def stable_resource(metric: Metric) -> dict[str, Any]:
    resource = dict(metric.resource)
    # Random per process: present, but not comparable.
    assert isinstance(resource.pop("service.instance.id"), str)
    return resource


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_session_metrics_arrive_with_tags_units_and_values(
    tmp_path: Path, receiver: OtlpReceiver, transport: str
) -> None:
    provider = start(tmp_path, metrics_table(transport, receiver))
    run_session(OtelEventManager(provider, **METADATA))
    provider.shutdown()  # the export interval is a minute: shutdown is what sends them

    metrics = receiver.wait_for_metrics(INSTRUMENT_COUNT)
    assert summarise(metrics) == expected_session()
    for metric in metrics:
        assert metric.transport == transport
        assert metric.temporality == "delta"  # the default
        assert metric.scope_name == "codex_otel"
        assert metric.headers["x-codex-auth"] == "Bearer tok-123"
        assert stable_resource(metric) == {
            "service.name": "codex-cli",
            "service.version": "9.9.9",
            "env": "staging",
            "os.type": platform.system().lower(),
            "os.version": platform.release(),
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": metric.resource["telemetry.sdk.version"],
        }
    # Nothing went to the log endpoint: events have their own exporter, here `none`.
    assert receiver.logs == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cumulative_temporality_is_selectable(
    tmp_path: Path, receiver: OtlpReceiver, transport: str
) -> None:
    extra = 'metrics_temporality = "cumulative"\n'
    provider = start(tmp_path, metrics_table(transport, receiver, extra))
    run_session(OtelEventManager(provider, **METADATA))
    provider.shutdown()
    metrics = receiver.wait_for_metrics(INSTRUMENT_COUNT)
    assert summarise(metrics) == expected_session()
    assert {metric.temporality for metric in metrics} == {"cumulative"}


def test_force_flush_exports_before_shutdown(tmp_path: Path, receiver: OtlpReceiver) -> None:
    provider = start(tmp_path, metrics_table("http/protobuf", receiver))
    manager = OtelEventManager(provider, **METADATA)
    manager.sse_event("response.created", 0)
    assert provider.force_flush()
    (metric, _) = receiver.wait_for_metrics(2)
    assert [(m.name, len(m.points)) for m in receiver.metrics] == [
        ("codex.sse_event", 1),
        ("codex.sse_event.duration_ms", 1),
    ]
    assert metric.points[0].value == 1
    provider.shutdown()


def test_conversation_id_tag_can_be_turned_on(tmp_path: Path, receiver: OtlpReceiver) -> None:
    extra = "metrics_conversation_id = true\n"
    provider = start(tmp_path, metrics_table("grpc", receiver, extra))
    # A tool that never ran is counted, not timed: exactly one metric.
    OtelEventManager(provider, **METADATA).tool_failed("shell", "sandbox refused")
    provider.shutdown()
    (metric,) = receiver.wait_for_metrics(1)
    assert [point.attributes for point in metric.points] == [
        {
            "auth_mode": "ChatGPT",
            "model": "gpt-5-codex",
            "app.version": "0.50.0",
            "originator": "codex_exec",
            "session_source": "exec",
            "user.hash": ACCOUNT_HASH,
            "conversation.id": "conv-1234",
            "tool": "shell",
            "success": "false",
        }
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_raw_account_id_and_api_key_are_never_exported(
    tmp_path: Path, receiver: OtlpReceiver, transport: str
) -> None:
    provider = start(tmp_path, metrics_table(transport, receiver))
    with_account = OtelEventManager(provider, **METADATA, api_key=API_KEY)
    api_key_only = OtelEventManager(
        provider, **{**METADATA, "account_id": None, "auth_mode": "ApiKey"}, api_key=API_KEY
    )
    run_session(with_account)
    run_session(api_key_only)
    provider.shutdown()

    metrics = receiver.wait_for_metrics(INSTRUMENT_COUNT)
    # Every point but the process start's (the originator only, as Codex's) is hashed.
    hashes = {
        p.attributes.get("user.hash")
        for m in metrics
        if m.name != "codex.process.start"
        for p in m.points
    }
    assert hashes == {ACCOUNT_HASH, API_KEY_HASH}
    bodies = receiver.metric_bodies
    assert bodies
    for secret in (ACCOUNT_ID, API_KEY):
        assert not any(secret.encode() in body for body in bodies), secret
        assert secret not in repr(metrics)


_RUN_IN_ANOTHER_PROCESS = """
import sys
from codex_otel import OtelConfig, OtelEventManager, OtelProvider
config = OtelConfig.from_mapping({"metrics_exporter": {"otlp-http": {"endpoint": sys.argv[1]}}})
provider = OtelProvider.from_config(config)
OtelEventManager(
    provider, conversation_id="other", model="m", slug="s", account_id=sys.argv[2]
).sse_event("response.created", 0)
provider.shutdown()
"""


def test_hashed_user_id_is_stable_across_runs(tmp_path: Path, receiver: OtlpReceiver) -> None:
    # Twice in other processes (other hash seeds, other instance ids), once here.
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", _RUN_IN_ANOTHER_PROCESS, receiver.metrics_endpoint, ACCOUNT_ID],
            check=True,
            timeout=60,
        )
    provider = start(tmp_path, metrics_table("http/protobuf", receiver))
    OtelEventManager(provider, **METADATA).sse_event("response.created", 0)
    provider.shutdown()

    metrics = receiver.wait_for_metrics(6)
    counters = [m for m in metrics if m.name == "codex.sse_event"]
    assert len({m.resource["service.instance.id"] for m in counters}) == 3
    assert [p.attributes["user.hash"] for m in counters for p in m.points] == [ACCOUNT_HASH] * 3


# -- the receiver's metrics endpoint itself ---------------------------------------------


def _post(url: str, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_receiver_decodes_otlp_json_metrics_with_string_numbers(receiver: OtlpReceiver) -> None:
    document = {
        "resourceMetrics": [
            {
                "resource": {"attributes": [{"key": "os.type", "value": {"stringValue": "x"}}]},
                "scopeMetrics": [
                    {
                        "scope": {"name": "s"},
                        "metrics": [
                            {
                                "name": "n",
                                "unit": "{u}",
                                "description": "d",
                                "sum": {
                                    "aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA",
                                    "isMonotonic": True,
                                    "dataPoints": [
                                        {
                                            "asInt": "7",
                                            "timeUnixNano": "5",
                                            "attributes": [
                                                {"key": "k", "value": {"stringValue": "v"}}
                                            ],
                                        }
                                    ],
                                },
                            },
                            {
                                "name": "g",
                                "gauge": {"dataPoints": [{"asDouble": 0.5}]},
                            },
                        ],
                    }
                ],
            }
        ]
    }
    body = json.dumps(document).encode()
    assert _post(receiver.metrics_endpoint, body, "application/json") == 200
    (total, gauge) = receiver.wait_for_metrics(2)
    assert (total.name, total.unit, total.description, total.kind) == ("n", "{u}", "d", "sum")
    assert (total.temporality, total.monotonic, total.transport) == ("delta", True, "http/json")
    assert [(p.attributes, p.value, p.time_unix_nano) for p in total.points] == [({"k": "v"}, 7, 5)]
    assert (total.resource, total.scope_name) == ({"os.type": "x"}, "s")
    assert (gauge.kind, gauge.temporality, gauge.monotonic) == ("gauge", None, None)
    assert [(p.attributes, p.value) for p in gauge.points] == [({}, 0.5)]
    assert receiver.metric_bodies == [body]


@pytest.mark.parametrize("content_type", ["application/x-protobuf", "application/json"])
def test_receiver_rejects_undecodable_metrics_with_400(
    receiver: OtlpReceiver, content_type: str
) -> None:
    assert _post(receiver.metrics_endpoint, b"\xff\x00 not otlp", content_type) == 400
    assert (receiver.metrics, receiver.metric_bodies) == ([], [])


def test_receiver_clear_forgets_metrics(tmp_path: Path, receiver: OtlpReceiver) -> None:
    provider = start(tmp_path, metrics_table("http/json", receiver))
    OtelEventManager(provider, **METADATA).sse_event("x", 0)
    provider.shutdown()
    assert receiver.wait_for_metrics(2)
    receiver.clear()
    assert (receiver.metrics, receiver.metric_bodies) == ([], [])
