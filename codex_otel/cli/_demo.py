"""`codex-otel demo`: a scripted agent session through the real pipeline.

An embedded OTLP receiver and a fake Responses API run on 127.0.0.1; the session uses
the real provider, event manager and instrumentation helpers, so what it prints is
what a collector would have received: the events, and the turn's spans with the events
recorded in each nested under it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO, cast

from .._config import ExporterConfig, OtlpFileExporter, OtlpGrpcExporter, OtlpHttpExporter
from .._config_load import OtelConfig, load_config
from .._errors import CliError
from .._event_fields import AuthEnv
from .._manager import OtelEventManager
from .._provider import OtelProvider
from ..catalog import EVENT_NAMES
from ..export import DeliveryStats
from ..export._factory import describe_exporter
from ..testing import OtlpReceiver
from ._format import event_line, span_tree_lines, summary_lines

__all__ = ["fake_responses_api", "run_demo"]

MODEL = "gpt-5-codex"

# What a Responses API stream looks like: a created event, text deltas, a tool call
# as an output item, and the completion with its token usage.
RESPONSE_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("response.created", {"type": "response.created", "response": {"id": "resp_demo"}}),
    *[
        ("response.output_text.delta", {"type": "response.output_text.delta", "delta": text})
        for text in ("Let me ", "list the ", "files.")
    ],
    (
        "response.output_item.done",
        {
            "type": "response.output_item.done",
            "item": {
                "type": "function_call",
                "name": "shell",
                "call_id": "call_demo_1",
                "arguments": json.dumps({"command": ["ls", "-1"]}),
            },
        },
    ),
    (
        "response.completed",
        {
            "type": "response.completed",
            "response": {
                "id": "resp_demo",
                "usage": {
                    "input_tokens": 1250,
                    "input_tokens_details": {"cached_tokens": 1024},
                    "output_tokens": 96,
                    "output_tokens_details": {"reasoning_tokens": 64},
                    "total_tokens": 1346,
                },
            },
        },
    ),
]


class _FakeResponsesApi(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo prints events, not access logs

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if self.path != "/v1/responses":
            self.send_error(404)
            return
        body = "".join(
            f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in RESPONSE_EVENTS
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cf-ray", "8f1e2d3c4b5a6978-SJC")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def fake_responses_api() -> Iterator[str]:
    """A local fake of the Responses API streaming endpoint; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeResponsesApi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-responses-api", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/responses"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_session(manager: OtelEventManager, api_url: str) -> None:
    """A conversation's start and its start-up, then one turn: prompt, a streamed response
    (its first token timed by the turn), a tool that works (in the sandbox) and one the
    automated reviewer let through that fails, the final answer; then a plugin suggested."""

    manager.conversation_starts(
        provider_name="openai",
        reasoning_effort="medium",
        reasoning_summary="auto",
        context_window=272_000,
        max_output_tokens=128_000,
        approval_policy="on-request",
        sandbox_policy="workspace-write",
        mcp_servers=["github"],
        active_profile="demo",
        is_git=True,
        is_worktree=False,
    )
    manager.startup_phase("thread_start_total", 0.015, status="ready")
    with manager.turn() as turn_id:
        _turn(manager, api_url)
        manager.agent_response(
            "msg_demo_1", "The repository holds README.md, pyproject.toml and codex_otel/."
        )
    del turn_id
    manager.plugin_install_elicitation_sent("connector", "github", "GitHub")
    manager.plugin_install_suggestion(
        "connector",
        "github",
        "GitHub",
        response_action="accept",
        user_confirmed=True,
        completed=True,
    )


def _turn(manager: OtelEventManager, api_url: str) -> None:
    import httpx2

    from ..instrument import (
        Httpx2InstrumentedTransport,
        decide_tool,
        instrument_sse,
        instrument_tool,
    )

    manager.user_prompt(["List the files in this repository."])
    call: dict[str, Any] = {}
    with (
        httpx2.Client(transport=Httpx2InstrumentedTransport(manager), timeout=10) as client,
        client.stream(
            "POST",
            api_url,
            json={"model": MODEL, "stream": True},
            # Only the header's name is recorded (`auth.header_name`), never its value.
            headers={"authorization": "Bearer sk-demo-not-a-key"},
        ) as response,
    ):
        for sse in instrument_sse(manager, iter(httpx2.EventSource(response)), idle_timeout=10):
            if sse.event == "response.output_item.done":
                call = json.loads(sse.data)["item"]

    @instrument_tool(manager, "shell")
    def shell(command: list[str], *, call_id: str) -> str:
        return "README.md\npyproject.toml\ncodex_otel/"

    @instrument_tool(manager, "read_file")
    def read_file(path: str, *, call_id: str) -> str:
        raise FileNotFoundError(f"no such file: {path}")

    # The model asked for `shell`; the user approves it at the prompt; it runs in the sandbox.
    decide_tool(manager, "shell", call["call_id"], lambda: "approved", source="user")
    shell(**json.loads(call["arguments"]), call_id=call["call_id"])
    manager.sandbox_outcome("shell", call["call_id"], "success", 0.004)
    # A second call, let through by the automated reviewer; the tool fails, the agent tells
    # the model and goes on.
    manager.guardian_assessment(
        "review_demo_1",
        status="approved",
        item_id="call_demo_2",
        outcome="allow",
        risk_level="low",
        started_at_ms=1_767_225_600_000,
        completed_at_ms=1_767_225_600_420,
        rationale="Reading a file inside the workspace is low risk.",
    )
    decide_tool(
        manager, "read_file", "call_demo_2", lambda: "approved", source="automated_reviewer"
    )
    with contextlib.suppress(FileNotFoundError):
        read_file("notes.txt", call_id="call_demo_2")


def _demo_config(protocol: str, receiver: OtlpReceiver) -> OtelConfig:
    exporter: ExporterConfig
    traces: ExporterConfig
    if protocol == "grpc":
        exporter = traces = OtlpGrpcExporter(endpoint=receiver.grpc_endpoint)
    else:
        kind: Any = "json" if protocol == "json" else "binary"
        exporter = OtlpHttpExporter(endpoint=receiver.logs_endpoint, protocol=kind)
        traces = OtlpHttpExporter(endpoint=receiver.traces_endpoint, protocol=kind)
    # The demo shows the opt-in events too.
    return OtelConfig(
        exporter=exporter,
        trace_exporter=traces,
        log_agent_responses=True,
        log_guardian_assessments=True,
    )


class _Tee:
    """One signal's records to the receiver and, a copy, to the recording (`--record`)."""

    def __init__(self, main: Any, copy: Any) -> None:
        self._main, self._copy = main, copy

    def export(self, batch: Any) -> Any:
        self._copy.export(batch)
        return self._main.export(batch)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return bool(self._main.force_flush(timeout_millis))

    def shutdown(self) -> None:
        self._copy.shutdown()
        self._main.shutdown()


def _provider(config: OtelConfig, record: Path | None) -> OtelProvider:
    if record is None:
        return OtelProvider.from_config(config)
    from .._metrics import reader_from_config
    from ..export._factory import build_exporter

    # Events and spans to the receiver and the file alike; metrics to the file (the charts').
    recording = OtlpFileExporter(path=record)
    reader = reader_from_config(OtelConfig(metrics_exporter=recording))
    spans = None
    if config.trace_exporter.kind != "none":
        spans = _Tee(
            build_exporter("traces", config.trace_exporter), build_exporter("traces", recording)
        )
    return OtelProvider(
        cast(Any, _Tee(build_exporter("logs", config.exporter), build_exporter("logs", recording))),
        metric_readers=[reader] if reader is not None else [],
        target=describe_exporter(config.exporter),
        span_exporter=spans,
        span_target=describe_exporter(config.trace_exporter),
        log_agent_responses=config.log_agent_responses,
        log_guardian_assessments=config.log_guardian_assessments,
    )


def _run(
    config: OtelConfig, api_url: str, record: Path | None = None
) -> tuple[DeliveryStats, DeliveryStats]:
    """Run the session through a provider for `config`; what became of its events and spans."""
    with _provider(config, record) as provider:
        manager = OtelEventManager(
            provider,
            conversation_id=str(uuid.uuid4()),
            model=MODEL,
            slug="gpt-5",
            auth_mode="ApiKey",
            terminal_type="demo",
            app_version="0.0.0-demo",
            originator="codex_otel_demo",
            session_source="exec",
            # Which credentials the environment holds (presence only): fixed for the demo.
            auth_env=AuthEnv(
                openai_api_key_present=True,
                provider_key_name="OPENAI_API_KEY",
                provider_key_present=True,
            ),
        )
        run_session(manager, api_url)
    return provider.stats(), provider.stats("spans")


def _command() -> str:
    """How the user ran us (`.venv/bin/codex-otel` under `make demo`), for the hints."""
    program = Path(sys.argv[0])
    return str(program) if program.name == "codex-otel" else "codex-otel"


def run_demo(
    *, protocol: str, config_path: Path | None, out: TextIO, record: Path | None = None
) -> int:
    if config_path is not None:
        return _run_against_config(config_path, out)
    transport = {"binary": "OTLP/HTTP protobuf", "json": "OTLP/HTTP JSON", "grpc": "OTLP/gRPC"}
    with OtlpReceiver() as receiver, fake_responses_api() as api_url:
        config = _demo_config(protocol, receiver)
        endpoint = config.exporter.endpoint  # type: ignore[union-attr]
        print(
            f"codex-otel demo: {transport[protocol]} to an embedded receiver at {endpoint}",
            file=out,
        )
        print(f"fake Responses API at {api_url}\n", file=out)
        events, spans = _run(config, api_url, record)
        sent = events.offered
        arrived = receiver.wait_for(sent, timeout=10)
        spans_arrived = receiver.wait_for_spans(spans.offered, timeout=10)
    for log in arrived:
        print(event_line(log), file=out)
    print("\nspans, each with the events recorded in it:", file=out)
    for line in span_tree_lines(spans_arrived, arrived):
        print(line, file=out)
    lost = sent - len(arrived)
    spans_lost = spans.offered - len(spans_arrived)
    kinds = {log.event_name for log in arrived}
    print("\nevents by name:", file=out)
    for line in summary_lines(arrived):
        print(line, file=out)
    print(
        f"\nsent {sent}, arrived {len(arrived)}, lost {lost}; "
        f"{len(kinds & set(EVENT_NAMES))} of {len(EVENT_NAMES)} event kinds; "
        f"spans sent {spans.offered}, arrived {len(spans_arrived)}, lost {spans_lost}",
        file=out,
    )
    command = _command()
    if record is not None:
        print(
            f"\nrecorded to {record} (appended): events, spans and metrics as OTLP/JSON lines",
            file=out,
        )
        print(f"see it as a picture: {command} view {record}", file=out)
    else:
        print(f"\nsee it as a picture: {command} demo --record session.jsonl", file=out)
        print(f"                     {command} view session.jsonl", file=out)
    print(
        f"or live: {command} view (listens on 4318 and 4317), then in another terminal "
        f"{command} demo --config config/otel-view.toml",
        file=out,
    )
    return 0 if lost == 0 and spans_lost == 0 else 1


def _run_against_config(config_path: Path, out: TextIO) -> int:
    if not config_path.is_file():
        raise CliError(f"{config_path}: no such file")
    config = load_config(config_path)
    if config.exporter.kind == "none":
        raise CliError(f"{config_path}: otel.exporter is 'none': there is nowhere to send events")
    with fake_responses_api() as api_url:
        destination = describe_exporter(config.exporter).partition(" ")[2]
        print(f"codex-otel demo: sending to {destination} ({config_path})", file=out)
        stats, spans = _run(config, api_url)
    sent = stats.offered
    print(f"sent {sent}, accepted by the collector {stats.exported}", end="", file=out)
    if stats.dropped:
        print(f", dropped {stats.dropped} ({stats.summary()})", file=out)
        print(f"see why: codex-otel config check {config_path}", file=out)
    else:
        print(", dropped 0", file=out)
    if config.trace_exporter.kind != "none":
        print(
            f"spans sent {spans.offered}, accepted {spans.exported}, dropped {spans.dropped}",
            file=out,
        )
    return 0 if stats.exported == sent and spans.exported == spans.offered else 1
