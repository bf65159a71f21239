"""`codex-otel --help` and `codex-otel config check`, run as a user runs them."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from codex_otel.testing import OtlpReceiver
from tests.cli import SECRET, http_table, run, write_config
from tests.faulty import closed_port


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
    assert re.fullmatch(r"test export:      accepted: HTTP 200 from \S+ in \d+ ms", logs), logs
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
    # The rest is gRPC's own account of the failure, whose wording varies by release.
    pattern = rf"test export:      refused: could not reach 127\.0\.0\.1:{port} \(UNAVAILABLE: .+\)"
    assert re.fullmatch(pattern, last), last


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
    assert result.stdout.splitlines()[-1] == (
        f"test export:      refused: could not connect to {shown}: Connection refused"
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
