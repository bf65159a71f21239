"""One rule for interruptions, the same in every wrapper: a call ended by KeyboardInterrupt,
SystemExit or asyncio.CancelledError is recorded as failed, with a fixed text naming the
interruption, and the interruption is re-raised unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from codex_otel import OtelEventManager
from codex_otel.instrument import instrument_tool
from tests.conftest import Exported, expect

INTERRUPTIONS = [
    pytest.param(KeyboardInterrupt, "interrupted (KeyboardInterrupt)", id="ctrl-c"),
    pytest.param(lambda: SystemExit(3), "interrupted (SystemExit)", id="sys-exit"),
    pytest.param(asyncio.CancelledError, "interrupted (CancelledError)", id="cancelled"),
]

Make = Callable[[], BaseException]


def tool_failed(output: str, **fields: Any) -> dict[str, Any]:
    return expect(
        "codex.tool_result",
        tool_name="shell",
        call_id="call-1",
        duration_ms="<ms>",
        success="false",
        output=output,
        **fields,
    )


def request_failed(message: str) -> dict[str, Any]:
    return expect("codex.api_request", attempt=1, duration_ms="<ms>", **{"error.message": message})


def run_sync(make: Make, call: Callable[[Callable[[], Any]], Any]) -> BaseException:
    """Call `call` with a function raising the interruption; return what reached the caller."""
    raised = make()

    def interrupted() -> Any:
        raise raised

    with pytest.raises(BaseException) as caught:
        call(interrupted)
    assert caught.value is raised  # unchanged, not wrapped or replaced
    return raised


def run_async(make: Make, call: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]) -> None:
    raised = make()

    async def interrupted() -> Any:
        await asyncio.sleep(0)
        raise raised

    async def main() -> BaseException | None:
        try:
            await call(interrupted)
        except BaseException as exc:
            return exc
        return None

    # A loop of our own: asyncio.run would treat a CancelledError escaping main as its own.
    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(main()) is raised
    finally:
        loop.close()


@pytest.mark.parametrize(("make", "output"), INTERRUPTIONS)
def test_the_sync_tool_decorator_records_an_interruption_and_reraises_it(
    exported: Exported, make: Make, output: str
) -> None:
    def call(interrupted: Callable[[], Any]) -> Any:
        def shell(command: str, *, call_id: str) -> Any:
            return interrupted()

        return instrument_tool(exported.manager, "shell")(shell)("ls", call_id="call-1")

    run_sync(make, call)
    assert exported.records() == [tool_failed(output, arguments='{"command": "ls"}')]


@pytest.mark.parametrize(("make", "output"), INTERRUPTIONS)
def test_the_async_tool_decorator_records_an_interruption_and_reraises_it(
    exported: Exported, make: Make, output: str
) -> None:
    def call(interrupted: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
        async def shell(command: str, *, call_id: str) -> Any:
            return await interrupted()

        return instrument_tool(exported.manager, "shell")(shell)("ls", call_id="call-1")

    run_async(make, call)
    assert exported.records() == [tool_failed(output, arguments='{"command": "ls"}')]


@pytest.mark.parametrize(("make", "output"), INTERRUPTIONS)
def test_log_tool_result_records_an_interruption_and_reraises_it(
    exported: Exported, make: Make, output: str
) -> None:
    manager: OtelEventManager = exported.manager
    run_sync(make, lambda fn: manager.log_tool_result("shell", "call-1", {"command": "ls"}, fn))
    assert exported.records() == [tool_failed(output, arguments='{"command": "ls"}')]


@pytest.mark.parametrize(("make", "output"), INTERRUPTIONS)
def test_alog_tool_result_records_an_interruption_and_reraises_it(
    exported: Exported, make: Make, output: str
) -> None:
    manager: OtelEventManager = exported.manager
    run_async(make, lambda fn: manager.alog_tool_result("shell", "call-1", {"command": "ls"}, fn))
    assert exported.records() == [tool_failed(output, arguments='{"command": "ls"}')]


@pytest.mark.parametrize(("make", "message"), INTERRUPTIONS)
def test_log_request_records_an_interruption_and_reraises_it(
    exported: Exported, make: Make, message: str
) -> None:
    run_sync(make, lambda fn: exported.manager.log_request(1, fn))
    assert exported.records() == [request_failed(message)]


@pytest.mark.parametrize(("make", "message"), INTERRUPTIONS)
def test_alog_request_records_an_interruption_and_reraises_it(
    exported: Exported, make: Make, message: str
) -> None:
    run_async(make, lambda fn: exported.manager.alog_request(1, fn))
    assert exported.records() == [request_failed(message)]


def test_an_ordinary_error_keeps_its_message(exported: Exported) -> None:
    # The rule is for interruptions only: an Exception's own message is what is recorded.
    error = PermissionError("denied")
    run_sync(lambda: error, lambda fn: exported.manager.log_tool_result("shell", "call-1", "x", fn))
    assert exported.records() == [tool_failed("denied", arguments="x")]
