"""Every value has a wire form: odd numbers and unprintable errors travel with 99 normal events
through each real OTLP receiver, and all 100 arrive with the forms the README documents."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from codex_otel import DeliveryStats, OtelConfig, OtelEventManager, OtelProvider
from codex_otel._values import INT64_MAX, INT64_MIN, duration_ms, opt_int
from codex_otel.testing import OtlpReceiver
from tests.conftest import AUTH_ENV, BUILTIN_TOOL, COMMON, METADATA, TIMESTAMP, request_auth

ANY: Any = None  # the odd values below are not what the signatures ask for, on purpose
NAN, INF = float("nan"), float("inf")
UNPRINTABLE = "<unprintable Unprintable>"


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for you")

    __repr__ = __str__


def exporter_table(receiver: OtlpReceiver, transport: str) -> dict[str, Any]:
    if transport == "grpc":
        return {"otlp-grpc": {"endpoint": receiver.grpc_endpoint}}
    return {"otlp-http": {"endpoint": receiver.logs_endpoint, "protocol": transport}}


def event(name: str, **fields: Any) -> dict[str, Any]:
    return {"event.name": name, "event.timestamp": "<ts>", **COMMON, **fields}


def emit_odd_values(manager: OtelEventManager) -> list[dict[str, Any]]:
    """One event per odd value; returns what each must arrive as."""
    manager.sse_event_completed(
        input_token_count=2**70,
        output_token_count=-(2**70),
        cached_token_count=ANY or NAN,
        reasoning_token_count=ANY or INF,
        tool_token_count=5,
    )
    manager.api_request(1, NAN, status_code=2**70, error=ANY or Unprintable())
    manager.api_request(2, INF, status_code=200)
    manager.api_request(3, -5.0)
    manager.sse_event_failed("response.failed", 1e300, Unprintable())
    manager.sse_event_completed_failed(Unprintable())
    manager.tool_result("shell", "c1", {"n": 2**70}, NAN, True, "ok")
    manager.conversation_starts(
        provider_name="openai",
        reasoning_summary="auto",
        context_window=2**64,
        max_output_tokens=ANY or NAN,
        approval_policy="never",
        sandbox_policy="read-only",
    )

    def fails() -> None:
        raise Unprintable()

    with pytest.raises(Unprintable):
        manager.log_request(4, fails)
    sse, api = "codex.sse_event", "codex.api_request"
    completed = {"event.kind": "response.completed"}
    return [
        event(
            sse,
            input_token_count=INT64_MAX,
            output_token_count=INT64_MIN,
            reasoning_token_count=INT64_MAX,
            tool_token_count=5,
            **completed,
        ),
        # `attempt` counted from 0 on the wire, as Codex counts.
        event(
            api,
            attempt=0,
            duration_ms=0,
            **{"http.response.status_code": INT64_MAX, "error.message": UNPRINTABLE},
            **request_auth(),
        ),
        event(
            api,
            attempt=1,
            duration_ms=INT64_MAX,
            **{"http.response.status_code": 200},
            **request_auth(),
        ),
        event(api, attempt=2, duration_ms=0, **request_auth()),
        event(
            sse,
            duration_ms=INT64_MAX,
            **{"event.kind": "response.failed", "error.message": UNPRINTABLE},
        ),
        event(sse, **completed, **{"error.message": UNPRINTABLE}),
        event(
            "codex.tool_result",
            tool_name="shell",
            call_id="c1",
            arguments='{"n": 1180591620717411303424}',  # JSON text: any size is fine
            duration_ms=0,
            success="true",
            output="ok",
            **BUILTIN_TOOL,
        ),
        event(
            "codex.conversation_starts",
            provider_name="openai",
            reasoning_summary="auto",
            context_window=INT64_MAX,
            approval_policy="never",
            sandbox_policy="read-only",
            mcp_servers="",
            **AUTH_ENV,
        ),
        event(
            api, attempt=3, duration_ms="<ms>", **{"error.message": UNPRINTABLE}, **request_auth()
        ),
    ]


@pytest.mark.parametrize("transport", ["binary", "json", "grpc"])
def test_odd_values_arrive_in_their_documented_form_with_99_neighbours(
    receiver: OtlpReceiver, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = OtelConfig.from_mapping({"exporter": exporter_table(receiver, transport)})
    provider = OtelProvider.from_config(config)
    manager = OtelEventManager(provider, **METADATA)
    expected = emit_odd_values(manager)
    normal = 100 - len(expected)
    for _ in range(normal):
        manager.sse_event("response.output_text.delta", 0.002)
    expected += [
        event("codex.sse_event", duration_ms=2, **{"event.kind": "response.output_text.delta"})
    ] * normal
    provider.shutdown()
    arrived = []
    for index, log in enumerate(receiver.wait_for(100), start=1):
        attributes = dict(log.attributes)
        assert attributes.pop("event.sequence") == index  # none skipped: every event built
        assert TIMESTAMP.match(attributes["event.timestamp"])
        attributes["event.timestamp"] = "<ts>"
        if attributes.get("attempt") == 3:  # a real call: its duration varies
            assert isinstance(attributes["duration_ms"], int)
            attributes["duration_ms"] = "<ms>"
        arrived.append(attributes)
    assert arrived == expected
    assert provider.stats() == DeliveryStats(accepted=100, exported=100)
    # Nothing said per event (nor at all): each value had a form.
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []


@pytest.mark.parametrize(
    ("value", "form"),
    [
        (None, None),
        (7, 7),
        (True, 1),
        (2**63, INT64_MAX),
        (-(2**63) - 1, INT64_MIN),
        (3.9, 3),
        (INF, INT64_MAX),
        (-INF, INT64_MIN),
        (NAN, None),
        ("12", 12),
        ("twelve", None),
        (object(), None),
    ],
)
def test_integer_forms(value: object, form: int | None) -> None:
    assert opt_int(ANY or value) == form


@pytest.mark.parametrize(
    ("value", "form"),
    [
        (None, 0),
        (1.5, 1500),
        (-1.0, 0),
        (NAN, 0),
        (INF, INT64_MAX),
        (1e300, INT64_MAX),
        (-INF, 0),
        ("2", 2000),
        ("soon", 0),
    ],
)
def test_duration_forms(value: object, form: int) -> None:
    assert duration_ms(ANY or value) == form
