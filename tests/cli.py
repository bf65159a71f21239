"""Running `codex-otel` as a user runs it: a subprocess, its exit code, its stdout and stderr."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

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


def write_config(tmp_path: Path, exporter: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[otel]\nenvironment = "ci"\n{exporter}')
    return path


def http_table(endpoint: str, protocol: str = "binary") -> str:
    return (
        f'[otel.exporter.otlp-http]\nendpoint = "{endpoint}"\nprotocol = "{protocol}"\n'
        'headers = { "x-api-key" = "${CHECK_TOKEN}" }\n'
    )


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
