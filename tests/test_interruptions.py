"""One rule for interruptions, the same in every wrapper: a call ended by KeyboardInterrupt,
SystemExit or asyncio.CancelledError is recorded as failed, with a fixed text naming the
interruption, and the interruption is re-raised unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx2
import pytest

from codex_otel import OtelEventManager
from codex_otel.instrument import Httpx2InstrumentedTransport, instrument_sse, instrument_tool
from tests.conftest import Exported, expect, request_auth

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


def request_failed(message: str, endpoint: str = "unknown") -> dict[str, Any]:
    return expect(
        "codex.api_request",
        attempt=0,
        duration_ms="<ms>",
        **{"error.message": message},
        **request_auth(endpoint),
    )


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


class _InterruptingTransport(httpx2.BaseTransport):
    """The network layer under the instrumented transport, interrupted mid-request."""

    def __init__(self, raised: BaseException) -> None:
        self.raised = raised

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        raise self.raised


@pytest.mark.parametrize(("make", "message"), INTERRUPTIONS)
def test_the_http_transport_records_an_interruption_and_reraises_it(
    exported: Exported, make: Make, message: str
) -> None:
    def call(interrupted: Callable[[], Any]) -> Any:
        try:
            interrupted()
        except BaseException as exc:
            inner = _InterruptingTransport(exc)
        transport = Httpx2InstrumentedTransport(exported.manager, inner)
        with httpx2.Client(transport=transport) as client:
            return client.get("http://127.0.0.1:9/v1/responses")

    run_sync(make, call)
    assert exported.records() == [request_failed(message, "/responses")]


@pytest.mark.parametrize(("make", "message"), INTERRUPTIONS)
def test_the_sse_wrapper_records_an_interrupted_wait_and_reraises_it(
    exported: Exported, make: Make, message: str
) -> None:
    def call(interrupted: Callable[[], Any]) -> Any:
        def stream() -> Iterator[Any]:
            yield interrupted()

        return list(instrument_sse(exported.manager, stream()))

    run_sync(make, call)
    assert exported.records() == [
        expect("codex.sse_event", duration_ms="<ms>", **{"error.message": message})
    ]
