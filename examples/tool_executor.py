"""A tool executor: each decision emits `codex.tool_decision`, each run `codex.tool_result`.

Self-contained: it starts a fake model API and an OTLP receiver on 127.0.0.1, fetches
the model's function calls, decides each one (the config approves read-only tools, the
"user" answers for the others), runs the approved ones through decorated executors, and
prints the events the receiver got.

    python examples/tool_executor.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from codex_otel import OtelConfig, OtelEventManager, OtelProvider, ToolDecision
from codex_otel.instrument import decide_tool, instrument_tool
from codex_otel.testing import OtlpReceiver

CALLS = [
    {
        "name": "shell",
        "call_id": "call_1",
        "arguments": {"command": ["python", "-c", "print(6*7)"]},
    },
    {"name": "read_file", "call_id": "call_2", "arguments": {"path": "notes.txt"}},
    {"name": "read_file", "call_id": "call_3", "arguments": {"path": "missing.txt"}},
    {"name": "apply_patch", "call_id": "call_4", "arguments": {"patch": "*** Delete File: /"}},
]


class FakeModelApi(BaseHTTPRequestHandler):
    """POST /v1/responses: a response whose output is the function calls above."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        output = [
            {"type": "function_call", **call, "arguments": json.dumps(call["arguments"])}
            for call in CALLS
        ]
        body = json.dumps({"id": "resp_1", "output": output}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def make_tools(manager: OtelEventManager, workdir: Path) -> dict[str, Any]:
    """The executors, one per tool; each takes its arguments and the model's call_id."""

    @instrument_tool(manager, "shell")
    def shell(command: list[str], *, call_id: str) -> dict[str, Any]:
        argv = [sys.executable if command[0] == "python" else command[0], *command[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return {"exit_code": done.returncode, "stdout": done.stdout}

    @instrument_tool(manager, "read_file")
    def read_file(path: str, *, call_id: str) -> str:
        return (workdir / path).read_text()

    @instrument_tool(manager, "apply_patch")
    def apply_patch(patch: str, *, call_id: str) -> str:
        raise AssertionError("denied, never runs")

    return {"shell": shell, "read_file": read_file, "apply_patch": apply_patch}


READ_ONLY = {"read_file"}  # the config approves these without asking
USER_ANSWERS = {"shell": "approved_for_session", "apply_patch": "denied"}  # a scripted "user"


def decide(manager: OtelEventManager, name: str, call_id: str) -> ToolDecision:
    if name in READ_ONLY:
        return decide_tool(manager, name, call_id, lambda: "approved", source="config")
    return decide_tool(manager, name, call_id, lambda: USER_ANSWERS[name], source="user")


def main() -> None:
    api = ThreadingHTTPServer(("127.0.0.1", 0), FakeModelApi)
    threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{api.server_address[1]}/v1/responses"
    with tempfile.TemporaryDirectory() as tmp, OtlpReceiver(grpc_port=None) as receiver:
        workdir = Path(tmp)
        (workdir / "notes.txt").write_text("remember the milk\n")
        config = OtelConfig.from_mapping(
            {"exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}}}
        )
        with OtelProvider.from_config(config) as provider:
            manager = OtelEventManager(
                provider, conversation_id="example-tools", model="gpt-5-codex", slug="gpt-5"
            )
            tools = make_tools(manager, workdir)
            with httpx.Client(timeout=5.0) as client:
                output = client.post(url, json={"input": "go"}).json()["output"]
            for item in output:
                name, call_id = item["name"], item["call_id"]
                decision = decide(manager, name, call_id)
                print(f"{call_id} {name}: {decision.value}")
                if decision not in (ToolDecision.APPROVED, ToolDecision.APPROVED_FOR_SESSION):
                    continue
                try:
                    result = tools[name](**json.loads(item["arguments"]), call_id=call_id)
                    print(f"  -> {result!r}")
                except OSError as exc:  # the error goes back to the model as the output
                    print(f"  -> failed: {exc}")
        print("the receiver got:")
        for log in receiver.logs:
            fields = {k: v for k, v in log.attributes.items() if k in _SHOWN}
            print(f"  {log.event_name} {fields}")
        print(f"ok: {len(receiver.logs)} events")
    api.shutdown()
    api.server_close()


_SHOWN = ("tool_name", "call_id", "decision", "source", "arguments", "success", "output")

if __name__ == "__main__":
    main()
