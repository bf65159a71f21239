"""Replay the recorded app-server session through an AnalyticsClient and print its track events.

    python examples/analytics_replay.py [RECORDING]

The same as `codex-otel analytics replay examples/analytics/session.jsonl`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from codex_otel.analytics import replay

RECORDING = Path(__file__).parent / "analytics" / "session.jsonl"


def main(argv: list[str]) -> int:
    return replay(argv[0] if argv else RECORDING, sys.stdout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
