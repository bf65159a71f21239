"""Tool executors (`manager.tool`, `instrument_tool`) and decisions, over a real receiver."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from types import SimpleNamespace
from typing import Any

import pytest

from codex_otel import OtelEventManager, OtelProvider, ToolDecision
from codex_otel.instrument import _tools, adecide_tool, decide_tool, instrument_tool
from tests.conftest import METADATA, Exported, expect

RESULT = "codex.tool_result"
DECISION = "codex.tool_decision"


def result(call_id: str, arguments: str, success: str, output: str, **extra: Any) -> dict[str, Any]:
    return expect(
        RESULT,
        tool_name=extra.pop("tool_name", "shell"),
        call_id=call_id,
        arguments=arguments,
        duration_ms="<ms>",
        success=success,
        output=output,
        **extra,
    )


def test_a_sync_tool_records_its_call_and_output(exported: Exported) -> None:
    @instrument_tool(exported.manager, "shell")
    def shell(command: list[str], workdir: str | None = None, *, call_id: str) -> str:
        return f"ran {' '.join(command)} for {call_id}"

    assert shell(["ls", "-a"], call_id="call-1") == "ran ls -a for call-1"
    assert shell(command=["pwd"], workdir="/tmp", call_id="call-2") == "ran pwd for call-2"
    assert exported.records() == [
        result("call-1", '{"command": ["ls", "-a"]}', "true", "ran ls -a for call-1"),
        result("call-2", '{"command": ["pwd"], "workdir": "/tmp"}', "true", "ran pwd for call-2"),
    ]


def test_an_async_tool_records_its_call_and_output(exported: Exported) -> None:
    @instrument_tool(exported.manager, "read_file")
    async def read_file(path: str, *, call_id: str) -> str:
        await asyncio.sleep(0)
        return f"contents of {path}"

    assert asyncio.run(read_file("a.txt", call_id="call-7")) == "contents of a.txt"
    assert exported.records() == [
        result("call-7", '{"path": "a.txt"}', "true", "contents of a.txt", tool_name="read_file")
    ]


def test_an_mcp_tools_server_and_namespace_are_recorded_on_each_call(exported: Exported) -> None:
    @instrument_tool(
        exported.manager,
        "search_issues",
        tool_namespace="linear",
        mcp_server="linear",
        mcp_server_origin="~/.codex/config.toml",
    )
    def search_issues(query: str, *, call_id: str) -> str:
        return f"3 issues match {query}"

    assert search_issues("otel", call_id="call-5") == "3 issues match otel"
    assert search_issues("fork", call_id="call-6") == "3 issues match fork"
    mcp = {
        "tool_name": "search_issues",
        "tool_namespace": "linear",
        "mcp_server": "linear",
        "mcp_server_origin": "~/.codex/config.toml",
    }
    assert exported.records() == [
        result("call-5", '{"query": "otel"}', "true", "3 issues match otel", **mcp),
        result("call-6", '{"query": "fork"}', "true", "3 issues match fork", **mcp),
    ]


def test_output_that_is_not_a_string_is_recorded_as_json(exported: Exported) -> None:
    @instrument_tool(exported.manager, "list_dir")
    def list_dir(path: str, call_id: str) -> dict[str, Any]:
        return {"path": path, "entries": ["a.txt", "b.txt"], "truncated": False}

    assert list_dir(".", "call-3")["entries"] == ["a.txt", "b.txt"]
    assert exported.records() == [
        result(
            "call-3",
            '{"path": "."}',
            "true",
            '{"path": ".", "entries": ["a.txt", "b.txt"], "truncated": false}',
            tool_name="list_dir",
        )
    ]


def test_a_failing_sync_tool_records_the_error_and_reraises_it_unchanged(
    exported: Exported,
) -> None:
    error = PermissionError("sandbox denied write to /etc")

    @instrument_tool(exported.manager, "apply_patch")
    def apply_patch(patch: str, *, call_id: str) -> str:
        raise error

    with pytest.raises(PermissionError) as caught:
        apply_patch("*** Begin Patch", call_id="call-4")
    assert caught.value is error
    assert exported.records() == [
        result(
            "call-4",
            '{"patch": "*** Begin Patch"}',
            "false",
            "sandbox denied write to /etc",
            tool_name="apply_patch",
        )
    ]


def test_a_failing_async_tool_records_the_error_and_reraises_it_unchanged(
    exported: Exported,
) -> None:
    error = TimeoutError("command timed out after 10s")

    @instrument_tool(exported.manager, "shell")
    async def shell(command: list[str], *, call_id: str) -> str:
        raise error

    with pytest.raises(TimeoutError) as caught:
        asyncio.run(shell(["sleep", "60"], call_id="call-5"))
    assert caught.value is error
    assert exported.records() == [
        result("call-5", '{"command": ["sleep", "60"]}', "false", "command timed out after 10s")
    ]


def test_a_call_that_does_not_fit_the_signature_is_a_tool_that_failed_before_running(
    exported: Exported, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clock that moves 5 s between readings: a duration measured for this call would show.
    ticks = itertools.count(step=5_000_000_000)
    monkeypatch.setattr(_tools, "time", SimpleNamespace(perf_counter_ns=lambda: next(ticks)))

    @instrument_tool(exported.manager, "shell")
    def shell(command: list[str], *, call_id: str) -> str:
        raise AssertionError("never runs")

    with pytest.raises(TypeError) as caught:
        shell(cmd=["ls"], call_id="call-6")  # type: ignore[call-arg]
    records = exported.records()
    # It never ran: its duration is exactly 0 (records() hides other durations as "<ms>").
    assert [log.attributes["duration_ms"] for log in exported.receiver.logs] == [0]
    assert records == [result("call-6", '{"cmd": ["ls"]}', "false", str(caught.value))]


def test_methods_keep_self_out_of_the_arguments_and_kwargs_are_flattened(
    exported: Exported,
) -> None:
    manager = exported.manager

    class Tools:
        @instrument_tool(manager, "search")
        def search(self, query: str, *, call_id: str, **options: Any) -> list[str]:
            return [query]

    assert Tools().search("otel", call_id="call-8", limit=3) == ["otel"]
    assert exported.records() == [
        result("call-8", '{"query": "otel", "limit": 3}', "true", '["otel"]', tool_name="search")
    ]


def test_the_decorated_tool_keeps_its_signature_name_and_kind() -> None:
    manager = OtelEventManager(OtelProvider(None), **METADATA)

    def shell(command: list[str], timeout: float = 10.0, *, call_id: str) -> str:
        """Run a command."""
        return ""

    async def fetch(url: str, call_id: str) -> bytes:
        return b""

    for fn in (shell, fetch):
        decorated = instrument_tool(manager, fn.__name__)(fn)
        assert inspect.signature(decorated) == inspect.signature(fn)
        assert (decorated.__name__, decorated.__doc__) == (fn.__name__, fn.__doc__)
        assert inspect.iscoroutinefunction(decorated) == inspect.iscoroutinefunction(fn)
        assert decorated.__wrapped__ is fn  # type: ignore[attr-defined]


def test_a_tool_without_a_call_id_parameter_is_refused_when_decorated() -> None:
    manager = OtelEventManager(OtelProvider(None), **METADATA)

    def shell(command: list[str]) -> str:
        return ""

    with pytest.raises(TypeError) as caught:
        instrument_tool(manager, "shell")(shell)
    assert str(caught.value) == (
        f"tool 'shell': {shell.__qualname__!r} must take a 'call_id' parameter "
        "(the model's call id, recorded with the result)"
    )


def test_with_no_exporter_tools_run_unchanged() -> None:
    manager = OtelEventManager(OtelProvider(None), **METADATA)

    @instrument_tool(manager, "echo")
    def echo(text: str, *, call_id: str) -> str:
        return text

    assert echo("hi", call_id="c") == "hi"


# -- decisions --------------------------------------------------------------------------


def decision(call_id: str, value: str, source: str) -> dict[str, Any]:
    return expect(DECISION, tool_name="shell", call_id=call_id, decision=value, source=source)


def test_decide_tool_records_the_answer_where_it_is_decided(exported: Exported) -> None:
    manager = exported.manager
    asked = decide_tool(manager, "shell", "call-1", lambda: "approved_for_session", source="user")
    by_config = decide_tool(
        manager, "shell", "call-2", lambda: ToolDecision.DENIED, source="config"
    )
    assert (asked, by_config) == (ToolDecision.APPROVED_FOR_SESSION, ToolDecision.DENIED)
    assert exported.records() == [
        decision("call-1", "approved_for_session", "User"),
        decision("call-2", "denied", "Config"),
    ]


def test_a_decision_that_raises_is_recorded_as_abort_and_reraised(exported: Exported) -> None:
    def interrupted() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        decide_tool(exported.manager, "shell", "call-1", interrupted, source="user")
    assert exported.records() == [decision("call-1", "abort", "User")]


def test_an_async_decision_is_recorded(exported: Exported) -> None:
    async def ask() -> str:
        await asyncio.sleep(0)
        return "approved"

    answer = asyncio.run(adecide_tool(exported.manager, "shell", "call-9", ask, source="user"))
    assert answer is ToolDecision.APPROVED
    assert exported.records() == [decision("call-9", "approved", "User")]


def test_an_async_decision_that_raises_is_recorded_as_abort_and_reraised(
    exported: Exported,
) -> None:
    error = RuntimeError("approval UI crashed")

    async def ask() -> str:
        raise error

    with pytest.raises(RuntimeError) as caught:
        asyncio.run(adecide_tool(exported.manager, "shell", "call-9", ask, source="user"))
    assert caught.value is error
    assert exported.records() == [decision("call-9", "abort", "User")]


def test_an_answer_outside_the_decision_list_raises_and_records_nothing(
    exported: Exported,
) -> None:
    with pytest.raises(ValueError, match="'maybe' is not a valid ToolDecision"):
        decide_tool(exported.manager, "shell", "call-1", lambda: "maybe", source="user")
    with pytest.raises(ValueError, match="'robot' is not a valid ToolDecisionSource"):
        decide_tool(exported.manager, "shell", "call-1", lambda: "approved", source="robot")
    assert exported.records() == []
