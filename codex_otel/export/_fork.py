"""What a forked child does with what it inherited: a reset for objects whose worker threads
do not survive the fork, and connections of its own for every HTTP client."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import Any

from ._private_http import empty_pool_manager_like, renew_adapter_pools
from ._private_sdk_exporters import (
    http_transport,
    http_transport_pool,
    http_transport_session,
    replace_http_transport_pool,
)

__all__ = [
    "keep_inherited",
    "load_lazy_http_modules",
    "renew_http_connections_in_child",
    "reset_in_forked_child",
]

# What a forked child inherited and must neither use nor let be collected: closing a pool's
# connections takes the pool's lock, which a parent thread may have held at the fork (the
# child would wait forever), and what is closed is the parent's, not the child's.
_inherited: list[object] = []


def keep_inherited(thing: object) -> None:
    """Keep `thing`, a parent's connection pool or client, alive and untouched in a child."""
    _inherited.append(thing)


def reset_in_forked_child(reset: Callable[[], object]) -> None:
    """Call the bound method `reset` in every forked child, for as long as its object lives
    (the hook holds it weakly: it never keeps the object alive)."""
    if not hasattr(os, "register_at_fork"):
        return
    weak_reset = weakref.WeakMethod(reset)

    def after_in_child() -> None:
        bound = weak_reset()
        if bound is not None:
            bound()

    os.register_at_fork(after_in_child=after_in_child)


def load_lazy_http_modules() -> None:
    """Import now, on the host's thread, what HTTP clients import on first use.

    A module being imported by an exporting thread when the process forks stays half-made in
    the child, its import lock held for good: the child's first request then fails (the
    `idna` codec, looked up when a host name is first encoded: "unknown encoding: idna") or
    waits forever. Found by listing what a first export of each signal imports: the `idna`
    codec, and `netrc` (with `shlex`), which `requests` imports to look for credentials.
    """
    import encodings.idna  # noqa: F401
    import netrc  # noqa: F401


def renew_http_connections_in_child(exporter: object) -> None:
    """Give an OTLP/HTTP exporter new, empty connection pools in every forked child.

    A child inherits the parent's pooled keep-alive connections: both processes would write
    requests into one socket, their bytes interleaved (the collector answers 400), and a pool
    lock the parent's exporting thread held at the fork stays held in the child. The SDK's
    exporters' HTTP transport holds a `requests` session or a urllib3 `PoolManager`.
    """
    if not hasattr(os, "register_at_fork"):
        return
    load_lazy_http_modules()
    weak_exporter = weakref.ref(exporter)

    def after_in_child() -> None:
        transport = http_transport(weak_exporter())
        if transport is not None:
            _renew_transport(transport)

    os.register_at_fork(after_in_child=after_in_child)


def _renew_transport(transport: Any) -> None:
    session = http_transport_session(transport)
    for adapter in getattr(session, "adapters", {}).values():
        # requests' HTTPAdapter: its pool manager and proxy managers, built anew.
        keep_inherited((adapter.poolmanager, adapter.proxy_manager))
        adapter.proxy_manager = {}
        renew_adapter_pools(adapter)
    pool = http_transport_pool(transport)
    if pool is not None and hasattr(pool, "connection_pool_kw"):
        keep_inherited(pool)
        replace_http_transport_pool(transport, empty_pool_manager_like(pool))
