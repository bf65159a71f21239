"""What the `instrument_sse` tests share: reading a fake API's stream the three ways (sync,
sync with an idle timeout, async) and the records each event is expected to make."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import aconnect_sse, connect_sse

from codex_otel import OtelEventManager
from codex_otel.instrument import instrument_sse
from tests.conftest import expect
from tests.fake_api import FakeApi

MODES = ["sync", "sync-idle-timeout", "async"]
SSE = "codex.sse_event"
READER_THREAD = "codex-otel-sse-reader"


@dataclass
class Outcome:
    seen: list[Any] = field(default_factory=list)  # what the consumer got
    given: list[Any] = field(default_factory=list)  # what the stream produced
    error: BaseException | None = None


def _tee(events: Iterator[Any], given: list[Any]) -> Iterator[Any]:
    try:
        for event in events:
            given.append(event)
            yield event
    finally:
        events.close()  # type: ignore[attr-defined]


async def _atee(events: AsyncIterator[Any], given: list[Any]) -> AsyncIterator[Any]:
    try:
        async for event in events:
            given.append(event)
            yield event
    finally:
        await events.aclose()  # type: ignore[attr-defined]


def _through(manager: OtelEventManager | None, events: Any, idle: float | None) -> Any:
    return events if manager is None else instrument_sse(manager, events, idle_timeout=idle)


def consume(
    manager: OtelEventManager | None,
    api: FakeApi,
    stream: str,
    mode: str,
    idle: float | None = None,
) -> Outcome:
    """Read /v1/sse/<stream> through instrument_sse the way `mode` says, to the end (without
    instrument_sse when `manager` is None)."""
    url = f"{api.url}/v1/sse/{stream}"
    if mode == "async":
        return asyncio.run(_consume_async(manager, url, idle))
    if mode == "sync-idle-timeout" and idle is None:
        idle = 5.0
    out = Outcome()
    with httpx.Client(timeout=5.0) as client, connect_sse(client, "POST", url) as source:
        try:
            for sse in _through(manager, _tee(source.iter_sse(), out.given), idle):
                out.seen.append(sse)
        except Exception as exc:
            out.error = exc
    return out


async def _consume_async(manager: OtelEventManager | None, url: str, idle: float | None) -> Outcome:
    out = Outcome()
    async with (
        httpx.AsyncClient(timeout=5.0) as client,
        aconnect_sse(client, "POST", url) as source,
    ):
        try:
            async for sse in _through(manager, _atee(source.aiter_sse(), out.given), idle):
                out.seen.append(sse)
        except Exception as exc:
            out.error = exc
    return out


def passed_unchanged(out: Outcome) -> bool:
    return len(out.seen) == len(out.given) and all(
        a is b for a, b in zip(out.seen, out.given, strict=True)
    )


def sse(kind: str | None, **fields: Any) -> dict[str, Any]:
    kind_field = {} if kind is None else {"event.kind": kind}
    return expect(SSE, duration_ms="<ms>", **kind_field, **fields)


def failure(kind: str | None, message: str) -> dict[str, Any]:
    return sse(kind, **{"error.message": message})


def completed_failed(message: str) -> dict[str, Any]:
    return expect(SSE, **{"event.kind": "response.completed", "error.message": message})


CREATED = sse("response.created")
DELTA = sse("response.output_text.delta")


def _reader_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == READER_THREAD}


def _join_new_readers(before: set[threading.Thread]) -> None:
    for thread in _reader_threads() - before:
        thread.join(timeout=5.0)
        assert not thread.is_alive()
