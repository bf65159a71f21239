"""A failed stream ends its chat span ERROR with `error.type`, whoever closes it first.

Each failure (a cut connection, an idle timeout, an Anthropic `error` event, OpenAI's
`response.failed`) on each transport (httpx2, httpx) read sync and async, for the
Responses, Chat Completions and Messages streams: the real SDKs (Anthropic's refuses an
httpx client, so there its raw events are read through httpx-sse), through the instrumented
transports and `instrument_sse`, spans read back from a real OTLP receiver. Stopping early is
not a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse, connect_sse

from codex_otel import OtelEventManager
from codex_otel.instrument import instrument_sse
from codex_otel.testing import OtlpReceiver
from tests.sdk_api import SdkApi
from tests.sdk_streams import READER_THREAD, http_client, sdk_client
from tests.spans import APIS, TURN, chat_attributes, chats, manager_of, only, traced

IDLE = 0.3
LIBS = ["httpx2", "httpx"]
MODES = ["sync", "async"]


@pytest.fixture
def api() -> Iterator[SdkApi]:
    with SdkApi() as running:
        yield running


def _raw_messages(lib: str, name: str) -> bool:
    """Anthropic's SDK takes only httpx2: on httpx its raw events are read."""
    return name == "messages" and lib == "httpx"


def read_sync(
    manager: OtelEventManager,
    api: SdkApi,
    name: str,
    lib: str,
    model: str,
    *,
    idle: float | None = None,
    stop_after: int | None = None,
    wrap: bool = True,
) -> BaseException | None:
    """Stream one call and read it (through instrument_sse unless `wrap` is false); the
    error that reached the reader, if any."""
    spec = APIS[name]
    others = _readers()  # another test's helper thread may still wait on its own server
    try:
        if _raw_messages(lib, name):
            with (
                http_client(manager, lib, is_async=False) as client,
                connect_sse(client, "POST", f"{api.url}{spec.path}", json=_body(model)) as source,
            ):
                _consume(manager, source.iter_sse(), idle, stop_after, wrap)
        else:
            with sdk_client(spec.sdk, api, manager, lib, is_async=False) as client:
                _consume(manager, spec.call(client, model), idle, stop_after, wrap)
    except Exception as exc:
        return exc
    finally:
        if idle is not None:
            api.release.set()  # a helper thread blocked on the stalled stream can end now
            for thread in _readers() - others:
                thread.join(timeout=30.0)  # generous: a loaded machine is slow to switch
                assert not thread.is_alive()
    return None


def _readers() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == READER_THREAD}


def _consume(
    manager: OtelEventManager, stream: Any, idle: float | None, stop: int | None, wrap: bool
) -> None:
    source = instrument_sse(manager, stream, idle_timeout=idle) if wrap else stream
    for n, _ in enumerate(source, 1):
        if n == stop:
            break
    if not wrap:
        stream.close()


async def read_async(
    manager: OtelEventManager,
    api: SdkApi,
    name: str,
    lib: str,
    model: str,
    *,
    idle: float | None = None,
    stop_after: int | None = None,
    wrap: bool = True,
) -> BaseException | None:
    spec = APIS[name]
    try:
        if _raw_messages(lib, name):
            async with (
                http_client(manager, lib, is_async=True) as client,
                aconnect_sse(client, "POST", f"{api.url}{spec.path}", json=_body(model)) as source,
            ):
                await _aconsume(manager, source.aiter_sse(), idle, stop_after, wrap)
        else:
            async with sdk_client(spec.sdk, api, manager, lib, is_async=True) as client:
                await _aconsume(manager, await spec.call(client, model), idle, stop_after, wrap)
    except Exception as exc:
        return exc
    finally:
        api.release.set()
    return None


async def _aconsume(
    manager: OtelEventManager, stream: Any, idle: float | None, stop: int | None, wrap: bool
) -> None:
    source = instrument_sse(manager, stream, idle_timeout=idle) if wrap else stream
    n = 0
    async for _ in source:
        n += 1
        if n == stop:
            break
    if wrap:
        await source.aclose()  # what the loop's finaliser would do, now
    elif hasattr(stream, "aclose"):  # raw events: an async generator
        await stream.aclose()
    else:
        await stream.close()


def _body(model: str) -> dict[str, Any]:
    return {"model": model, "max_tokens": 64, "stream": True, "messages": []}


def read(
    manager: OtelEventManager, api: SdkApi, name: str, lib: str, mode: str, model: str, **how: Any
) -> BaseException | None:
    if mode == "async":
        return asyncio.run(read_async(manager, api, name, lib, model, **how))
    if mode == "sync-idle-timeout":  # read in the helper thread an idle timeout needs
        how = {"idle": 5.0, **how}
    return read_sync(manager, api, name, lib, model, **how)


def the_chat(receiver: OtlpReceiver) -> tuple[dict[str, object], str]:
    (span,) = chats(receiver.spans)
    return span.attributes, span.status_code


# (case, API, the server's scenario, how it is read, error.type by API and way of reading)
_SDK_CUT = {
    "responses": "openai.APIConnectionError",
    "chat": "openai.APIConnectionError",
    "messages": "anthropic.APIConnectionError",
}
FAILURES = [
    ("cut", "responses", "cut", {}),
    ("cut", "chat", "cut", {}),
    ("cut", "messages", "cut", {}),
    ("idle-timeout", "responses", "stall", {"idle": IDLE}),
    ("idle-timeout", "chat", "stall", {"idle": IDLE}),
    ("idle-timeout", "messages", "stall", {"idle": IDLE}),
    ("error-event", "messages", "error", {}),
    ("response.failed", "responses", "failed", {}),
]


def expected_error_type(case: str, name: str, lib: str) -> str:
    if case == "cut":
        # The SDKs wrap the HTTP library's error; raw events carry it as it is.
        return f"{lib}.RemoteProtocolError" if _raw_messages(lib, name) else _SDK_CUT[name]
    if case == "idle-timeout":
        return "codex_otel._errors.SseIdleTimeout"
    if case == "error-event":
        return "error" if _raw_messages(lib, name) else "anthropic.APIStatusError"
    return "response.failed"


# Each failure read sync, async, and sync in the helper thread of an idle timeout (which the
# idle-timeout cases use already when sync).
FAILURE_READS = [
    pytest.param(*failure, mode, id=f"{failure[0]}-{failure[1]}-{mode}")
    for failure in FAILURES
    for mode in MODES + ([] if "idle" in failure[3] else ["sync-idle-timeout"])
]


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize(("case", "name", "model", "how", "mode"), FAILURE_READS)
def test_a_failed_stream_ends_its_chat_span_in_error(
    receiver: OtlpReceiver,
    api: SdkApi,
    case: str,
    name: str,
    model: str,
    how: dict[str, Any],
    lib: str,
    mode: str,
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    error = read(manager, api, name, lib, mode, model, **how)
    provider.shutdown()

    # response.failed and a raw error event end the stream normally; the rest raise.
    assert (error is None) == (
        case == "response.failed" or expected_error_type(case, name, lib) == "error"
    )
    assert the_chat(receiver) == (
        chat_attributes(
            api, APIS[name].path, **{"error.type": expected_error_type(case, name, lib)}
        ),
        "ERROR",
    )


SDK_READS = [
    ("responses", "httpx2"),
    ("responses", "httpx"),
    ("chat", "httpx2"),
    ("chat", "httpx"),
    ("messages", "httpx2"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "lib"), SDK_READS, ids=[f"{n}-{lib}" for n, lib in SDK_READS])
def test_a_cut_stream_read_without_instrument_sse_ends_its_span_in_error(
    receiver: OtlpReceiver, api: SdkApi, name: str, lib: str, mode: str
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    error = read(manager, api, name, lib, mode, "cut", wrap=False)
    provider.shutdown()

    assert type(error).__name__ == "APIConnectionError"
    assert the_chat(receiver) == (
        chat_attributes(api, APIS[name].path, **{"error.type": f"{lib}.RemoteProtocolError"}),
        "ERROR",
    )


@pytest.mark.parametrize("mode", MODES)
def test_an_error_event_read_without_instrument_sse_ends_its_span_in_error(
    receiver: OtlpReceiver, api: SdkApi, mode: str
) -> None:
    """The SDK raises for the event and closes the body as the error leaves: the transport
    sees the error being raised."""
    provider = traced(receiver)
    manager = manager_of(provider)
    error = read(manager, api, "messages", "httpx2", mode, "error", wrap=False)
    provider.shutdown()

    assert type(error).__name__ == "APIStatusError"
    assert the_chat(receiver) == (
        chat_attributes(api, "/v1/messages", **{"error.type": "anthropic.APIStatusError"}),
        "ERROR",
    )


def _raise_inside_with_stream(api: SdkApi, manager: OtelEventManager, name: str, lib: str) -> None:
    spec = APIS[name]
    with (
        sdk_client(spec.sdk, api, manager, lib, is_async=False) as client,
        spec.call(client, "complete") as stream,
    ):
        for _ in stream:
            raise Refused("no")


async def _araise_inside_with_stream(
    api: SdkApi, manager: OtelEventManager, name: str, lib: str
) -> None:
    spec = APIS[name]
    async with (
        sdk_client(spec.sdk, api, manager, lib, is_async=True) as client,
        await spec.call(client, "complete") as stream,
    ):
        async for _ in stream:
            raise Refused("no")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "lib"), SDK_READS, ids=[f"{n}-{lib}" for n, lib in SDK_READS])
def test_an_exception_inside_the_sdk_streams_with_ends_its_span_in_error(
    receiver: OtlpReceiver, api: SdkApi, name: str, lib: str, mode: str
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    _refused(mode, _raise_inside_with_stream, _araise_inside_with_stream, api, manager, name, lib)
    provider.shutdown()

    assert the_chat(receiver) == (
        chat_attributes(api, APIS[name].path, **{"error.type": REFUSED}),
        "ERROR",
    )


REFUSED = "tests.test_spans_failure.Refused"


def _refused(mode: str, sync: Callable[..., None], run: Callable[..., Any], *args: Any) -> None:
    """`sync(*args)`, or `run(*args)` in an event loop, raising `Refused`."""
    with pytest.raises(Refused):
        if mode == "async":
            asyncio.run(run(*args))
        else:
            sync(*args)


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_sent_and_read_inside_an_except_block_is_not_failed_by_its_exception(
    receiver: OtlpReceiver, api: SdkApi, mode: str
) -> None:
    """A retry sent from an `except` block: the exception being handled was there before."""
    provider = traced(receiver)
    manager = manager_of(provider)
    spec = APIS["responses"]

    def sync_retry() -> None:
        with sdk_client(spec.sdk, api, manager, "httpx2", is_async=False) as client:
            try:
                raise Refused("rate limited")
            except Refused:
                with spec.call(client, "complete") as stream:
                    assert len(list(stream)) == len(spec.kinds) - 1

    async def async_retry() -> None:
        async with sdk_client(spec.sdk, api, manager, "httpx2", is_async=True) as client:
            try:
                raise Refused("rate limited")
            except Refused:
                async with await spec.call(client, "complete") as stream:
                    assert len([event async for event in stream]) == len(spec.kinds) - 1

    if mode == "async":
        asyncio.run(async_retry())
    else:
        sync_retry()
    provider.shutdown()

    assert the_chat(receiver) == (chat_attributes(api, spec.path), "UNSET")


READS = [(name, lib) for name in APIS for lib in LIBS]


@pytest.mark.parametrize("wrap", [True, False], ids=["instrument_sse", "sdk-stream"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "lib"), READS, ids=[f"{n}-{lib}" for n, lib in READS])
def test_stopping_early_is_not_a_failure(
    receiver: OtlpReceiver, api: SdkApi, name: str, lib: str, mode: str, wrap: bool
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    error = read(manager, api, name, lib, mode, "complete", stop_after=2, wrap=wrap)
    provider.shutdown()

    assert error is None
    assert the_chat(receiver) == (chat_attributes(api, APIS[name].path), "UNSET")


class Refused(Exception):
    pass


async def _raise_in_async_loop(manager: OtelEventManager, api: SdkApi, name: str, lib: str) -> None:
    spec = APIS[name]
    async with manager.turn("turn-1"), contextlib.AsyncExitStack() as stack:
        if _raw_messages(lib, name):
            client = await stack.enter_async_context(http_client(manager, lib, is_async=True))
            source = await stack.enter_async_context(
                aconnect_sse(client, "POST", f"{api.url}{spec.path}", json=_body("complete"))
            )
            stream: Any = source.aiter_sse()
        else:
            client = await stack.enter_async_context(
                sdk_client(spec.sdk, api, manager, lib, is_async=True)
            )
            stream = await spec.call(client, "complete")
        async with instrument_sse(manager, stream) as events:
            async for _ in events:
                raise Refused("no")


def _raise_in_sync_loop(manager: OtelEventManager, api: SdkApi, name: str, lib: str) -> None:
    spec = APIS[name]
    with manager.turn("turn-1"), contextlib.ExitStack() as stack:
        if _raw_messages(lib, name):
            client = stack.enter_context(http_client(manager, lib, is_async=False))
            source = stack.enter_context(
                connect_sse(client, "POST", f"{api.url}{spec.path}", json=_body("complete"))
            )
            stream: Any = source.iter_sse()
        else:
            client = stack.enter_context(sdk_client(spec.sdk, api, manager, lib, is_async=False))
            stream = spec.call(client, "complete")
        with instrument_sse(manager, stream) as events:
            for _ in events:
                raise Refused("no")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "lib"), READS, ids=[f"{n}-{lib}" for n, lib in READS])
def test_an_exception_in_the_readers_loop_ends_the_chat_and_the_turn_in_error(
    receiver: OtlpReceiver, api: SdkApi, name: str, lib: str, mode: str
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    _refused(mode, _raise_in_sync_loop, _raise_in_async_loop, manager, api, name, lib)
    provider.shutdown()

    assert the_chat(receiver) == (
        chat_attributes(api, APIS[name].path, **{"error.type": REFUSED}),
        "ERROR",
    )
    turn = only(receiver.spans, TURN)
    assert (
        turn.status_code,
        turn.attributes["codex.turn.outcome"],
        turn.attributes["error.type"],
    ) == ("ERROR", "failed", REFUSED)


def test_a_raw_httpx_stream_cut_ends_its_transports_span_in_error(
    receiver: OtlpReceiver, api: SdkApi
) -> None:
    """No SDK, no instrument_sse: `client.stream` read to its cut."""
    provider = traced(receiver)
    manager = manager_of(provider)
    with (
        http_client(manager, "httpx", is_async=False) as client,
        pytest.raises(httpx.RemoteProtocolError),
        client.stream(
            "POST", f"{api.url}/v1/responses", json={"model": "cut", "stream": True}
        ) as response,
    ):
        for _ in response.iter_bytes():
            pass
    provider.shutdown()

    assert the_chat(receiver) == (
        chat_attributes(api, "/v1/responses", **{"error.type": "httpx.RemoteProtocolError"}),
        "ERROR",
    )
