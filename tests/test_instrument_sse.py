"""instrument_sse over a real `text/event-stream` from a local fake Responses API.

Every way a stream event becomes `codex.sse_event` has its own test, each run three
ways: a sync stream, a sync stream with an idle timeout (read in a helper thread), and
an async stream. The records asserted are the whole ones that reached a real receiver.
"""

from __future__ import annotations

import json

import pytest

from codex_otel.instrument import SseIdleTimeout
from tests.conftest import Exported, expect
from tests.fake_api import FAILED_ERROR, FakeApi
from tests.sse_helpers import (
    CREATED,
    DELTA,
    MODES,
    SSE,
    _join_new_readers,
    _reader_threads,
    completed_failed,
    consume,
    failure,
    passed_unchanged,
    sse,
)


@pytest.mark.parametrize("mode", MODES)
def test_a_complete_response_records_each_event_and_its_token_usage(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "complete", mode)
    assert out.error is None
    assert [s.event for s in out.seen] == [
        "response.created",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_item.done",
        "response.completed",
    ]
    assert passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        DELTA,
        DELTA,
        sse("response.output_item.done"),
        sse("response.completed"),
        expect(
            SSE,
            input_token_count=1200,
            output_token_count=300,
            cached_token_count=1000,
            reasoning_token_count=64,
            tool_token_count=1500,
            **{"event.kind": "response.completed"},
        ),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_done_records_an_event_of_that_sse_events_kind(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "done", mode)
    assert (out.error, [s.data for s in out.seen][-1]) == (None, "[DONE]")
    assert passed_unchanged(out)
    # `data: [DONE]` with no `event:` line is of the SSE default kind, "message".
    assert exported.records() == [DELTA, sse("message")]


@pytest.mark.parametrize("mode", MODES)
def test_response_failed_records_a_failure_whose_message_is_its_json(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "failed", mode)
    assert out.error is None and passed_unchanged(out)
    data = {
        "type": "response.failed",
        "response": {"id": "resp_1", "status": "failed", "error": FAILED_ERROR},
    }
    assert exported.records() == [
        CREATED,
        failure("response.failed", json.dumps(data, separators=(",", ":"))),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_an_output_item_done_that_is_not_an_output_item_records_a_parse_failure(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "bad-item", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        failure("response.output_item.done", "failed to parse response.output_item.done"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_data_that_is_not_json_records_the_parse_error(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "not-json", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        failure(
            "response.output_text.delta",
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_an_error_from_the_stream_records_a_failure_without_kind_and_reaches_the_caller(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "cut", mode)
    plain = consume(None, fake_api, "cut", mode)
    # The caller gets the HTTP library's own error, as it does without instrument_sse.
    assert plain.error is not None
    assert (type(out.error), str(out.error)) == (type(plain.error), str(plain.error))
    assert passed_unchanged(out) and len(out.seen) == len(plain.seen)
    assert exported.records() == [CREATED, failure(None, str(plain.error))]


# A sync stream with an idle timeout is always read in a helper thread.
@pytest.mark.parametrize("mode", ["sync-idle-timeout", "async"])
def test_no_event_within_the_idle_timeout_records_a_failure_then_raises(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    readers_before = _reader_threads()
    out = consume(exported.manager, fake_api, "stall", mode, idle=0.3)
    assert isinstance(out.error, SseIdleTimeout) and isinstance(out.error, TimeoutError)
    assert str(out.error) == "idle timeout waiting for SSE"
    assert passed_unchanged(out) and len(out.seen) == 1
    assert exported.records() == [CREATED, failure(None, "idle timeout waiting for SSE")]
    # The recorded wait is the one that timed out (at least the timeout, minus clock slack).
    waited = exported.receiver.logs[-1].attributes["duration_ms"]
    assert isinstance(waited, int) and waited >= 250
    # A helper thread blocked on the silent server ends once the server speaks again.
    fake_api.release.set()
    _join_new_readers(readers_before)


@pytest.mark.parametrize("mode", MODES)
def test_the_end_of_the_stream_records_nothing(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "end", mode)
    assert out.error is None and passed_unchanged(out) and len(out.seen) == 1
    assert exported.records() == [CREATED]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_without_usage_records_completed_failed(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "no-usage", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        sse("response.completed"),
        completed_failed("response.completed without response.usage"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_with_unreadable_usage_records_completed_failed(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "bad-usage", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        sse("response.completed"),
        completed_failed(
            "response.completed usage unreadable: "
            "response.usage.input_tokens: expected a non-negative integer, got '1200'"
        ),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_that_is_not_json_records_both_failures(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "completed-not-json", mode)
    assert out.error is None and passed_unchanged(out)
    error = "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert exported.records() == [
        CREATED,
        failure("response.completed", error),
        completed_failed(f"response.completed data is not JSON: {error}"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_completion_without_token_details_leaves_cached_and_reasoning_out(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    out = consume(exported.manager, fake_api, "no-details", mode)
    assert out.error is None and passed_unchanged(out)
    assert exported.records() == [
        CREATED,
        sse("response.completed"),
        expect(
            SSE,
            input_token_count=10,
            output_token_count=5,
            tool_token_count=15,
            **{"event.kind": "response.completed"},
        ),
    ]
