"""With events off and metrics on, every helper still records its metrics."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from codex_otel import OtelEventManager, OtelProvider
from codex_otel.instrument import InstrumentedTransport, instrument_sse, instrument_tool
from codex_otel.testing import InMemoryMetrics
from tests.conftest import METADATA


@dataclass(frozen=True)
class Sse:
    event: str
    data: str


@pytest.fixture
def metrics_only() -> Iterator[tuple[OtelEventManager, InMemoryMetrics]]:
    reader = InMemoryMetrics()
    provider = OtelProvider(None, metric_readers=[reader])
    manager = OtelEventManager(provider, **METADATA)
    assert (manager.enabled, manager.metrics_enabled, manager.recording) == (False, True, True)
    yield manager, reader
    provider.shutdown()


def test_sse_wrapper_records_metrics_without_events(
    metrics_only: tuple[OtelEventManager, InMemoryMetrics],
) -> None:
    manager, reader = metrics_only
    stream = [Sse("response.created", "{}"), Sse("response.output_text.delta", "not json")]
    assert list(instrument_sse(manager, stream)) == stream
    assert sorted(
        (p.attributes["kind"], p.attributes["success"], p.value)
        for p in reader.points("codex.sse_event")
    ) == [("response.created", "true", 1), ("response.output_text.delta", "false", 1)]


def test_tool_decorator_records_metrics_without_events(
    metrics_only: tuple[OtelEventManager, InMemoryMetrics],
) -> None:
    manager, reader = metrics_only

    @instrument_tool(manager, "shell")
    def shell(command: str, *, call_id: str) -> str:
        if command == "fail":
            raise RuntimeError("boom")
        return "ok"

    assert shell("ls", call_id="c1") == "ok"
    with contextlib.suppress(RuntimeError):
        shell("fail", call_id="c2")
    assert sorted(
        (p.attributes["tool"], p.attributes["success"], p.value)
        for p in reader.points("codex.tool.call")
    ) == [("shell", "false", 1), ("shell", "true", 1)]


def test_http_transport_records_metrics_without_events(
    metrics_only: tuple[OtelEventManager, InMemoryMetrics],
) -> None:
    manager, reader = metrics_only
    inner = httpx.MockTransport(lambda request: httpx.Response(201))
    with httpx.Client(transport=InstrumentedTransport(manager, inner)) as client:
        assert client.get("http://api.test/v1/x").status_code == 201
    assert [
        (p.attributes["status"], p.attributes["success"], p.value)
        for p in reader.points("codex.api_request")
    ] == [("201", "true", 1)]
