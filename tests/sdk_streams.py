"""Reading a real SDK stream through instrument_sse, the ways a user does it.

`read` builds a real `openai` or `anthropic` client on an instrumented `httpx2` or
`httpx` client, makes the streaming call, and reads the stream through instrument_sse
sync, sync with an idle timeout (read in a helper thread), or async.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import httpx2
import openai

from codex_otel import OtelEventManager
from codex_otel.instrument import (
    AsyncHttpx2InstrumentedTransport,
    AsyncInstrumentedTransport,
    Httpx2InstrumentedTransport,
    InstrumentedTransport,
    instrument_sse,
)
from tests.conftest import expect
from tests.sdk_api import CF_RAY, SdkApi

LIBS = ["httpx2", "httpx"]
MODES = ["sync", "sync-idle-timeout", "async"]
SSE = "codex.sse_event"
READER_THREAD = "codex-otel-sse-reader"
TOKEN_FIELDS = (
    "input_token_count",
    "output_token_count",
    "cached_token_count",
    "reasoning_token_count",
    "tool_token_count",
)


def http_client(manager: OtelEventManager, lib: str, *, is_async: bool) -> Any:
    """An httpx2 or httpx client whose transport records every request."""
    if lib == "httpx2":
        if is_async:
            return httpx2.AsyncClient(transport=AsyncHttpx2InstrumentedTransport(manager))
        return httpx2.Client(transport=Httpx2InstrumentedTransport(manager))
    if is_async:
        return httpx.AsyncClient(transport=AsyncInstrumentedTransport(manager))
    return httpx.Client(transport=InstrumentedTransport(manager))


def sdk_client(
    sdk: str, api: SdkApi, manager: OtelEventManager | None, lib: str, *, is_async: bool
) -> Any:
    """A real SDK client on `api`; uninstrumented when `manager` is None."""
    if manager is None:
        http: Any = httpx2.AsyncClient() if is_async else httpx2.Client()
    else:
        http = http_client(manager, lib, is_async=is_async)
    if sdk == "openai":
        cls: Any = openai.AsyncOpenAI if is_async else openai.OpenAI
        return cls(base_url=f"{api.url}/v1", api_key="sk-test", http_client=http, max_retries=2)
    cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
    return cls(base_url=api.url, api_key="sk-ant-test", http_client=http, max_retries=2)


@dataclass
class Read:
    events: list[Any] = field(default_factory=list)  # what the consumer got
    error: BaseException | None = None
    closed: bool = False  # the stream's HTTP response, once iteration ended


Create = Callable[[Any], Any]  # client -> stream, or a coroutine giving one


def read(
    sdk: str,
    api: SdkApi,
    manager: OtelEventManager | None,
    lib: str,
    mode: str,
    create: Create,
    *,
    idle: float | None = None,
) -> Read:
    """Make the call with `create` and read the stream through instrument_sse to the end
    (without instrument_sse when `manager` is None)."""
    if mode == "async":
        return asyncio.run(_read_async(sdk, api, manager, lib, create, idle))
    if mode == "sync-idle-timeout" and idle is None:
        idle = 5.0
    out = Read()
    with sdk_client(sdk, api, manager, lib, is_async=False) as client:
        stream = create(client)
        try:
            source = (
                stream if manager is None else instrument_sse(manager, stream, idle_timeout=idle)
            )
            for event in source:
                out.events.append(event)
        except Exception as exc:
            out.error = exc
        if idle is not None:
            api.release.set()  # a helper thread blocked on a stalled stream can end now
            join_readers()
        out.closed = stream.response.is_closed
    return out


async def _read_async(
    sdk: str,
    api: SdkApi,
    manager: OtelEventManager | None,
    lib: str,
    create: Create,
    idle: float | None,
) -> Read:
    out = Read()
    async with sdk_client(sdk, api, manager, lib, is_async=True) as client:
        stream = await create(client)
        try:
            source = (
                stream if manager is None else instrument_sse(manager, stream, idle_timeout=idle)
            )
            async for event in source:
                out.events.append(event)
        except Exception as exc:
            out.error = exc
        out.closed = stream.response.is_closed
    return out


def join_readers() -> None:
    for thread in threading.enumerate():
        if thread.name == READER_THREAD:
            thread.join(timeout=5.0)
            assert not thread.is_alive()


def dumps(events: list[Any]) -> list[dict[str, object]]:
    """The SDK's own view of each event, to compare instrumented and plain reads."""
    return [event.to_dict() for event in events]


def outcome(error: BaseException | None) -> tuple[type[BaseException] | None, str]:
    """An exception as the caller sees it: its class and its message."""
    return (None if error is None else type(error), str(error))


def raised(call: Callable[[], object]) -> BaseException:
    """The exception `call` raised (a test failure if it raised none)."""
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError(f"{call} raised nothing")


def assert_as_uninstrumented(out: Read, plain: Read) -> None:
    """The caller got what the SDK hands over without instrumentation: the same events, the
    same exception (class and message) and a closed response.

    Compared with the same scenario run uninstrumented, not with an SDK's wording, which
    changes between releases (anthropic 2.17 wraps a cut stream in `APIConnectionError`,
    2.14 let httpx2's `RemoteProtocolError` through).
    """
    assert plain.error is not None  # the scenario fails for the SDK itself
    assert (dumps(out.events), outcome(out.error), out.closed) == (
        dumps(plain.events),
        outcome(plain.error),
        plain.closed,
    )


def api_request(attempt: int, status: int) -> dict[str, Any]:
    return expect(
        "codex.api_request",
        attempt=attempt,
        duration_ms="<ms>",
        **{"http.response.status_code": status, "cf_ray": CF_RAY},
    )


def sse(kind: str | None, **fields: Any) -> dict[str, Any]:
    kind_field = {} if kind is None else {"event.kind": kind}
    return expect(SSE, duration_ms="<ms>", **kind_field, **fields)


def failure(kind: str | None, message: str) -> dict[str, Any]:
    return sse(kind, **{"error.message": message})


def completion(**counts: int) -> dict[str, Any]:
    return expect(SSE, **counts, **{"event.kind": "response.completed"})


def completed_failed(message: str) -> dict[str, Any]:
    return expect(SSE, **{"event.kind": "response.completed", "error.message": message})


def token_types(records: list[dict[str, Any]]) -> set[str]:
    """The types of every token count that arrived: the wire must carry integers."""
    return {type(r[k]).__name__ for r in records for k in TOKEN_FIELDS if k in r}


async def until(condition: Callable[[], bool]) -> bool:
    """Let the event loop run (bounded) until `condition` holds: an abandoned async
    generator is closed by a task that the loop's finaliser schedules."""
    for _ in range(200):
        if condition():
            return True
        await asyncio.sleep(0.005)
    return condition()
