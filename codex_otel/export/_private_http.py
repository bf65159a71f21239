"""The private attributes of the HTTP libraries (requests, urllib3, httpx2, httpcore2) this
package touches.

The `export/_private_*.py` modules are the only place this package touches private
attributes of other libraries (`tests/test_layout_private.py` keeps it so): each names what
it touches, and its test (here `tests/test_private_http.py`) fails if a release inside the
pinned range renames one. Each reaches them with `getattr(..., None)`, so a rename never
breaks the host: that test is what hears of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx2

__all__ = ["empty_pool_manager_like", "renew_adapter_pools", "wrap_network_backends"]


def renew_adapter_pools(adapter: Any) -> None:
    """Give a `requests` `HTTPAdapter` a new, empty pool manager, sized as its own was (by
    the `_pool_connections`, `_pool_maxsize` and `_pool_block` it was built with)."""
    adapter.init_poolmanager(
        adapter._pool_connections, adapter._pool_maxsize, block=adapter._pool_block
    )


def empty_pool_manager_like(pool: Any) -> Any:
    """A new, empty urllib3 `PoolManager` built as `pool` was (its pool count is
    `pools._maxsize`, a private of urllib3's `RecentlyUsedContainer`)."""
    return type(pool)(
        num_pools=pool.pools._maxsize, headers=pool.headers, **pool.connection_pool_kw
    )


def wrap_network_backends(client: httpx2.Client, wrap: Callable[[Any], Any]) -> None:
    """Have every connection pool of an httpx2 client (one per proxy mount too) connect
    through `wrap(its own network backend)`.

    httpx2 builds its pools without a way to pass a backend: it is set on each after the
    fact, through the client's `_transport` and `_mounts`, each transport's `_pool` and each
    httpcore2 pool's `_network_backend`.
    """
    for transport in [client._transport, *client._mounts.values()]:
        pool = getattr(transport, "_pool", None)
        inner = getattr(pool, "_network_backend", None)
        if inner is not None:
            pool._network_backend = wrap(inner)  # type: ignore[union-attr]
