"""Every script in examples/ runs, end to end, as a user would run it, and says what it did."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# script -> lines its output must contain (the parts that do not vary between runs); the
# events count attempts from 0, as Codex does.
EXPECTED = {
    "http_client.py": [
        "  got 503, retrying",
        "  got 200: {'id': 'resp_1', 'status': 'completed'}",
        "  codex.api_request {'attempt': 0, 'http.response.status_code': 503, "
        "'cf_ray': '8f2a1c3b4d5e6f71-SJC'}",
        "  codex.api_request {'attempt': 1, 'http.response.status_code': 200, "
        "'cf_ray': '8f2a1c3b4d5e6f72-SJC'}",
        "  codex.api_request {'attempt': 0, 'error.message': '[Errno 111] Connection refused'}",
        "ok: 3 codex.api_request events",
    ],
    "sse_stream.py": [
        "streamed text: 'Hello, world'",
        "  codex.sse_event {'event.kind': 'response.output_item.done'}",
        "  codex.sse_event {'event.kind': 'response.completed', 'input_token_count': 1200, "
        "'output_token_count': 300, 'cached_token_count': 1000, 'reasoning_token_count': 64, "
        "'tool_token_count': 1500}",
        "ok: 7 events",
    ],
    "openai_sdk.py": [
        "responses streamed: 'Hello, world'",
        "chat streamed (async): 'Hi'",
        "  codex.api_request {'attempt': 0, 'http.response.status_code': 429}",
        "  codex.api_request {'attempt': 1, 'http.response.status_code': 200, "
        "'cf_ray': '8f2a1c3b4d5e6f70-SJC'}",
        "  codex.sse_event {'event.kind': 'response.output_text.delta'}",
        "  codex.sse_event {'event.kind': 'response.completed', 'input_token_count': 1200, "
        "'output_token_count': 300, 'cached_token_count': 1000, 'reasoning_token_count': 64, "
        "'tool_token_count': 1500}",
        "  codex.sse_event {'event.kind': 'chat.completion.chunk'}",
        "  codex.sse_event {'event.kind': 'response.completed', 'input_token_count': 900, "
        "'output_token_count': 120, 'tool_token_count': 1020}",
        "ok: 13 events",
    ],
    "anthropic_sdk.py": [
        "streamed: 'Hello, world'",
        "streamed (async): 7 events",
        "  codex.api_request {'attempt': 0, 'http.response.status_code': 200, "
        "'cf_ray': '8f2a1c3b4d5e6f70-SJC'}",
        "  codex.sse_event {'event.kind': 'message_start'}",
        "  codex.sse_event {'event.kind': 'message_stop'}",
        "  codex.sse_event {'event.kind': 'response.completed', 'input_token_count': 1200, "
        "'output_token_count': 300, 'cached_token_count': 1000, 'tool_token_count': 2600}",
        "ok: 18 events",
    ],
    "tool_executor.py": [
        "call_1 shell: approved_for_session",
        "  -> {'exit_code': 0, 'stdout': '42\\n'}",
        "call_4 apply_patch: denied",
        "  codex.tool_decision {'tool_name': 'read_file', 'call_id': 'call_2', "
        "'decision': 'approved', 'source': 'Config'}",
        "  codex.tool_result {'tool_name': 'read_file', 'call_id': 'call_2', "
        "'arguments': '{\"path\": \"notes.txt\"}', 'success': 'true', "
        "'output': 'remember the milk\\n'}",
        "ok: 7 events",
    ],
}


SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))


def test_the_instrumentation_examples_are_there() -> None:
    assert set(EXPECTED) <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_and_prints_what_it_did(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        # Internal telemetry errors fail the run instead of being logged and swallowed.
        env={**os.environ, "CODEX_OTEL_STRICT": "1"},
    )
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    missing = [line for line in EXPECTED.get(script, []) if line not in lines]
    assert missing == [], done.stdout
