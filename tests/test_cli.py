"""`codex-otel` run as a user runs it: a subprocess, its exit code, its stdout and stderr."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider, OtlpHttpExporter
from codex_otel.testing import OtlpReceiver
from tests.conftest import COMMON, METADATA, normalise

CLI = str(Path(sys.executable).parent / "codex-otel")
SECRET = "tok-very-secret"


def run(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        check=False,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def write_config(tmp_path: Path, exporter: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[otel]\nenvironment = "ci"\n{exporter}')
    return path


def http_table(endpoint: str, protocol: str = "binary") -> str:
    return (
        f'[otel.exporter.otlp-http]\nendpoint = "{endpoint}"\nprotocol = "{protocol}"\n'
        'headers = { "x-api-key" = "${CHECK_TOKEN}" }\n'
    )


@pytest.mark.parametrize(
    "command",
    [[], ["demo"], ["receive"], ["config"], ["config", "check"]],
    ids=lambda c: " ".join(c) or "top",
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: codex-otel")
    assert result.stderr == ""


# -- config check ----------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["binary", "json", "grpc"])
def test_config_check_accepted_by_live_receiver(
    tmp_path: Path, receiver: OtlpReceiver, protocol: str
) -> None:
    if protocol == "grpc":
        table = (
            f'[otel.exporter.otlp-grpc]\nendpoint = "{receiver.grpc_endpoint}"\n'
            'headers = { "x-api-key" = "${CHECK_TOKEN}" }\n'
        )
        endpoint_lines = [f"endpoint:         {receiver.grpc_endpoint}"]
        accepted = r"test export:      accepted: gRPC OK from 127\.0\.0\.1:\d+ in \d+ ms"
    else:
        table = http_table(receiver.logs_endpoint, protocol)
        endpoint_lines = [
            f"endpoint:         {receiver.logs_endpoint}",
            f"protocol:         {protocol}",
        ]
        accepted = rf"test export:      accepted: HTTP 200 from {receiver.logs_endpoint} in \d+ ms"
    path = write_config(tmp_path, table)

    result = run("config", "check", str(path), CHECK_TOKEN=SECRET)

    assert result.returncode == 0, result.stderr
    *lines, last = result.stdout.splitlines()
    assert lines == [
        f"config:           {path}",
        "environment:      ci",
        "log_user_prompt:  false",
        f"exporter:         {'otlp-grpc' if protocol == 'grpc' else 'otlp-http'}",
        *endpoint_lines,
        "headers:          x-api-key=***",
    ]
    assert re.fullmatch(accepted, last), last
    assert SECRET not in result.stdout + result.stderr
    (log,) = receiver.wait_for(1)
    assert (log.event_name, log.headers["x-api-key"]) == ("codex.config_check", SECRET)
    assert log.resource["env"] == "ci"


@pytest.mark.parametrize("protocol", ["binary", "json", "grpc"])
def test_config_check_tests_the_metrics_exporter_too(
    tmp_path: Path, receiver: OtlpReceiver, protocol: str
) -> None:
    if protocol == "grpc":
        table = f'[otel.metrics_exporter.otlp-grpc]\nendpoint = "{receiver.grpc_endpoint}"\n'
        settings = [f"metrics endpoint: {receiver.grpc_endpoint}"]
        accepted = r"metrics export:   accepted: gRPC OK from 127\.0\.0\.1:\d+ in \d+ ms"
    else:
        table = (
            f'[otel.metrics_exporter.otlp-http]\nendpoint = "{receiver.metrics_endpoint}"\n'
            f'protocol = "{protocol}"\n'
        )
        settings = [
            f"metrics endpoint: {receiver.metrics_endpoint}",
            f"metrics protocol: {protocol}",
        ]
        accepted = (
            rf"metrics export:   accepted: HTTP 200 from {receiver.metrics_endpoint} in \d+ ms"
        )
    path = write_config(tmp_path, table)

    result = run("config", "check", str(path))

    assert result.returncode == 0, result.stderr
    *lines, skipped, last = result.stdout.splitlines()
    kind = "otlp-grpc" if protocol == "grpc" else "otlp-http"
    assert lines == [
        f"config:           {path}",
        "environment:      ci",
        "log_user_prompt:  false",
        "exporter:         none",
        f"metrics_exporter: {kind}",
        *settings,
        "metrics headers:  (none)",
    ]
    assert skipped == "test export:      skipped (exporter is none: nothing is sent)"
    assert re.fullmatch(accepted, last), last
    (metric,) = receiver.wait_for_metrics(1)
    assert (metric.name, [point.value for point in metric.points]) == ("codex.config_check", [1])


def test_config_check_fails_when_only_the_metrics_export_is_refused(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    port = closed_port()
    table = (
        http_table(receiver.logs_endpoint)
        + f'[otel.metrics_exporter.otlp-grpc]\nendpoint = "http://127.0.0.1:{port}"\n'
    )
    result = run("config", "check", str(write_config(tmp_path, table)), CHECK_TOKEN="x")
    assert result.returncode == 1
    logs, metrics = result.stdout.splitlines()[-2:]
    assert logs.startswith("test export:      accepted: HTTP 200"), logs
    assert metrics.startswith(
        f"metrics export:   refused: could not reach 127.0.0.1:{port} (UNAVAILABLE: "
    ), metrics


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_config_check_test_exports_one_span(
    tmp_path: Path, receiver: OtlpReceiver, transport: str
) -> None:
    if transport == "grpc":
        endpoint, accepted = receiver.grpc_endpoint, r"gRPC OK from 127\.0\.0\.1:\d+ in \d+ ms"
    else:
        endpoint, accepted = receiver.traces_endpoint, "HTTP 200 from .*"
    table = f'trace_exporter = {{ otlp-{transport} = {{ endpoint = "{endpoint}" }} }}\n'
    result = run("config", "check", str(write_config(tmp_path, table)))
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[4:6] == [f"trace_exporter:   otlp-{transport}", f"traces endpoint:  {endpoint}"]
    assert lines[-2] == "test export:      skipped (exporter is none: nothing is sent)"
    assert re.fullmatch(f"span export:      accepted: {accepted}", lines[-1]), lines[-1]
    ((name, service),) = [(span.name, span.resource["service.name"]) for span in receiver.spans]
    assert (name, service) == ("codex.config_check", "codex-cli")


def test_config_check_closed_port_is_refused(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}/v1/logs"
    result = run(
        "config", "check", str(write_config(tmp_path, http_table(endpoint))), CHECK_TOKEN="x"
    )
    assert result.returncode == 1
    # In the package's words: no "[Errno 111]" prefix.
    assert result.stdout.splitlines()[-1] == (
        f"test export:      refused: could not connect to {endpoint}: Connection refused"
    )


def test_config_check_grpc_closed_port_is_refused(tmp_path: Path) -> None:
    port = closed_port()
    table = f'[otel.exporter.otlp-grpc]\nendpoint = "http://127.0.0.1:{port}"\n'
    result = run("config", "check", str(write_config(tmp_path, table)))
    assert result.returncode == 1
    last = result.stdout.splitlines()[-1]
    assert last.startswith(f"test export:      refused: could not reach 127.0.0.1:{port}"), last


@pytest.fixture
def status_server() -> Iterator[tuple[str, list[int]]]:
    """An HTTP endpoint that answers with the status at the head of `statuses`."""
    statuses = [401]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            body = b"invalid api key"
            self.send_response(statuses[0])
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/logs", statuses
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (401, "HTTP 401 from {url} (authentication: check the headers): invalid api key"),
        (500, "HTTP 500 from {url}: invalid api key"),
    ],
)
def test_config_check_rejection_names_the_status(
    tmp_path: Path, status_server: tuple[str, list[int]], status: int, said: str
) -> None:
    url, statuses = status_server
    statuses[0] = status
    result = run("config", "check", str(write_config(tmp_path, http_table(url))), CHECK_TOKEN="x")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == "test export:      rejected: " + said.format(url=url)


def test_config_check_silent_endpoint_times_out(tmp_path: Path) -> None:
    # A listening socket that is never served: the handshake completes, no answer comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1/logs"
        path = write_config(tmp_path, http_table(url))
        result = run("config", "check", str(path), "--timeout", "0.5", CHECK_TOKEN="x")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        f"test export:      timed out: no answer from {url} within 0.5 s"
    )


def test_config_check_never_prints_a_password_in_the_endpoint(tmp_path: Path) -> None:
    endpoint = f"http://agent:hunter2@127.0.0.1:{closed_port()}/v1/logs"
    result = run(
        "config", "check", str(write_config(tmp_path, http_table(endpoint))), CHECK_TOKEN="x"
    )
    assert result.returncode == 1
    shown = endpoint.replace("agent:hunter2@", "***@")
    assert f"endpoint:         {shown}" in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].startswith(
        f"test export:      refused: could not connect to {shown}: "
    )
    assert "hunter2" not in result.stdout + result.stderr


def test_config_check_none_exporter_skips_the_export(tmp_path: Path) -> None:
    result = run("config", "check", str(write_config(tmp_path, 'exporter = "none"\n')))
    assert result.returncode == 0
    assert result.stdout.splitlines()[-2:] == [
        "exporter:         none",
        "test export:      skipped (exporter is none: nothing is sent)",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[otel]\nexporter = "kafka"\n', "otel.exporter: unknown exporter 'kafka'"),
        ("[otel\n", "otel: expected valid TOML"),
    ],
)
def test_config_check_broken_config_is_one_line_on_stderr(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    result = run("config", "check", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"codex-otel: {path}: {message}")


def test_config_check_missing_file_is_an_error(tmp_path: Path) -> None:
    result = run("config", "check", str(tmp_path / "nope.toml"))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: {tmp_path / 'nope.toml'}: otel: could not read the file: no such file\n"
    )


def test_config_check_directory_is_said_to_be_one(tmp_path: Path) -> None:
    result = run("config", "check", str(tmp_path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: {tmp_path}: otel: could not read the file: it is a directory\n"
    )


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "0", "-inf", "abc", "601"])
def test_config_check_bad_timeout_is_a_one_line_usage_error(tmp_path: Path, value: str) -> None:
    path = write_config(tmp_path, 'exporter = "none"\n')
    result = run("config", "check", str(path), f"--timeout={value}")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: --timeout: expected seconds > 0 and <= 600, got {value!r}\n"
    )


@pytest.fixture
def trickling_collector() -> Iterator[str]:
    """An HTTP endpoint that reads the request, then answers one byte every 0.5 s."""
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    answer = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n" + b"x-pad: " + b"." * 400

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                for byte in answer:  # bounded: about 200 s at most, stopped at teardown
                    if stop.wait(0.5):
                        return
                    conn.sendall(bytes([byte]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1/logs"
    stop.set()
    server.close()
    thread.join(5)


def test_config_check_of_a_trickling_collector_ends_at_its_timeout(
    tmp_path: Path, trickling_collector: str
) -> None:
    path = write_config(tmp_path, http_table(trickling_collector))
    # Bounded generously: the point is that it returns, with the outcome said.
    result = run("config", "check", str(path), "--timeout", "1", CHECK_TOKEN="x", timeout=30)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        f"test export:      timed out: no answer from {trickling_collector} within 1 s"
    )


# -- receive ---------------------------------------------------------------------------


class Receiving:
    """A `codex-otel receive` subprocess on ephemeral ports."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [CLI, "receive", "--http-port", "0", "--grpc-port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.banner = self.process.stderr.readline()
        match = re.search(r"OTLP/HTTP (\S+), OTLP/gRPC (\S+) ", self.banner)
        assert match, self.banner
        self.logs_endpoint, self.grpc_endpoint = match.groups()

    def read_lines(self, count: int) -> list[str]:
        assert self.process.stdout is not None
        return [self.process.stdout.readline().rstrip("\n") for _ in range(count)]

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        _, err = self.process.communicate(timeout=20)
        return self.process.returncode, err


def send_events(endpoint: str) -> None:
    config = OtelConfig(exporter=OtlpHttpExporter(endpoint=endpoint))
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(provider, **METADATA)
        manager.sse_event("response.created", 0.002)
        manager.tool_decision("shell", "call-7", "denied", "user")


def test_receive_prints_events_and_stops_cleanly_on_ctrl_c() -> None:
    receiving = Receiving()
    send_events(receiving.logs_endpoint)
    first, second = receiving.read_lines(2)
    code, err = receiving.interrupt()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} codex\.sse_event +event\.kind=response\.created duration_ms=2",
        first,
    ), first
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} codex\.tool_decision +"
        r"tool_name=shell call_id=call-7 decision=denied source=user",
        second,
    ), second
    assert (code, err) == (0, "stopped: 2 events, 0 metric points and 0 spans received\n")


def test_receive_prints_spans_indented_by_parentage_when_their_turn_arrives() -> None:
    receiving = Receiving()
    traces = receiving.logs_endpoint.replace("/v1/logs", "/v1/traces")
    config = OtelConfig(trace_exporter=OtlpHttpExporter(endpoint=traces))
    with OtelProvider.from_config(config) as provider:
        manager = OtelEventManager(provider, **METADATA)
        with manager.turn("turn-7"):
            manager.log_request(1, lambda: None)
            manager.log_tool_result("shell", "call-1", {}, lambda: "ok")
    lines = receiving.read_lines(3)
    code, err = receiving.interrupt()
    assert [line[:34].rstrip() for line in lines] == [
        "invoke_agent codex",
        "  chat gpt-5-codex",
        "  execute_tool shell",
    ]
    assert "turn.id=turn-7" in lines[0]
    assert "codex.tool.success=true" in lines[2]
    assert (code, err) == (0, "stopped: 0 events, 0 metric points and 3 spans received\n")


def test_receive_json_lines_and_output_file(tmp_path: Path) -> None:
    out_file = tmp_path / "events.jsonl"
    out_file.write_text('{"earlier": true}\n')
    receiving = Receiving("--json", "--output", str(out_file))
    send_events(receiving.logs_endpoint)
    lines = receiving.read_lines(2)
    code, err = receiving.interrupt()
    assert (code, err) == (0, "stopped: 2 events, 0 metric points and 0 spans received\n")
    assert out_file.read_text().splitlines() == ['{"earlier": true}', *lines]
    events = [json_event(line) for line in lines]
    for event in events:
        assert event.pop("time_unix_nano") > 0
        resource = event.pop("resource")
        assert (resource["service.name"], resource["env"]) == ("codex-cli", "dev")
        event["attributes"] = normalise(event["attributes"])
    common = {"event.timestamp": "<ts>", **COMMON}
    assert events == [
        {
            "event": "codex.sse_event",
            "severity": "INFO",
            "transport": "http/protobuf",
            "attributes": {
                "event.name": "codex.sse_event",
                **common,
                "event.kind": "response.created",
                "duration_ms": 2,
            },
        },
        {
            "event": "codex.tool_decision",
            "severity": "INFO",
            "transport": "http/protobuf",
            "attributes": {
                "event.name": "codex.tool_decision",
                **common,
                "tool_name": "shell",
                "call_id": "call-7",
                "decision": "denied",
                "source": "user",
            },
        },
    ]


def test_receive_port_in_use_is_one_line_on_stderr() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("receive", "--http-port", str(port), "--no-grpc", timeout=30)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("codex-otel: ")
    assert str(port) in result.stderr
    assert "Traceback" not in result.stderr
    assert "[Errno" not in result.stderr


def test_receive_unwritable_output_is_one_line_on_stderr(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "events.jsonl"
    result = run("receive", "--http-port", "0", "--no-grpc", "--output", str(target))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: {target}: cannot append events there (No such file or directory)\n"
    )


def test_receive_port_out_of_range_is_a_usage_error() -> None:
    result = run("receive", "--http-port", "70000")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        "codex-otel receive: error: argument --http-port: "
        "expected a port number from 0 to 65535, got '70000'"
    )
    assert "Traceback" not in result.stderr


def json_event(line: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(line)
    return event


# -- demo ------------------------------------------------------------------------------

DEMO_EVENTS = [
    "codex.conversation_starts provider_name=openai reasoning_effort=medium "
    "reasoning_summary=auto context_window=272000 max_output_tokens=128000 "
    "approval_policy=on-request sandbox_policy=workspace-write mcp_servers=github "
    "active_profile=demo",
    "codex.user_prompt prompt_length=34 prompt=[REDACTED]",
    "codex.api_request attempt=1 duration_ms=N http.response.status_code=200 "
    "cf_ray=8f1e2d3c4b5a6978-SJC",
    "codex.sse_event event.kind=response.created duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    "codex.sse_event event.kind=response.output_text.delta duration_ms=N",
    "codex.sse_event event.kind=response.output_item.done duration_ms=N",
    "codex.sse_event event.kind=response.completed duration_ms=N",
    "codex.sse_event event.kind=response.completed input_token_count=1250 "
    "output_token_count=96 cached_token_count=1024 reasoning_token_count=64 "
    "tool_token_count=1346",
    "codex.tool_decision tool_name=shell call_id=call_demo_1 decision=approved source=user",
    'codex.tool_result tool_name=shell call_id=call_demo_1 arguments={"command": ["ls", "-1"]} '
    "duration_ms=N success=true output=README.md\\npyproject.toml\\ncodex_otel/",
    "codex.tool_decision tool_name=read_file call_id=call_demo_2 "
    "decision=approved_for_session source=config",
    'codex.tool_result tool_name=read_file call_id=call_demo_2 arguments={"path": "notes.txt"} '
    "duration_ms=N success=false output=no such file: notes.txt",
]

DEMO_SUMMARY = [
    "events by name:",
    "  codex.conversation_starts        1",
    "  codex.api_request                1",
    "  codex.sse_event                  7",
    "  codex.user_prompt                1",
    "  codex.tool_decision              2",
    "  codex.tool_result                2",
    "",
    "sent 14, arrived 14, lost 0; 6 of 6 event kinds; spans sent 4, arrived 4, lost 0",
]
# The turn's spans, each with the events recorded in it (timestamps and values left out).
DEMO_SPANS = [
    "spans, each with the events recorded in it:",
    "invoke_agent codex",
    "  · codex.user_prompt",
    "  · codex.tool_decision",
    "  · codex.tool_decision",
    "  chat gpt-5-codex",
    "    · codex.api_request",
    *["    · codex.sse_event"] * 7,
    "  execute_tool shell",
    "    · codex.tool_result",
    "  execute_tool read_file",
    "    · codex.tool_result",
]


def span_skeleton(line: str) -> str:
    """A span line's indented name, or an event line's indented `· name`."""
    if line.lstrip().startswith("·"):
        indent = line[: len(line) - len(line.lstrip())]
        return f"{indent}· {line.split()[2]}"
    return line[:34].rstrip()


def normalise_demo_line(line: str) -> str:
    line = re.sub(r"^\d\d:\d\d:\d\d\.\d{3} ", "", line)
    line = re.sub(r" +", " ", line)
    return re.sub(r"duration_ms=\d+", "duration_ms=N", line)


@pytest.mark.parametrize(
    ("protocol", "banner"),
    [
        (
            "binary",
            r"OTLP/HTTP protobuf to an embedded receiver at http://127\.0\.0\.1:\d+/v1/logs",
        ),
        ("json", r"OTLP/HTTP JSON to an embedded receiver at http://127\.0\.0\.1:\d+/v1/logs"),
        ("grpc", r"OTLP/gRPC to an embedded receiver at http://127\.0\.0\.1:\d+"),
    ],
)
def test_demo_shows_all_six_event_kinds_and_nothing_lost(protocol: str, banner: str) -> None:
    result = run("demo", "--protocol", protocol)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    first, api, blank, *events = result.stdout.splitlines()
    assert re.fullmatch(f"codex-otel demo: {banner}", first), first
    assert re.fullmatch(r"fake Responses API at http://127\.0\.0\.1:\d+/v1/responses", api), api
    assert blank == ""
    shown, rest = events[: len(DEMO_EVENTS)], events[len(DEMO_EVENTS) + 1 :]
    spans, summary = rest[: len(DEMO_SPANS)], rest[len(DEMO_SPANS) + 1 :]
    assert [normalise_demo_line(line) for line in shown] == DEMO_EVENTS
    assert [spans[0], *(span_skeleton(line) for line in spans[1:])] == DEMO_SPANS
    assert summary == [
        *DEMO_SUMMARY,
        "",
        f"see it as a picture: {CLI} demo --record session.jsonl",
        f"                     {CLI} view session.jsonl",
        f"or live: {CLI} view (listens on 4318 and 4317), then in another terminal "
        f"{CLI} demo --config config/otel-view.toml",
    ]


def test_demo_with_config_sends_the_session_to_that_collector(
    tmp_path: Path, receiver: OtlpReceiver
) -> None:
    path = write_config(tmp_path, http_table(receiver.logs_endpoint, "json"))
    result = run("demo", "--config", str(path), CHECK_TOKEN=SECRET)
    assert result.returncode == 0, result.stderr
    logs = receiver.wait_for(len(DEMO_EVENTS))
    assert [log.event_name for log in logs] == [line.split()[0] for line in DEMO_EVENTS]
    assert {(log.transport, log.headers["x-api-key"], log.resource["env"]) for log in logs} == {
        ("http/json", SECRET, "ci")
    }
    assert result.stdout.splitlines() == [
        f"codex-otel demo: sending to {receiver.logs_endpoint} ({path})",
        "sent 14, accepted by the collector 14, dropped 0",
    ]
    assert SECRET not in result.stdout


def test_demo_with_config_says_what_the_collector_did_not_accept(tmp_path: Path) -> None:
    path = write_config(tmp_path, http_table(f"http://127.0.0.1:{closed_port()}/v1/logs"))
    result = run("demo", "--config", str(path), CHECK_TOKEN="x")
    assert result.returncode == 1
    said, hint = result.stdout.splitlines()[1:]
    # Refused exports are retried until the shutdown bound: which reason wins is timing.
    assert re.fullmatch(
        r"sent 14, accepted by the collector 0, "
        r"dropped 14 \(14 (export_failed|unsent_at_shutdown|in_flight_at_shutdown)\)",
        said,
    ), said
    assert hint == f"see why: codex-otel config check {path}"


def test_demo_with_none_config_is_one_line_on_stderr(tmp_path: Path) -> None:
    path = write_config(tmp_path, 'exporter = "none"\n')
    result = run("demo", "--config", str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"codex-otel: {path}: otel.exporter is 'none': there is nowhere to send events\n"
    )
