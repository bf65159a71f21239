"""Run the real Codex CLI (`codex exec`) once against a local fake Responses API, with its
`[otel]` exporters (logs, metrics, traces) pointed at codex_otel's OTLP receiver, and
record what it exported as the JSON lines `codex-otel receive --output` writes.

    python -m interop.run_codex --codex .interop/node_modules/.bin/codex \
        --output tests/data/codex-0.169.0/session.jsonl

Everything listens on 127.0.0.1 (port 0); Codex gets a temporary CODEX_HOME and a fake
API key, and never reaches the network. Codex itself is installed by `make interop-codex`
into .interop/ (ignored by git); none of its code is kept here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from codex_otel.cli._format import event_json, metric_json, span_json
from codex_otel.testing import Metric, OtlpReceiver, ReceivedLog, ReceivedSpan

from .compare import compare
from .fake_responses import FakeResponses

__all__ = ["codex_config", "codex_exec", "main", "run_codex"]

PROMPT = "Run `echo interop` and tell me what it printed."
MODEL = "gpt-5.1-codex"
# Codex exits within seconds against the fake API; this bounds a hung run.
RUN_TIMEOUT_SECONDS = 180
# After Codex exits, how long OTLP has to stop arriving before the capture is closed.
QUIET_SECONDS = 2.0
SETTLE_LIMIT_SECONDS = 20.0


def codex_config(base_url: str, receiver: OtlpReceiver) -> str:
    """The config.toml Codex runs with: the fake provider and every exporter on `receiver`."""
    port = receiver.http_port

    def exporter(path: str) -> str:
        endpoint = f"http://127.0.0.1:{port}{path}"
        return f'{{ otlp-http = {{ endpoint = "{endpoint}", protocol = "binary" }} }}'

    return f"""\
model = "{MODEL}"
model_provider = "interop"
model_reasoning_effort = "medium"

[model_providers.interop]
name = "interop"
base_url = "{base_url}"
wire_api = "responses"
env_key = "OPENAI_API_KEY"
request_max_retries = 0
stream_max_retries = 0

[otel]
environment = "interop"
log_user_prompt = true
log_agent_responses = true
log_guardian_assessments = true
exporter = {exporter("/v1/logs")}
metrics_exporter = {exporter("/v1/metrics")}
trace_exporter = {exporter("/v1/traces")}
"""


class _Capture:
    """Lines as `codex-otel receive --output` writes them, in arrival order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.last = time.monotonic()
        self._lock = threading.Lock()

    def _add(self, lines: list[str]) -> None:
        with self._lock:
            self.lines += lines
            self.last = time.monotonic()

    def log(self, log: ReceivedLog) -> None:
        self._add([event_json(log)])

    def metrics(self, metrics: list[Metric]) -> None:
        self._add([metric_json(metric) for metric in metrics])

    def span(self, span: ReceivedSpan) -> None:
        self._add([span_json(span)])

    def settle(self) -> None:
        """Wait until nothing arrived for QUIET_SECONDS (bounded)."""
        deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
        while time.monotonic() < deadline:
            with self._lock:
                quiet = time.monotonic() - self.last
            if quiet >= QUIET_SECONDS:
                return
            time.sleep(0.2)


# Nothing listens there: Codex's plugin sync from GitHub (at start) goes to it, so the run
# stays offline.
DEAD_PROXY = "http://127.0.0.1:9"


def codex_exec(
    codex: Path, home: Path, project: Path, prompt: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`codex exec` in `project` with CODEX_HOME `home`, stdin from /dev/null, a fake API key
    and no network; `env` adds variables."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home.parent),
        "CODEX_HOME": str(home),
        "OPENAI_API_KEY": "sk-interop-not-a-real-key",
        "RUST_LOG": "warn",
        "NO_COLOR": "1",
        "HTTPS_PROXY": DEAD_PROXY,
        "HTTP_PROXY": DEAD_PROXY,
        "ALL_PROXY": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        **env,
    }
    command = [
        str(codex),
        "exec",
        "--dangerously-bypass-approvals-and-sandbox",
        "--skip-git-repo-check",
        "--cd",
        str(project),
        prompt,
    ]
    with open(os.devnull, "rb") as stdin:
        return subprocess.run(
            command,
            stdin=stdin,
            capture_output=True,
            text=True,
            env=environment,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )


def codex_version(codex: Path) -> str:
    done = subprocess.run(
        [str(codex), "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip().split()[-1]


def run_codex(codex: Path, work: Path) -> tuple[list[str], dict[str, object]]:
    """Run one `codex exec` session; the captured lines and a summary of the run."""
    capture = _Capture()
    receiver = OtlpReceiver(
        http_port=0,
        grpc_port=None,
        on_log=capture.log,
        on_metrics=capture.metrics,
        on_span=capture.span,
    )
    with receiver, FakeResponses() as api:
        home = work / "codex-home"
        project = work / "project"
        home.mkdir()
        project.mkdir()
        (home / "config.toml").write_text(codex_config(api.base_url, receiver))
        done = codex_exec(codex, home, project, PROMPT)
        capture.settle()
        requests = [f"{method} {path}" for method, path, _ in api.requests]
    summary: dict[str, object] = {
        "exit_code": done.returncode,
        "requests": requests,
        "stdout_tail": done.stdout[-2000:],
        "stderr_tail": done.stderr[-4000:],
    }
    return capture.lines, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codex", type=Path, required=True, help="the codex executable")
    parser.add_argument(
        "--output", type=Path, help="write the capture here (default: print a summary only)"
    )
    parser.add_argument(
        "--summary", type=Path, help="write the run's summary and comparison here as JSON"
    )
    args = parser.parse_args(argv)
    version = codex_version(args.codex)
    with tempfile.TemporaryDirectory(prefix="codex-interop-") as folder:
        lines, summary = run_codex(args.codex, Path(folder))
    summary["version"] = version
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    report = compare([json.loads(line) for line in lines])
    if args.summary is not None:
        args.summary.write_text(json.dumps({**summary, **report.as_dict()}, indent=2) + "\n")
    if summary["exit_code"] != 0:
        print(summary["stderr_tail"], file=sys.stderr)
        print(f"codex exited with {summary['exit_code']}", file=sys.stderr)
        return 1
    print(f"Codex {version}: {len(lines)} lines captured; requests {summary['requests']}")
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
