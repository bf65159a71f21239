"""Each `[otel]` table of the corpus (tests/data/codex-otel-tables/) started by the real Codex
CLI: `codex exec` must load the file and run its session (against the local fake Responses
API; the tables' exporters point at a closed local port), printing the warnings it gives for
what it drops. What codex_otel makes of the same tables is tests/test_config_codex.py's.

    python -m interop.check_configs --codex .interop/node_modules/.bin/codex
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .fake_responses import FakeResponses
from .run_codex import DEAD_PROXY, codex_exec

__all__ = ["check_table", "main"]

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "codex-otel-tables"
# Every exporter endpoint of the tables points where nothing listens.
DEAD = DEAD_PROXY
PROVIDER = """\
model = "gpt-5.1-codex"
model_provider = "interop"

[model_providers.interop]
name = "interop"
base_url = "{base_url}"
wire_api = "responses"
env_key = "OPENAI_API_KEY"
request_max_retries = 0
stream_max_retries = 0

"""


def check_table(codex: Path, table: Path, work: Path, base_url: str) -> tuple[bool, list[str]]:
    """Whether Codex started with `table`, and the configuration warnings it printed."""
    home = work / "codex-home"
    home.mkdir()
    text = table.read_text(encoding="utf-8")
    for marker, path in (("@LOGS@", "/v1/logs"), ("@METRICS@", "/v1/metrics")):
        text = text.replace(marker, DEAD + path)
    text = text.replace("@TRACES@", DEAD + "/v1/traces").replace("@GRPC@", DEAD)
    (home / "config.toml").write_text(PROVIDER.format(base_url=base_url) + text, encoding="utf-8")
    done = codex_exec(codex, home, work, "hi", CHECK_TOKEN="interop-token")
    output = done.stdout + done.stderr
    started = "session id:" in output and "Error loading config" not in output
    warnings = [
        line.strip()
        for line in output.splitlines()
        if ("otel" in line and ("ignor" in line.lower() or "invalid" in line.lower()))
    ]
    return started, list(dict.fromkeys(warnings))  # Codex says some twice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codex", type=Path, required=True, help="the codex executable")
    args = parser.parse_args(argv)
    failed = 0
    for table in sorted(CORPUS.glob("*.toml")):
        with FakeResponses() as api, tempfile.TemporaryDirectory(prefix="codex-config-") as work:
            started, warnings = check_table(args.codex, table, Path(work), api.base_url)
        print(f"{table.name}: {'loaded by Codex' if started else 'REFUSED by Codex'}")
        for line in warnings:
            print(f"  {line}")
        failed += not started
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
