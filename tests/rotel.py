"""rotel, an independent OpenTelemetry collector (Rust; its pip wheel ships the binary), run
on 127.0.0.1 between the package and a test receiver, as a collector sits in production."""

from __future__ import annotations

import os
import socket
import subprocess
import sysconfig
import time
from pathlib import Path
from types import TracebackType

import rotel

BINARY = Path(rotel.__file__).parent / "rotel-agent"
_START_SECONDS = 20.0


def _environment() -> dict[str, str]:
    """rotel's binary links the libpython of the interpreter its wheel was built for: on an
    interpreter built by pyenv or python.org (not the system's), that library sits in the
    interpreter's own LIBDIR, which the dynamic loader does not search by itself."""
    env = dict(os.environ)
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            part for part in (libdir, env.get("LD_LIBRARY_PATH")) if part
        )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


class Rotel:
    """`rotel start` receiving OTLP on two free ports and forwarding over gRPC to `target`."""

    def __init__(self, target: str, workdir: Path) -> None:
        self.grpc_port = _free_port()
        self.http_port = _free_port()
        self.log = workdir / "rotel.log"
        self.command = [
            str(BINARY),
            "start",
            "--otlp-grpc-endpoint",
            f"127.0.0.1:{self.grpc_port}",
            "--otlp-http-endpoint",
            f"127.0.0.1:{self.http_port}",
            "--exporter",
            "otlp",
            "--otlp-exporter-endpoint",
            target,
            "--otlp-exporter-protocol",
            "grpc",
            "--pid-file",
            str(workdir / "rotel.pid"),
            "--log-file",
            str(self.log),
        ]
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Rotel:
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_environment(),
            )
        deadline = time.monotonic() + _START_SECONDS
        while not (_accepts(self.http_port) and _accepts(self.grpc_port)):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"rotel did not start: {self.output()}")
            time.sleep(0.05)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def output(self) -> str:
        """What rotel logged (its errors say why a batch was dropped)."""
        return self.log.read_text(errors="replace")

    def exporter_table(self, transport: str, path: str = "/v1/logs") -> dict[str, object]:
        """An `[otel]` exporter table sending `transport` to this rotel."""
        if transport == "grpc":
            return {"otlp-grpc": {"endpoint": f"http://127.0.0.1:{self.grpc_port}"}}
        protocol = "json" if transport == "http/json" else "binary"
        endpoint = f"http://127.0.0.1:{self.http_port}{path}"
        return {"otlp-http": {"endpoint": endpoint, "protocol": protocol}}
