"""The private attribute of grpc this package touches: the `:authority` a call was addressed to.

The `export/_private_*.py` modules are the only place this package touches private
attributes of other libraries; `tests/test_private_grpc.py` fails if a grpcio release inside
the pinned range renames this one.
"""

from __future__ import annotations

from typing import Any

__all__ = ["call_authority"]


def call_authority(context: Any) -> str | None:
    """The `:authority` (the Host) a gRPC server call was addressed to. grpc's public context
    does not give it; its call details do (`_rpc_event.call_details.host`, the same since
    grpcio 1.0). None if they no longer do."""
    try:
        host = context._rpc_event.call_details.host
    except AttributeError:
        return None
    return host.decode("latin-1") if isinstance(host, bytes) else str(host)
