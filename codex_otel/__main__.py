"""`python -m codex_otel` is `codex-otel`."""

import sys

from .cli import main

sys.exit(main())
