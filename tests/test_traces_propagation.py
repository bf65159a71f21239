"""W3C Trace Context in and out: requests carry their chat span's `traceparent` and
`tracestate`; a process started with `TRACEPARENT` joins that trace; malformed inherited
values and hostile OTEL_* trace variables never break anything."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.instrument import AsyncInstrumentedTransport, InstrumentedTransport
from codex_otel.testing import OtlpReceiver, ReceivedSpan
from tests.conftest import METADATA
from tests.fake_api import FakeApi

ROOT = Path(__file__).resolve().parents[1]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def http_config(receiver: OtlpReceiver, **extra: Any) -> OtelConfig:
    return OtelConfig.from_mapping(
        {
            "exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}},
            "trace_exporter": {"otlp-http": {"endpoint": receiver.traces_endpoint}},
            **extra,
        }
    )


def only(spans: list[ReceivedSpan], name: str) -> ReceivedSpan:
    (span,) = [span for span in spans if span.name == name]
    return span


@pytest.mark.parametrize(
    ("inherited", "expected"),
    [
        (None, "codex=turn-state,team=infra"),
        # The configured entries win and move to the front; the inherited rest follows.
        ("codex=old,vendor=abc", "codex=turn-state,team=infra,vendor=abc"),
    ],
)
def test_a_request_carries_its_chat_spans_traceparent_and_merged_tracestate(
    receiver: OtlpReceiver,
    fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
    inherited: str | None,
    expected: str,
) -> None:
    monkeypatch.setenv("TRACEPARENT", TRACEPARENT)
    if inherited is not None:
        monkeypatch.setenv("TRACESTATE", inherited)
    config = http_config(receiver, tracestate={"codex": "turn-state", "team": "infra"})
    provider = OtelProvider.from_config(config)
    manager = OtelEventManager(provider, **METADATA)
    with manager.turn(), httpx.Client(transport=InstrumentedTransport(manager)) as client:
        assert client.get(f"{fake_api.url}/v1/json").status_code == 200
    provider.shutdown()

    chat = only(receiver.spans, "chat gpt-5-codex")
    (sent,) = fake_api.request_headers
    assert (sent["traceparent"], sent["tracestate"]) == (
        f"00-{TRACE_ID}-{chat.span_id}-01",
        expected,
    )
    assert chat.trace_id == TRACE_ID
    assert only(receiver.spans, "invoke_agent codex").parent_span_id == PARENT_ID


def test_the_async_transport_sends_the_traceparent_of_its_chat_span(
    receiver: OtlpReceiver, fake_api: FakeApi
) -> None:
    provider = OtelProvider.from_config(http_config(receiver))
    manager = OtelEventManager(provider, **METADATA)

    async def main() -> int:
        transport = AsyncInstrumentedTransport(manager)
        async with manager.turn("turn-9"), httpx.AsyncClient(transport=transport) as client:
            return (await client.get(f"{fake_api.url}/v1/status/503")).status_code

    assert asyncio.run(main()) == 503
    provider.shutdown()

    chat = only(receiver.spans, "chat gpt-5-codex")
    (sent,) = fake_api.request_headers
    # A root trace: sampled, and its trace id random (W3C level 2's flag 0x02).
    assert sent["traceparent"] == f"00-{chat.trace_id}-{chat.span_id}-03"
    assert "tracestate" not in sent  # nothing to carry: none inherited, none configured
    assert (chat.status_code, chat.attributes["error.type"]) == ("ERROR", "503")
    turn = only(receiver.spans, "invoke_agent codex")
    assert (chat.parent_span_id, turn.parent_span_id) == (turn.span_id, "")


def test_trace_headers_inside_log_request_name_its_chat_span(receiver: OtlpReceiver) -> None:
    provider = OtelProvider.from_config(http_config(receiver))
    manager = OtelEventManager(provider, **METADATA)
    with manager.turn():
        headers = manager.log_request(1, manager.trace_headers)
    outside = manager.trace_headers()
    provider.shutdown()

    chat = only(receiver.spans, "chat gpt-5-codex")
    assert headers == {"traceparent": f"00-{chat.trace_id}-{chat.span_id}-03"}
    assert outside == {}


def run_script(receiver: OtlpReceiver, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACE"))}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.traces_script",
            receiver.logs_endpoint,
            receiver.traces_endpoint,
        ],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_traceparent_in_the_environment_parents_the_turn_of_a_process(
    receiver: OtlpReceiver,
) -> None:
    result = run_script(receiver, {"TRACEPARENT": TRACEPARENT, "TRACESTATE": "ci=job-7"})

    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")
    turn = only(receiver.spans, "invoke_agent codex")
    assert (turn.trace_id, turn.parent_span_id, turn.trace_state) == (
        TRACE_ID,
        PARENT_ID,
        "ci=job-7",
    )
    assert {span.trace_id for span in receiver.spans} == {TRACE_ID}
    assert {log.trace_id for log in receiver.logs} == {TRACE_ID}


@pytest.mark.parametrize(
    "traceparent",
    [
        "garbage",
        f"00-{TRACE_ID}-{PARENT_ID}",  # no flags
        f"00-{'0' * 32}-{PARENT_ID}-01",  # the invalid all-zero trace id
        f"00-{TRACE_ID}-{'0' * 16}-01",  # the invalid all-zero span id
        f"ff-{TRACE_ID}-{PARENT_ID}-01",  # the forbidden version
        f"00-{TRACE_ID.upper()}-{PARENT_ID}-01",  # upper-case hex
        "",
    ],
)
def test_a_malformed_traceparent_is_ignored_and_the_turn_is_a_root(
    receiver: OtlpReceiver, traceparent: str
) -> None:
    result = run_script(receiver, {"TRACEPARENT": traceparent, "TRACESTATE": "=,=bad"})

    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")
    turn = only(receiver.spans, "invoke_agent codex")
    assert (turn.parent_span_id, turn.trace_state) == ("", "")
    assert turn.trace_id not in (TRACE_ID, "0" * 32)
    assert len(receiver.spans) == 3


HOSTILE_TRACE_VARIABLES = {
    "OTEL_TRACES_SAMPLER": "always_off",
    "OTEL_TRACES_SAMPLER_ARG": "not-a-number",
    "OTEL_TRACES_EXPORTER": "no-such-exporter",
    "OTEL_PROPAGATORS": "no-such-propagator",
    "OTEL_ATTRIBUTE_COUNT_LIMIT": "0",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "not-a-number",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "1",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT": "-5",
    "OTEL_SPAN_EVENT_COUNT_LIMIT": "x",
    "OTEL_SPAN_LINK_COUNT_LIMIT": "x",
    "OTEL_BSP_MAX_QUEUE_SIZE": "0",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "-1",
    "OTEL_BSP_SCHEDULE_DELAY": "soon",
    "OTEL_BSP_EXPORT_TIMEOUT": "0",
    "OTEL_PYTHON_ID_GENERATOR": "no-such-generator",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces",
    "OTEL_RESOURCE_ATTRIBUTES": "inherited=yes",
}


def test_hostile_otel_trace_variables_neither_break_the_start_nor_drop_spans(
    receiver: OtlpReceiver,
) -> None:
    result = run_script(receiver, HOSTILE_TRACE_VARIABLES)

    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", "")
    spans = {span.name: span for span in receiver.spans}
    assert sorted(spans) == ["chat gpt-5", "execute_tool shell", "invoke_agent codex"]
    # Every attribute kept whole: no inherited count or length limit applies.
    assert spans["invoke_agent codex"].attributes["long"] == "x" * 300
    assert spans["chat gpt-5"].attributes == {
        "long": "x" * 300,
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-5",
        "http.response.status_code": 200,
    }
    assert spans["chat gpt-5"].resource["inherited"] == "yes"
    assert len(receiver.logs) == 2


def test_a_transports_chat_span_ends_when_its_response_body_is_closed(
    receiver: OtlpReceiver, fake_api: FakeApi
) -> None:
    provider = OtelProvider.from_config(http_config(receiver))
    manager = OtelEventManager(provider, **METADATA)
    with manager.turn(), httpx.Client(transport=InstrumentedTransport(manager)) as client:
        client.get(f"{fake_api.url}/v1/json")
        read_whole = manager.trace_headers()
        with client.stream("GET", f"{fake_api.url}/v1/sse/complete") as response:
            while_unread = manager.trace_headers()
            response.read()
        after_close = manager.trace_headers()
    provider.shutdown()

    first, second = (span for span in receiver.spans if span.name == "chat gpt-5-codex")
    assert (read_whole, after_close) == ({}, {})
    assert while_unread == {"traceparent": f"00-{second.trace_id}-{second.span_id}-03"}
    assert first.span_id != second.span_id
