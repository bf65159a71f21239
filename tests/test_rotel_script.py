"""examples/collector/rotel.sh finds rotel in the project's environment, whatever python3 is
first on PATH (the README runs it as `sh examples/collector/rotel.sh`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_rotel_script_uses_the_projects_python_not_the_one_on_path() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTHON"))}
    env["PATH"] = "/usr/bin:/bin"  # a python3 there, if any, has no rotel
    result = subprocess.run(
        ["sh", "examples/collector/rotel.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # rotel was found; the script stops at the first setting it needs and was not given.
    assert result.returncode != 0
    assert "No module named" not in result.stderr
    assert "OTEL_BACKEND_ENDPOINT" in result.stderr, result.stderr
