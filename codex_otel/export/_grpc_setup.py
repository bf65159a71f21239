"""What gRPC reads from the environment once, at its first import: set before it, unless the
host chose otherwise.

- `GRPC_ENABLE_FORK_SUPPORT=false`: gRPC's fork handlers run in a forked child even when
  another thread is inside gRPC at the fork ("Other threads are currently calling into
  gRPC, skipping fork() handlers"), and the child then died of a segmentation fault, about
  once in a few hundred forks under load. A forked child never uses the parent's gRPC
  exporters (they stop there, see `_provider`), so it needs no handler; gRPC's own Python
  layer already defaults to off (grpc/grpc#41455 explains the mixed default).
- `GRPC_VERBOSITY=ERROR`, gRPC's documented default: its core otherwise prints INFO lines
  (a failed TLS handshake, the fork notice above) on the host's stderr.
"""

from __future__ import annotations

import os

__all__ = ["before_importing_grpc"]

_DEFAULTS = {"GRPC_ENABLE_FORK_SUPPORT": "false", "GRPC_VERBOSITY": "ERROR"}


def before_importing_grpc() -> None:
    """Set gRPC's defaults above where the environment does not set them already."""
    for name, value in _DEFAULTS.items():
        os.environ.setdefault(name, value)
