"""Helpers for your own tests: read what the event manager recorded.

`capture_events()` keeps a provider's events in memory as plain dicts (shape tests).
`OtlpReceiver` is a real OTLP receiver (HTTP protobuf/JSON and gRPC, logs, metrics and
traces) on 127.0.0.1 that decodes what arrives into `ReceivedLog`, `Metric` and
`ReceivedSpan` values: point your `[otel]` exporters at `receiver.logs_endpoint`,
`receiver.traces_endpoint` or `receiver.grpc_endpoint`. For metrics without
a network, `InMemoryMetrics` is a reader to pass to the provider:

    from codex_otel import OtelEventManager, OtelProvider
    from codex_otel.testing import InMemoryMetrics

    reader = InMemoryMetrics()
    provider = OtelProvider(None, metric_readers=[reader])
    manager = OtelEventManager(provider, conversation_id="c", model="gpt-5-codex", slug="gpt-5")
    manager.tool_result("shell", "call-1", {}, 0.25, True, "ok")
    (point,) = reader.points("codex.tool.call")
    assert point.value == 1 and point.attributes["tool"] == "shell"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._metric_data import Metric, MetricPoint
from ._server_setup import Fault, HttpLimits, ServerTls

if TYPE_CHECKING:
    from ._capture import CapturedEvents, capture_events
    from ._metrics import InMemoryMetrics
    from ._otlp_decode import ReceivedLog, ReceivedSpan
    from ._receiver import OtlpReceiver

__all__ = [
    "CapturedEvents",
    "Fault",
    "HttpLimits",
    "InMemoryMetrics",
    "Metric",
    "MetricPoint",
    "OtlpReceiver",
    "ReceivedLog",
    "ReceivedSpan",
    "ServerTls",
    "capture_events",
]

# public name -> the private module defining it, imported when the name is first looked up:
# `codex-otel view` of a file needs neither the receiver nor protobuf (a third of its start).
_LAZY = {
    "CapturedEvents": "._capture",
    "capture_events": "._capture",
    "InMemoryMetrics": "._metrics",
    "ReceivedLog": "._otlp_decode",
    "ReceivedSpan": "._otlp_decode",
    "OtlpReceiver": "._receiver",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)
