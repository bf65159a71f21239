"""The shipped recording replayed: through the library call, the CLI and the example script."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_otel.analytics import replay
from codex_otel.analytics._replay import ReplayError
from codex_otel.cli import main

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / "examples" / "analytics" / "session.jsonl"
THREAD = "019d74d0-5cfb-70c0-bef9-165c3bf9b2df"
TURN = "019d74d0-d7f6-7c81-acc6-aae2030243d6"
TUI = {
    "product_client_id": "CODEX_CLI",
    "client_name": "codex-tui",
    "client_version": "0.50.0",
    "rpc_transport": "stdio",
    "experimental_api_enabled": True,
}
USER = {"thread_source": "user", "subagent_source": None, "parent_thread_id": None}


def events(text: str) -> tuple[list[dict[str, Any]], str]:
    lines = text.splitlines()
    bodies = [json.loads(line) for line in lines[:-1]]
    for body in bodies:
        # The runtime is this machine's: check it is there, then compare the rest whole.
        runtime = body["event_params"].pop("runtime")
        assert set(runtime) == {
            "codex_rs_version",
            "runtime_os",
            "runtime_os_version",
            "runtime_arch",
        }
    return bodies, lines[-1]


def test_recording_replays_into_the_expected_track_events() -> None:
    out = io.StringIO()
    assert replay(RECORDING, out) == 0
    bodies, summary = events(out.getvalue())
    assert [b["event_type"] for b in bodies] == [
        "codex_thread_initialized",
        "codex_review_event",
        "codex_turn_steer_event",
        "codex_review_event",
        "codex_turn_event",
        "codex_thread_initialized",
        "codex_turn_steer_event",
    ]
    assert summary == "# 30 messages: 19 facts queued, 9 filtered, 7 track events"
    assert bodies[1]["event_params"] == {
        "thread_id": THREAD,
        "turn_id": TURN,
        "item_id": "call_1",
        "review_id": "0",
        "app_server_client": TUI,
        **USER,
        "subject_kind": "command_execution",
        "subject_name": "shell",
        "reviewer": "user",
        "trigger": "initial",
        "status": "approved",
        "resolution": "none",
        "started_at_ms": 1775781302010,
        "completed_at_ms": 1775781304510,
        "duration_ms": 2500,
    }
    turn = bodies[4]["event_params"]
    assert {k: turn[k] for k in turn if k.endswith("_count") or k in ("duration_ms", "status")} == {
        "steer_count": 1,
        "total_tool_call_count": 2,
        "shell_command_count": 1,
        "file_change_count": 1,
        "mcp_tool_call_count": 0,
        "dynamic_tool_call_count": 0,
        "subagent_tool_call_count": 0,
        "web_search_count": 0,
        "image_generation_count": 0,
        "duration_ms": 9140,
        "status": "completed",
    }
    assert (turn["num_input_images"], turn["started_at"], turn["completed_at"]) == (
        1,
        1775781301,
        1775781310,
    )
    assert bodies[6]["event_params"]["rejection_reason"] == "no_active_turn"
    # No prompt text, command or path of the recording reaches an event.
    text = json.dumps(bodies)
    for secret in ("run the tests", "pytest -q", "/home/dev", "Fixed the failing"):
        assert secret not in text


def test_cli_and_example_print_the_same_events(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analytics", "replay", str(RECORDING)]) == 0
    from_cli = events(capsys.readouterr().out)
    script = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "analytics_replay.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert events(script.stdout) == from_cli


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "1: expected a JSON object"),
        ('{"from": "peer", "message": {}}', "1: from: expected 'client' or 'server'"),
        ('{"from": "client", "message": 3}', "1: message: expected a JSON-RPC object"),
        ('{"from": "client", "connection": "a", "message": {}}', "1: connection: expected"),
    ],
)
def test_bad_recording_is_one_line_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(ReplayError, match=message):
        replay(path, io.StringIO())
    assert main(["analytics", "replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"codex-otel: {path}:{message}") and err.count("\n") == 1
