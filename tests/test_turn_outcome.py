"""A turn's span ends with its outcome: `codex.turn.outcome` completed (status OK), failed
(an exception: ERROR with `error.type`) or interrupted (a cancellation: ERROR too), sync
and async, read back from a real OTLP receiver; the exception reaches the caller unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from codex_otel.testing import OtlpReceiver
from tests.spans import TURN, manager_of, only, traced


class Refused(Exception):
    pass


def _turn_attributes(outcome: str, **more: object) -> dict[str, object]:
    return {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "codex",
        "gen_ai.conversation.id": "conv-1234",
        "turn.id": "turn-1",
        "gen_ai.request.model": "gpt-5-codex",
        "codex.turn.outcome": outcome,
        **more,
    }


def _cancelled() -> None:
    raise asyncio.CancelledError


def _interrupted() -> None:
    raise KeyboardInterrupt


def _refused() -> None:
    raise Refused("no")


def _nothing() -> None:
    pass


# (what the turn's code does, what reaches the caller, the span's outcome, status, error.type)
OUTCOMES: list[tuple[str, Callable[[], None], Any, str, str, str | None]] = [
    ("completed", _nothing, None, "completed", "OK", None),
    ("failed", _refused, Refused, "failed", "ERROR", "tests.test_turn_outcome.Refused"),
    (
        "cancelled",
        _cancelled,
        asyncio.CancelledError,
        "interrupted",
        "ERROR",
        "asyncio.exceptions.CancelledError",
    ),
    (
        "ctrl-c",
        _interrupted,
        KeyboardInterrupt,
        "interrupted",
        "ERROR",
        "KeyboardInterrupt",
    ),
]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("case", "body", "raised", "outcome", "status", "error_type"),
    OUTCOMES,
    ids=[case[0] for case in OUTCOMES],
)
def test_a_turn_ends_with_its_outcome(
    receiver: OtlpReceiver,
    case: str,
    body: Callable[[], None],
    raised: Any,
    outcome: str,
    status: str,
    error_type: str | None,
    is_async: bool,
) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)

    def sync_turn() -> None:
        with manager.turn("turn-1"):
            body()

    async def async_turn() -> None:
        async with manager.turn("turn-1"):
            await asyncio.sleep(0)
            body()

    def run() -> None:
        if is_async:
            asyncio.run(async_turn())
        else:
            sync_turn()

    if raised is None:
        run()
    else:
        with pytest.raises(raised):
            run()
    provider.shutdown()

    turn = only(receiver.spans, TURN)
    extra = {} if error_type is None else {"error.type": error_type}
    assert (turn.attributes, turn.status_code, turn.status_message) == (
        _turn_attributes(outcome, **extra),
        status,
        "",  # no message: it may hold content
    )


def test_a_task_cancelled_from_outside_interrupts_its_turn(receiver: OtlpReceiver) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)
    started = asyncio.Event()

    async def agent() -> None:
        async with manager.turn("turn-1"):
            started.set()
            await asyncio.sleep(30)

    async def main() -> None:
        task = asyncio.create_task(agent())
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    provider.shutdown()

    turn = only(receiver.spans, TURN)
    assert (turn.attributes, turn.status_code) == (
        _turn_attributes("interrupted", **{"error.type": "asyncio.exceptions.CancelledError"}),
        "ERROR",
    )


def test_a_turn_closed_with_its_generator_is_interrupted(receiver: OtlpReceiver) -> None:
    provider = traced(receiver)
    manager = manager_of(provider)

    def steps() -> Any:
        with manager.turn("turn-1"):
            yield 1
            yield 2

    running = steps()
    next(running)
    running.close()  # GeneratorExit inside the turn
    provider.shutdown()

    turn = only(receiver.spans, TURN)
    assert (turn.attributes, turn.status_code) == (
        _turn_attributes("interrupted", **{"error.type": "GeneratorExit"}),
        "ERROR",
    )
