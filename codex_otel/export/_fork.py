"""What a forked child does with what it inherited: a reset for objects whose worker threads
do not survive the fork, and connections of its own for every HTTP client."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

__all__ = [
    "fresh_metrics_locks",
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
    exporters keep their HTTP transport at `exporter._client._transport`: a `requests`
    session (`_session`) or a urllib3 `PoolManager` (`_pool`).
    """
    if not hasattr(os, "register_at_fork"):
        return
    load_lazy_http_modules()
    weak_exporter = weakref.ref(exporter)

    def after_in_child() -> None:
        live = weak_exporter()
        transport = getattr(getattr(live, "_client", None), "_transport", None)
        # The OTLP/JSON ones are wrapped (`_sdk_private._ProbedTransport`): renew the one
        # inside, whose pool the requests go through.
        transport = getattr(transport, "_transport", transport)
        if transport is not None:
            _renew_transport(transport)

    os.register_at_fork(after_in_child=after_in_child)


def _renew_transport(transport: Any) -> None:
    session = getattr(transport, "_session", None)
    for adapter in getattr(session, "adapters", {}).values():
        # requests' HTTPAdapter: its pool manager and proxy managers, built anew.
        keep_inherited((adapter.poolmanager, adapter.proxy_manager))
        adapter.proxy_manager = {}
        adapter.init_poolmanager(
            adapter._pool_connections, adapter._pool_maxsize, block=adapter._pool_block
        )
    pool = getattr(transport, "_pool", None)
    if pool is not None and hasattr(pool, "connection_pool_kw"):
        keep_inherited(pool)
        transport._pool = type(pool)(
            num_pools=pool.pools._maxsize, headers=pool.headers, **pool.connection_pool_kw
        )


def fresh_metrics_locks(meter_provider: Any) -> None:
    """In a forked child: new locks throughout the SDK's metrics state.

    The SDK's reader thread holds its storage, instrument and aggregation locks while it
    collects, and its export lock while it exports; a fork at that moment leaves them held in
    the child for good, and the child's first measurement or its exit-time collection waits
    forever. The child is single-threaded here, so nothing else holds them. What they guard
    is left as it was (plain Python objects, consistent under the GIL), except what was
    measured and not yet collected: the parent exports that, and the child, exporting it too,
    would count it twice; the child's series start anew.
    """
    consumer = getattr(meter_provider, "_measurement_consumer", None)
    if consumer is None:
        return
    consumer._lock = threading.Lock()
    for reader, storage in getattr(consumer, "_reader_storages", {}).items():
        if hasattr(reader, "_export_lock"):
            reader._export_lock = threading.Lock()
        storage._lock = threading.RLock()
        for matches in storage._instrument_view_instrument_matches.values():
            for match in matches:
                match._lock = threading.Lock()
                # Measured before the fork, not yet collected: the parent exports those.
                match._attributes_aggregation = {}
