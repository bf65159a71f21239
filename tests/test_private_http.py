"""The private attributes of the HTTP libraries that `codex_otel.export._private_http` names
are still there, in the form used: a forked child's new connection pools (requests, urllib3)
and the analytics sink's whole-request deadline (httpx2, httpcore2).

They are reached with `getattr(..., None)` so a host never breaks: a release that renamed one
would turn the reset or the deadline into a silent no-op (a child writing into its parent's
connections, a trickling server holding the sink). These tests fail instead.
"""

from __future__ import annotations

import requests
import urllib3

from codex_otel.analytics._bounded_http import bounded_client
from codex_otel.export import _private_http as private


def test_a_requests_adapter_gets_a_new_pool_manager_sized_as_before() -> None:
    adapter = requests.adapters.HTTPAdapter(pool_connections=3, pool_maxsize=7, pool_block=True)
    before = adapter.poolmanager
    private.renew_adapter_pools(adapter)
    after = adapter.poolmanager
    assert after is not before
    assert (after.pools._maxsize, after.connection_pool_kw) == (3, before.connection_pool_kw)
    assert after.connection_pool_kw["maxsize"] == 7
    assert after.connection_pool_kw["block"] is True


def test_an_empty_urllib3_pool_manager_is_built_as_the_one_it_replaces() -> None:
    pool = urllib3.PoolManager(num_pools=4, headers={"x": "1"}, maxsize=2, timeout=5.0)
    pool.connection_from_url("http://127.0.0.1:9/")
    fresh = private.empty_pool_manager_like(pool)
    assert fresh is not pool and type(fresh) is type(pool)
    assert (fresh.pools._maxsize, fresh.headers, fresh.connection_pool_kw) == (
        4,
        {"x": "1"},
        pool.connection_pool_kw,
    )
    assert (len(pool.pools), len(fresh.pools)) == (1, 0)


def test_the_analytics_client_bounds_every_pool_by_the_request_deadline() -> None:
    with bounded_client(5.0) as client:
        pools = [t._pool for t in [client._transport, *client._mounts.values()]]  # type: ignore[attr-defined]
        assert pools
        names = {type(pool._network_backend).__name__ for pool in pools}
        assert names == {"DeadlineBackend"}
