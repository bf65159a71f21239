"""A real OTLP receiver in another process, so its decoding does not share our GIL.

Run as ``python -m benchmarks._remote``: it starts `codex_otel.testing.OtlpReceiver` (HTTP and
gRPC on 127.0.0.1), prints its endpoints as one JSON line, then answers one line per command
read from stdin: ``count``, ``reset`` (forget what arrived), ``wait N SECONDS`` (until N logs
arrived or the time passed), ``quit``. Every answer is the number of logs received since the
last reset. `RemoteReceiver` is the parent's side.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import IO

from benchmarks._common import ROOT
from codex_otel.testing import OtlpReceiver, ReceivedLog

_START_TIMEOUT = 30.0
_REPLY_MARGIN = 10.0  # beyond a command's own wait


def _serve(stdin: IO[str], stdout: IO[str]) -> None:
    received = 0
    cond = threading.Condition()

    def on_log(_log: ReceivedLog) -> None:
        nonlocal received
        with cond:
            received += 1
            cond.notify_all()

    def _at_least(count: int) -> Callable[[], bool]:
        return lambda: received >= count

    with OtlpReceiver(on_log=on_log) as receiver:
        endpoints = {"http": receiver.logs_endpoint, "grpc": receiver.grpc_endpoint}
        print(json.dumps(endpoints), file=stdout, flush=True)
        for line in stdin:  # ends when the parent closes our stdin
            command, *args = line.split()
            if command == "quit":
                break
            if command == "reset":
                with cond:
                    receiver.clear()  # the decoded logs: keep memory flat across runs
                    received = 0
            elif command == "wait":
                with cond:
                    cond.wait_for(_at_least(int(args[0])), timeout=float(args[1]))
            elif command == "count":
                # The count is what matters; drop the decoded logs as we go.
                receiver.clear()
            with cond:
                print(received, file=stdout, flush=True)


class RemoteReceiver:
    """Parent side: start the receiver process, ask it for counts, stop it."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._selector = selectors.DefaultSelector()
        self.logs_endpoint = ""
        self.grpc_endpoint = ""

    def __enter__(self) -> RemoteReceiver:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._remote"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
            bufsize=0,
        )
        assert self._process.stdout is not None
        self._selector.register(self._process.stdout, selectors.EVENT_READ)
        try:
            endpoints = json.loads(self._read_line(_START_TIMEOUT))
        except BaseException:
            self._stop()
            raise
        self.logs_endpoint, self.grpc_endpoint = endpoints["http"], endpoints["grpc"]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _read_line(self, timeout: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        if not self._selector.select(timeout):
            raise TimeoutError(f"receiver process did not answer within {timeout:.0f} s")
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"receiver process exited (code {self._process.poll()})")
        return line.decode()

    def _ask(self, command: str, wait: float = 0.0) -> int:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(f"{command}\n".encode())
        return int(self._read_line(wait + _REPLY_MARGIN))

    def reset(self) -> None:
        self._ask("reset")

    def count(self) -> int:
        return self._ask("count")

    def wait_for(self, count: int, timeout: float) -> int:
        """Logs received since the last reset, once `count` arrived or `timeout` passed."""
        return self._ask(f"wait {count} {timeout}", wait=timeout)

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        self._selector.close()
        try:
            assert process.stdin is not None
            process.stdin.write(b"quit\n")
            process.stdin.close()
        except OSError:
            pass  # already gone
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    _serve(sys.stdin, sys.stdout)
