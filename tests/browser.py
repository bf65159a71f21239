"""Debian's chromium, headless, driven over the DevTools protocol on a pipe (no websocket
client, no browser download): load a page, read what it shows, take a screenshot.

`.ci/install-chromium` installs chromium where it is missing (`make test` runs it).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import itertools
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
_REPLY_SECONDS = 30.0

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


def _above_4(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class Browser:
    """One headless chromium with a fresh profile; one page at a time."""

    def __init__(self) -> None:
        self._profile = tempfile.mkdtemp(prefix="codex-otel-chromium-")
        self._ids = itertools.count(1)
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._session = ""
        # The DevTools pipe: chromium reads commands on its fd 3 and writes on its fd 4.
        commands_read, self._commands = os.pipe()
        self._events, events_write = os.pipe()
        # Moved above 9 first, so bash's `3<&N 4>&M` cannot overwrite one with the other.
        commands_read, events_write = _above_4(commands_read), _above_4(events_write)
        script = f'exec "$0" "$@" 3<&{commands_read} 4>&{events_write}'
        self._process = subprocess.Popen(
            ["bash", "-c", script, str(CHROMIUM), *FLAGS, f"--user-data-dir={self._profile}"],
            pass_fds=(commands_read, events_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(events_write)
        self._reader = threading.Thread(target=self._read, name="chromium-devtools", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._events, 1 << 16)
            if not chunk:
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                reply = json.loads(message)
                with self._lock:
                    waiting = self._replies.get(reply.get("id", -1))
                if waiting is not None:
                    waiting.put(reply)

    def call(self, method: str, session: bool = True, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and wait for its reply."""
        ident = next(self._ids)
        waiting: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._replies[ident] = waiting
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session and self._session:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        try:
            reply = waiting.get(timeout=_REPLY_SECONDS)
        except queue.Empty:
            raise TimeoutError(
                f"chromium did not answer {method} within {_REPLY_SECONDS} s"
            ) from None
        finally:
            with self._lock:
                del self._replies[ident]
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    def open(self, url: str, width: int = 1400, height: int = 1800) -> None:
        target = self.call("Target.createTarget", session=False, url="about:blank")
        attached = self.call(
            "Target.attachToTarget", session=False, targetId=target["targetId"], flatten=True
        )
        self._session = attached["sessionId"]
        self.call("Page.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression: str, timeout: float = 60.0) -> Any:
        """Evaluate until it gives a truthy value (the page polls its server every second).
        The bound is generous: a page next to a busy test suite on 2 cores once took > 20 s."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def screenshot(self, name: str, selector: str | None = None) -> Path:
        """A PNG of the whole page (or of the first element `selector` finds), kept under
        test-artifacts/ (gitignored)."""
        clip = {}
        if selector is not None:
            box = self.evaluate(
                f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                ".getBoundingClientRect(); return {x: r.left + window.scrollX, "
                "y: r.top + window.scrollY, width: r.width, height: r.height, scale: 1}; })()"
            )
            clip = {"clip": box}
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True, **clip)
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with contextlib.suppress(RuntimeError, OSError, queue.Empty):
            self.call("Browser.close", session=False)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        os.close(self._commands)
        self._reader.join(timeout=5)
        os.close(self._events)
        shutil.rmtree(self._profile, ignore_errors=True)
