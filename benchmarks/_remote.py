"""A real OTLP receiver in another process, so its decoding does not share our GIL.

Run as ``python -m benchmarks._remote``: it serves OTLP/HTTP (protobuf) and OTLP/gRPC log exports
on 127.0.0.1, prints its endpoints as one JSON line, then answers one line per command read from
stdin: ``count``, ``reset`` (forget what arrived), ``wait N SECONDS`` (until N logs arrived or the
time passed), ``delay SECONDS`` (answer each export that much later: a busy collector),
``quit``. Every answer is the number of logs received since the last reset.
`RemoteReceiver` is the parent's side.

It decodes each request with the official proto package and counts its log records, as fast as
that decoding goes (about 1 µs a record), and answers at once, as a collector does. The test
suite's `OtlpReceiver` also turns every attribute into Python values, some 60 µs a record on a
slow machine: a receiver that slow would cap the delivered rate of whichever pipeline it serves.
"""

from __future__ import annotations

import gzip
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import IO, Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from benchmarks._common import ROOT

_START_TIMEOUT = 30.0
_REPLY_MARGIN = 10.0  # beyond a command's own wait
_LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"
_RESPONSE = ExportLogsServiceResponse().SerializeToString()


class _Count:
    """Log records received since the last reset."""

    def __init__(self) -> None:
        self.received = 0
        self.delay = 0.0
        self.cond = threading.Condition()

    def add_request(self, body: bytes) -> None:
        if self.delay:
            time.sleep(self.delay)
        request = ExportLogsServiceRequest.FromString(body)
        records = sum(len(s.log_records) for r in request.resource_logs for s in r.scope_logs)
        with self.cond:
            self.received += records
            self.cond.notify_all()

    def at_least(self, count: int) -> Callable[[], bool]:
        return lambda: self.received >= count


def _http_server(count: _Count) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the exporters' sessions expect

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                body = gzip.decompress(body)
            count.add_request(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(_RESPONSE)))
            self.end_headers()
            self.wfile.write(_RESPONSE)

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def _grpc_server(count: _Count) -> tuple[Any, int]:
    import grpc

    def export(body: bytes, context: Any) -> bytes:
        count.add_request(body)
        return _RESPONSE

    # Raw bytes both ways: the request is decoded once, in `add_request`.
    method = grpc.unary_unary_rpc_method_handler(export)
    handler = grpc.method_handlers_generic_handler(_LOGS_SERVICE, {"Export": method})
    server = grpc.server(
        ThreadPoolExecutor(max_workers=4),
        handlers=[handler],
        options=[("grpc.so_reuseport", 0)],
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def _serve(stdin: IO[str], stdout: IO[str]) -> None:
    count = _Count()
    http = _http_server(count)
    threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    grpc_server, grpc_port = _grpc_server(count)
    try:
        endpoints = {
            "http": f"http://127.0.0.1:{http.server_address[1]}/v1/logs",
            "grpc": f"http://127.0.0.1:{grpc_port}",
        }
        print(json.dumps(endpoints), file=stdout, flush=True)
        for line in stdin:  # ends when the parent closes our stdin
            command, *args = line.split()
            if command == "quit":
                break
            with count.cond:
                if command == "reset":
                    count.received = 0
                elif command == "delay":
                    count.delay = float(args[0])
                elif command == "wait":
                    count.cond.wait_for(count.at_least(int(args[0])), timeout=float(args[1]))
                print(count.received, file=stdout, flush=True)
    finally:
        http.shutdown()
        grpc_server.stop(grace=None)


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

    def delay(self, seconds: float) -> None:
        """Answer each export `seconds` later from now on (0: at once)."""
        self._ask(f"delay {seconds}")

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
