"""The private attribute of grpc that `codex_otel.export._private_grpc` names is still there, in
the form used: a server call's `:authority`, which the receivers check is a loopback one.

Reached so that a rename never breaks the host (the call is then answered, unchecked): this
test fails instead. Over a real grpc server and client on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest

from codex_otel.export._private_grpc import call_authority

METHOD = "/test.Authority/Echo"


@pytest.fixture
def authority_server() -> Iterator[tuple[int, list[str | None]]]:
    seen: list[str | None] = []

    def echo(request: bytes, context: Any) -> bytes:
        seen.append(call_authority(context))
        return request

    handler = grpc.method_handlers_generic_handler(
        "test.Authority",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo)},
    )
    server = grpc.server(ThreadPoolExecutor(max_workers=1))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port, seen
    finally:
        server.stop(None).wait(5)


@pytest.mark.parametrize("given", [None, "evil.example:4317"])
def test_a_server_call_gives_the_authority_it_was_addressed_to(
    authority_server: tuple[int, list[str | None]], given: str | None
) -> None:
    port, seen = authority_server
    options = [] if given is None else [("grpc.default_authority", given)]
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        echo = channel.unary_unary(METHOD)
        assert echo(b"ping", timeout=10) == b"ping"
    assert seen == [given or f"127.0.0.1:{port}"]


def test_a_context_without_call_details_gives_none() -> None:
    assert call_authority(object()) is None
