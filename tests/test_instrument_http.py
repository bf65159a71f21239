"""The httpx and httpx2 transports, sync and async, against a real local HTTP server.

Each test of `MODES` runs with `httpx` (`InstrumentedTransport`, ...) and with `httpx2`
(`Httpx2InstrumentedTransport`, ...): the records must be the same.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import httpx
import httpx2
import pytest

from codex_otel import OtelEventManager, OtelProvider
from codex_otel._errors import set_strict
from codex_otel.instrument import (
    AsyncHttpx2InstrumentedTransport,
    AsyncInstrumentedTransport,
    Httpx2InstrumentedTransport,
    InstrumentedTransport,
)
from tests.conftest import METADATA, Exported, expect, request_auth
from tests.fake_api import CF_RAY, FakeApi

MODES = ["sync", "async", "httpx2-sync", "httpx2-async"]
API = "codex.api_request"
Outcome = httpx.Response | httpx2.Response | Exception
RESPONSE = (httpx.Response, httpx2.Response)


def send_all(manager: OtelEventManager, mode: str, calls: list[dict[str, Any]]) -> list[Outcome]:
    """Send each call (Client.request kwargs) through one instrumented client."""
    if mode.endswith("async"):
        return asyncio.run(_send_all_async(manager, mode, calls))
    client: Any
    if mode.startswith("httpx2"):
        client = httpx2.Client(transport=Httpx2InstrumentedTransport(manager), timeout=5.0)
    else:
        client = httpx.Client(transport=InstrumentedTransport(manager), timeout=5.0)
    out: list[Outcome] = []
    with client:
        for call in calls:
            try:
                out.append(client.request(**call))
            except Exception as exc:
                out.append(exc)
    return out


async def _send_all_async(
    manager: OtelEventManager, mode: str, calls: list[dict[str, Any]]
) -> list[Outcome]:
    client: Any
    if mode.startswith("httpx2"):
        transport = AsyncHttpx2InstrumentedTransport(manager)
        client = httpx2.AsyncClient(transport=transport, timeout=5.0)
    else:
        client = httpx.AsyncClient(transport=AsyncInstrumentedTransport(manager), timeout=5.0)
    out: list[Outcome] = []
    async with client:
        for call in calls:
            try:
                out.append(await client.request(**call))
            except Exception as exc:
                out.append(exc)
    return out


def request(attempt: int, endpoint: str = "/json", **fields: Any) -> dict[str, Any]:
    """A request's event: `attempt` counted from 1, as the transports do (Codex's from 0)."""
    return expect(API, attempt=attempt - 1, duration_ms="<ms>", **request_auth(endpoint), **fields)


def answered(attempt: int, status: int, endpoint: str = "/json") -> dict[str, Any]:
    return request(
        attempt,
        endpoint,
        cf_ray=CF_RAY,
        **{"http.response.status_code": status, "auth.cf_ray": CF_RAY},
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there now: connecting is refused


@pytest.mark.parametrize("mode", MODES)
def test_a_response_records_status_and_cf_ray_and_reaches_the_caller(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    (response,) = send_all(
        exported.manager, mode, [{"method": "POST", "url": f"{fake_api.url}/v1/json", "json": [1]}]
    )
    assert isinstance(response, RESPONSE)
    assert (response.status_code, response.json()) == (200, {"ok": True, "echo": [1]})
    assert response.headers["cf-ray"] == CF_RAY
    assert exported.records() == [answered(1, 200)]


@pytest.mark.parametrize("mode", MODES)
def test_an_error_status_is_recorded_as_a_status_not_an_error(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    (response,) = send_all(
        exported.manager, mode, [{"method": "GET", "url": f"{fake_api.url}/v1/status/429"}]
    )
    assert isinstance(response, RESPONSE)
    assert (response.status_code, response.json()) == (429, {"error": {"message": "status 429"}})
    assert exported.records() == [answered(1, 429, "/status/429")]


@pytest.mark.parametrize("mode", MODES)
def test_a_transport_error_records_its_message_and_reaches_the_caller_unchanged(
    exported: Exported, mode: str
) -> None:
    (error,) = send_all(
        exported.manager, mode, [{"method": "GET", "url": f"http://127.0.0.1:{closed_port()}/"}]
    )
    assert isinstance(error, (httpx.ConnectError, httpx2.ConnectError))
    assert exported.records() == [request(1, "/", **{"error.message": str(error)})]


@pytest.mark.parametrize("mode", MODES)
def test_the_caller_can_give_the_attempt_as_a_request_extension(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    url = f"{fake_api.url}/v1/json"
    send_all(
        exported.manager,
        mode,
        [
            {"method": "GET", "url": url, "extensions": {"codex_otel.attempt": 3}},
            {"method": "GET", "url": url, "extensions": {"codex_otel.attempt": 7}},
        ],
    )
    assert exported.records() == [answered(3, 200), answered(7, 200)]


@pytest.mark.parametrize("mode", MODES)
def test_a_retried_request_counts_up_until_it_succeeds(
    exported: Exported, fake_api: FakeApi, mode: str
) -> None:
    url = f"{fake_api.url}/v1/flaky"
    turn_1 = {"method": "POST", "url": url, "json": {"input": "turn 1"}}
    turn_2 = {"method": "POST", "url": url, "json": {"input": "turn 2"}}
    fail = {"headers": {"x-fail": "1"}}  # headers are not part of what makes a request the same
    outcomes = send_all(
        exported.manager,
        mode,
        # turn 1 fails twice and is retried until it succeeds; sent again later it is a
        # new request; turn 2's failure is its own, not a retry of turn 1.
        [{**turn_1, **fail}, {**turn_1, **fail}, turn_1, turn_1, {**turn_2, **fail}, turn_2],
    )
    statuses = [o.status_code for o in outcomes if isinstance(o, RESPONSE)]
    assert statuses == [503, 503, 200, 200, 503, 200]
    assert exported.records() == [
        answered(1, 503, "/flaky"),
        answered(2, 503, "/flaky"),
        answered(3, 200, "/flaky"),
        answered(1, 200, "/flaky"),
        answered(1, 503, "/flaky"),
        answered(2, 200, "/flaky"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_a_request_that_raised_counts_as_a_failed_attempt(exported: Exported, mode: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1/responses"
    errors = send_all(exported.manager, mode, [{"method": "POST", "url": url, "json": {}}] * 2)
    assert exported.records() == [
        request(1, "/responses", **{"error.message": str(errors[0])}),
        request(2, "/responses", **{"error.message": str(errors[1])}),
    ]


def test_a_streaming_response_is_recorded_at_its_headers_and_its_body_left_unread(
    exported: Exported, fake_api: FakeApi
) -> None:
    transport = InstrumentedTransport(exported.manager)
    with (
        httpx.Client(transport=transport, timeout=5.0) as client,
        client.stream("POST", f"{fake_api.url}/v1/sse/end") as response,
    ):
        assert not response.is_stream_consumed and not response.is_closed
        body = response.read().decode()
    assert body.startswith("event: response.created\ndata: ")
    assert exported.records() == [answered(1, 200, "/sse/end")]


def test_an_async_streaming_response_body_is_left_to_the_caller(
    exported: Exported, fake_api: FakeApi
) -> None:
    async def main() -> str:
        transport = AsyncInstrumentedTransport(exported.manager)
        async with (
            httpx.AsyncClient(transport=transport, timeout=5.0) as client,
            client.stream("POST", f"{fake_api.url}/v1/sse/end") as response,
        ):
            assert not response.is_stream_consumed and not response.is_closed
            return (await response.aread()).decode()

    assert asyncio.run(main()).startswith("event: response.created\ndata: ")
    assert exported.records() == [answered(1, 200, "/sse/end")]


class _ClosingTransport(httpx.HTTPTransport):
    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


class _AsyncClosingTransport(httpx.AsyncHTTPTransport):
    closed = False

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


def test_it_wraps_the_inner_transport_given_and_closes_it(
    exported: Exported, fake_api: FakeApi
) -> None:
    inner = _ClosingTransport(retries=1)
    with httpx.Client(transport=InstrumentedTransport(exported.manager, inner)) as client:
        assert client.get(f"{fake_api.url}/v1/json").status_code == 200
    assert inner.closed
    assert exported.records() == [answered(1, 200)]


def test_the_async_transport_wraps_the_inner_transport_given_and_closes_it(
    exported: Exported, fake_api: FakeApi
) -> None:
    inner = _AsyncClosingTransport()

    async def main() -> int:
        transport = AsyncInstrumentedTransport(exported.manager, inner)
        async with httpx.AsyncClient(transport=transport) as client:
            return (await client.get(f"{fake_api.url}/v1/json")).status_code

    assert asyncio.run(main()) == 200
    assert inner.closed
    assert exported.records() == [answered(1, 200)]


def test_a_non_integer_attempt_extension_is_reported_once_and_the_attempt_counted(
    exported: Exported, fake_api: FakeApi, caplog: pytest.LogCaptureFixture
) -> None:
    set_strict(False)  # as in production: reported and swallowed
    url = f"{fake_api.url}/v1/json"
    call = {"method": "GET", "url": url, "extensions": {"codex_otel.attempt": "2"}}
    with caplog.at_level(logging.WARNING, logger="codex_otel"):
        outcomes = send_all(exported.manager, "sync", [call, call])
    assert [o.status_code for o in outcomes if isinstance(o, RESPONSE)] == [200, 200]
    assert [r.getMessage() for r in caplog.records] == [
        "codex_otel: reading the codex_otel.attempt extension failed (TypeError: request "
        "extension 'codex_otel.attempt' must be an int, got str); telemetry carries on without it"
    ]
    assert exported.records() == [answered(1, 200), answered(1, 200)]


def test_with_no_exporter_requests_pass_through(fake_api: FakeApi) -> None:
    manager = OtelEventManager(OtelProvider(None), **METADATA)
    outcomes = send_all(manager, "sync", [{"method": "GET", "url": f"{fake_api.url}/v1/json"}])
    assert [o.status_code for o in outcomes if isinstance(o, RESPONSE)] == [200]


# -- httpx2: the library of the OpenAI and Anthropic SDKs ----------------------------------


def test_an_httpx2_streaming_response_body_is_left_to_the_caller(
    exported: Exported, fake_api: FakeApi
) -> None:
    transport = Httpx2InstrumentedTransport(exported.manager)
    with (
        httpx2.Client(transport=transport, timeout=5.0) as client,
        client.stream("POST", f"{fake_api.url}/v1/sse/end") as response,
    ):
        assert not response.is_stream_consumed and not response.is_closed
        body = response.read().decode()
    assert body.startswith("event: response.created\ndata: ")
    assert exported.records() == [answered(1, 200, "/sse/end")]


class _ClosingHttpx2Transport(httpx2.HTTPTransport):
    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


class _AsyncClosingHttpx2Transport(httpx2.AsyncHTTPTransport):
    closed = False

    async def aclose(self) -> None:
        self.closed = True
        await super().aclose()


def test_the_httpx2_transports_wrap_the_inner_transport_given_and_close_it(
    exported: Exported, fake_api: FakeApi
) -> None:
    inner = _ClosingHttpx2Transport()
    transport = Httpx2InstrumentedTransport(exported.manager, inner)
    assert transport.inner is inner
    with httpx2.Client(transport=transport) as client:
        assert client.get(f"{fake_api.url}/v1/json").status_code == 200
    async_inner = _AsyncClosingHttpx2Transport()

    async def main() -> int:
        async_transport = AsyncHttpx2InstrumentedTransport(exported.manager, async_inner)
        async with httpx2.AsyncClient(transport=async_transport) as client:
            return (await client.get(f"{fake_api.url}/v1/json")).status_code

    assert asyncio.run(main()) == 200
    assert (inner.closed, async_inner.closed) == (True, True)
    assert exported.records() == [answered(1, 200), answered(1, 200)]
