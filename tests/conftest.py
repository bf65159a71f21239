"""Shared fixtures: real OTLP receivers on 127.0.0.1, in-memory capture, the catalog script."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from codex_otel import AuthEnv, OtelConfig, OtelEventManager, OtelProvider, _errors
from codex_otel._errors import set_strict
from codex_otel.testing import CapturedEvents, OtlpReceiver, capture_events
from tests.fake_api import FakeApi

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

METADATA = {
    "conversation_id": "conv-1234",
    "model": "gpt-5-codex",
    "slug": "gpt-5",
    "account_id": "acct-42",
    "auth_mode": "ChatGPT",
    "terminal_type": "xterm-256color",
    "app_version": "0.50.0",
    "originator": "codex_exec",
    "session_source": "exec",
    # Which credentials the environment holds: given, so no test depends on the machine's.
    "auth_env": AuthEnv(
        openai_api_key_present=True, provider_key_name="OPENAI_API_KEY", provider_key_present=True
    ),
}

COMMON = {
    "conversation.id": "conv-1234",
    "app.version": "0.50.0",
    "auth_mode": "ChatGPT",
    "user.account_id": "acct-42",
    "terminal.type": "xterm-256color",
    "model": "gpt-5-codex",
    "slug": "gpt-5",
    "originator": "codex_exec",
}

# `auth.env_*` of METADATA's `auth_env`, on conversation starts and requests.
AUTH_ENV = {
    "auth.env_openai_api_key_present": True,
    "auth.env_codex_api_key_present": False,
    "auth.env_codex_api_key_enabled": True,
    "auth.env_provider_key_name": "configured",
    "auth.env_provider_key_present": True,
    "auth.env_refresh_token_url_override_present": False,
}
# What a request records of its authentication when nothing is known of it.
NO_AUTH = {
    "auth.header_attached": False,
    "auth.retry_after_unauthorized": False,
    "endpoint": "unknown",
}


def request_auth(
    endpoint: str = "unknown", header: str | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """The `endpoint` and `auth.*` fields of a request by a manager with METADATA: the
    credential header's name (never its value) and the response's request id, when known."""
    fields: dict[str, Any] = {
        "auth.header_attached": header is not None,
        "auth.retry_after_unauthorized": False,
        "endpoint": endpoint,
        **AUTH_ENV,
    }
    if header is not None:
        fields["auth.header_name"] = header
    if request_id is not None:
        fields["auth.request_id"] = request_id
    return fields


# The tool fields of a built-in tool.
BUILTIN_TOOL = {"mcp_server": "", "mcp_server_origin": "", "output_truncated": False}


@pytest.fixture(autouse=True)
def no_inherited_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite runs the same on any machine: OTEL_* variables of the shell do not apply.

    Tests about such variables set them themselves.
    """
    for name in [name for name in os.environ if name.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    # Nor do the credentials whose presence the events report (`auth.env_*`).
    for name in ("OPENAI_API_KEY", "CODEX_API_KEY", "CODEX_REFRESH_TOKEN_URL_OVERRIDE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def strict_internal_errors() -> Iterator[None]:
    """Internal telemetry errors fail the test instead of being swallowed."""
    set_strict(True)
    yield
    set_strict(False)


@pytest.fixture
def lenient() -> Iterator[None]:
    """Internal errors logged once and swallowed, as in production (the behaviour under test)."""
    set_strict(False)
    _errors._reported.clear()  # "once" is per process: each test starts afresh
    yield
    _errors._reported.clear()
    set_strict(True)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


# A provider whose events stay in memory, and the capture reading them: the shape tests use
# the same `capture_events` users have for theirs.
Memory = tuple[OtelProvider, CapturedEvents]


@pytest.fixture
def memory() -> Iterator[Memory]:
    with capture_events() as capture:
        yield capture.provider, capture


def normalise(attributes: dict[str, Any]) -> dict[str, Any]:
    """Check the varying timestamp's format, then replace it so whole dicts compare.

    `event.sequence` is checked to be a positive integer and left out: the correlation tests
    (tests/test_traces_correlation.py) assert its values whole.
    """
    attributes = dict(attributes)
    sequence = attributes.pop("event.sequence", None)
    assert isinstance(sequence, int) and sequence > 0, sequence
    stamp = attributes.get("event.timestamp")
    assert isinstance(stamp, str) and TIMESTAMP.match(stamp), stamp
    attributes["event.timestamp"] = "<ts>"
    if attributes.get("event.name") == "codex.api_request":
        # A real call's duration varies: check its type, then compare the rest whole.
        millis = attributes.get("duration_ms")
        assert isinstance(millis, int) and millis >= 0, millis
        attributes["duration_ms"] = "<ms>"
    return attributes


def captured(provider: OtelProvider, capture: CapturedEvents) -> list[dict[str, Any]]:
    """Each exported record as {name, severity, attributes} with timestamps normalised."""
    out = []
    for data in capture.records:
        record = data.log_record
        assert record.severity_number is not None
        assert record.event_name == record.body
        out.append(
            {
                "name": record.event_name,
                "severity": (record.severity_number.value, record.severity_text),
                "attributes": normalise(dict(record.attributes or {})),
            }
        )
    return out


class _Response:
    status_code = 200
    headers = {"cf-ray": "8f2a-SJC", "content-type": "application/json"}  # noqa: RUF012


def emit_catalog(manager: OtelEventManager) -> None:
    """One of every event of the catalog, with every optional field given."""
    manager.conversation_starts(
        provider_name="openai",
        reasoning_effort="high",
        reasoning_summary="auto",
        context_window=272000,
        max_output_tokens=128000,
        auto_compact_token_limit=200000,
        approval_policy="on-request",
        sandbox_policy="workspace-write",
        mcp_servers=["github", "linear"],
        active_profile="work",
    )
    manager.log_request(1, _Response)
    with contextlib.suppress(TimeoutError):
        manager.log_request(2, _raise_timeout)
    manager.sse_event("response.output_text.delta", timedelta(milliseconds=12))
    manager.sse_event_failed(None, 0.005, "stream reset")
    manager.sse_event_completed(
        input_token_count=1200,
        output_token_count=300,
        cached_token_count=1000,
        reasoning_token_count=64,
        tool_token_count=1500,
    )
    manager.sse_event_completed_failed("usage missing")
    manager.user_prompt(["fix the ", {"type": "text", "text": "bug"}, {"type": "image"}])
    manager.tool_decision("shell", "call-1", "approved", "user")
    manager.tool_result("shell", "call-1", {"command": ["ls"]}, 1.5, True, "a.txt\nb.txt")
    manager.tool_failed("apply_patch", "patch rejected")


def _raise_timeout() -> object:
    raise TimeoutError("read timed out")


def expected_catalog(prompt: str = "[REDACTED]") -> list[tuple[str, dict[str, Any]]]:
    """What `emit_catalog` must export: (event name, whole attribute dict)."""

    def event(name: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        return name, {"event.name": name, "event.timestamp": "<ts>", **COMMON, **fields}

    return [
        event(
            "codex.conversation_starts",
            provider_name="openai",
            reasoning_effort="high",
            reasoning_summary="auto",
            context_window=272000,
            max_output_tokens=128000,
            auto_compact_token_limit=200000,
            approval_policy="on-request",
            sandbox_policy="workspace-write",
            mcp_servers="github, linear",
            active_profile="work",
            **AUTH_ENV,
        ),
        event(
            "codex.api_request",
            attempt=0,
            duration_ms="<ms>",
            **{"http.response.status_code": 200, "cf_ray": "8f2a-SJC"},
            **{"auth.cf_ray": "8f2a-SJC", **NO_AUTH, **AUTH_ENV},
        ),
        event(
            "codex.api_request",
            attempt=1,
            duration_ms="<ms>",
            **{"error.message": "read timed out", **NO_AUTH, **AUTH_ENV},
        ),
        event(
            "codex.sse_event",
            duration_ms=12,
            **{"event.kind": "response.output_text.delta"},
        ),
        event("codex.sse_event", duration_ms=5, **{"error.message": "stream reset"}),
        event(
            "codex.sse_event",
            input_token_count=1200,
            output_token_count=300,
            cached_token_count=1000,
            reasoning_token_count=64,
            tool_token_count=1500,
            **{"event.kind": "response.completed"},
        ),
        event(
            "codex.sse_event",
            **{"event.kind": "response.completed", "error.message": "usage missing"},
        ),
        event("codex.user_prompt", prompt_length=len("fix the bug"), prompt=prompt),
        event(
            "codex.tool_decision",
            tool_name="shell",
            call_id="call-1",
            decision="approved",
            source="User",
        ),
        event(
            "codex.tool_result",
            tool_name="shell",
            call_id="call-1",
            arguments='{"command": ["ls"]}',
            duration_ms=1500,
            success="true",
            output="a.txt\nb.txt",
            **BUILTIN_TOOL,
        ),
        event(
            "codex.tool_result",
            tool_name="apply_patch",
            duration_ms=0,
            success="false",
            output="patch rejected",
            **BUILTIN_TOOL,
        ),
    ]


# -- instrumentation helpers: a fake model API and a manager exporting to the receiver ----


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    with FakeApi() as api:
        yield api


class Exported:
    """A manager exporting over OTLP/HTTP to a real receiver, and the records that arrived."""

    def __init__(self, receiver: OtlpReceiver) -> None:
        self.receiver = receiver
        config = OtelConfig.from_mapping(
            {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
        )
        self.provider = OtelProvider.from_config(config)
        self.manager = OtelEventManager(self.provider, **METADATA)

    def records(self) -> list[dict[str, Any]]:
        """Shut down (which delivers everything), then each record's whole attribute dict.

        Durations of real calls vary: each is checked to be a whole number of
        milliseconds, then replaced by "<ms>" so whole dicts compare.
        """
        self.provider.shutdown()
        out = []
        for log in self.receiver.logs:
            assert log.event_name == log.body == log.attributes["event.name"]
            attributes = normalise(log.attributes)
            millis = attributes.get("duration_ms")
            if millis is not None and millis != "<ms>":
                assert isinstance(millis, int) and millis >= 0, millis
                attributes["duration_ms"] = "<ms>"
            out.append(attributes)
        return out


@pytest.fixture
def exported(receiver: OtlpReceiver) -> Iterator[Exported]:
    out = Exported(receiver)
    yield out
    out.provider.shutdown()


def expect(name: str, **fields: Any) -> dict[str, Any]:
    """The whole attribute dict of one event with the test metadata (and, for a tool result,
    a built-in tool's fields unless `fields` say otherwise)."""
    if name == "codex.tool_result":
        fields = {**BUILTIN_TOOL, **fields}
    return {"event.name": name, "event.timestamp": "<ts>", **COMMON, **fields}
