"""One list of secret names and shapes, the same for span URLs, error messages, tool
payloads and prompts."""

from __future__ import annotations

import httpx
import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel._config import ToolResultConfig
from codex_otel._content import ContentPolicy
from codex_otel.catalog import SECRET_MARKER, safe_url
from codex_otel.instrument import InstrumentedTransport
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA
from tests.fake_api import FakeApi

NAMES = [
    "access_token",
    "token",
    "password",
    "client_secret",
    "api-key",
    "api_key",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Amz-Credential",
    "key",
    "sig",
    "signature",
    "X-Goog-Signature",
    "AWSAccessKeyId",
    "authorization",
    "Proxy-Authorization",
    "auth[token]",
    "user.password",
]
# Fake keys, in the providers' shapes.
KEYS = [
    "sk_live_" + "a1B2c3D4e5F6g7H8i9J0",
    "rk_live_" + "a1B2c3D4e5F6g7H8i9J0",
    "sk_test_" + "a1B2c3D4e5F6g7H8i9J0",
    "ASIA" + "QWERTYUIOPASDFGH",
    "AKIA" + "QWERTYUIOPASDFGH",
    "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "glpat-" + "abcdefghij0123456789",
]
# Every shape a key in a URL takes: the providers' keys, OpenAI's project keys, a JWT.
URL_KEYS = [
    *KEYS,
    "sk-proj-" + "abcdefghijklmnopqrstuvwx",
    "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0In0." + "sflKxwRJSMeKKF2QT4fwpM",
]
POLICY = ContentPolicy.from_config(ToolResultConfig(max_bytes=100_000))


@pytest.mark.parametrize("name", NAMES)
def test_a_secret_query_parameter_is_redacted_in_url_full(name: str) -> None:
    url = f"https://storage.example/bucket/object?page=2&{name}=hunter2&monkey=banana"
    assert safe_url(url) == (
        f"https://storage.example/bucket/object?page=2&{name}=REDACTED&monkey=banana"
    )


@pytest.mark.parametrize("name", NAMES)
def test_the_same_names_are_scrubbed_from_error_messages_and_payloads(name: str) -> None:
    message = f"GET https://storage.example/o?{name}=hunter2&page=2 failed: 403"
    assert POLICY.scrub_field(message) == (
        f"GET https://storage.example/o?{name}={SECRET_MARKER}&page=2 failed: 403"
    )
    assert POLICY.scrub(f'{{"{name}": "hunter2", "page": 2}}') == (
        f'{{"{name}": "{SECRET_MARKER}", "page": 2}}'
    )


@pytest.mark.parametrize("key", KEYS)
def test_key_shapes_are_scrubbed_from_payloads_prompts_and_errors(key: str) -> None:
    assert POLICY.scrub(f"use {key} for this") == f"use {SECRET_MARKER} for this"
    assert POLICY.prompt(f"my key is {key}.") == f"my key is {SECRET_MARKER}."
    assert POLICY.scrub_field(f"auth failed for {key}") == f"auth failed for {SECRET_MARKER}"


@pytest.mark.parametrize("text", ["monkey=banana", "turkey: sandwich", "design=flat"])
def test_short_names_inside_other_words_are_left_alone(text: str) -> None:
    assert POLICY.scrub(text) == text


@pytest.mark.parametrize("key", URL_KEYS)
def test_a_key_shape_in_a_query_value_or_a_path_segment_is_redacted_in_url_full(
    key: str,
) -> None:
    url = f"https://api.example/v1/{key}/charges?page=2&q={key}&monkey=banana"
    assert safe_url(url) == (
        "https://api.example/v1/REDACTED/charges?page=2&q=REDACTED&monkey=banana"
    )


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        pytest.param(
            "https://app.example/cb#access_token=FRAG1&token_type=bearer",
            "https://app.example/cb",
            id="fragment-dropped",
        ),
        pytest.param(
            "https://h.example/p?Authorization=Bearer%20abcdefghijkl",
            "https://h.example/p?Authorization=REDACTED",
            id="authorization-parameter",
        ),
        pytest.param(
            "https://h.example/p?q=sk%2Dproj%2Dabcdefghijklmnopqrstuvwx",
            "https://h.example/p?q=REDACTED",
            id="percent-encoded-key",
        ),
        pytest.param(
            "https://h.example/p?sk-proj-abcdefghijklmnopqrstuvwx&x=1",
            "https://h.example/p?REDACTED&x=1",
            id="key-without-a-name",
        ),
        pytest.param(
            "https://h.example/s?q=a+b&token=t0&x=%20y&flag",
            "https://h.example/s?q=a+b&token=REDACTED&x=%20y&flag",
            id="the-rest-as-written",
        ),
    ],
)
def test_url_full_keeps_no_credential_and_the_rest_as_written(url: str, safe: str) -> None:
    assert safe_url(url) == safe


def test_a_request_whose_url_holds_keys_exports_none_of_them(
    receiver: OtlpReceiver, fake_api: FakeApi
) -> None:
    config = OtelConfig.from_mapping(
        {
            "exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}},
            "trace_exporter": {"otlp-http": {"endpoint": receiver.traces_endpoint}},
        }
    )
    provider = OtelProvider.from_config(config)
    manager = OtelEventManager(provider, **METADATA)
    stripe, openai, aws = KEYS[0], URL_KEYS[-2], KEYS[4]
    url = f"{fake_api.url}/v1/{stripe}/charges?q={openai}&id={aws}&page=2#access_token=FRAG1"
    with httpx.Client(transport=InstrumentedTransport(manager)) as client:
        assert client.get(url).status_code == 404
    provider.shutdown()
    port = int(fake_api.url.rsplit(":", 1)[1])
    [span] = receiver.spans
    assert span.attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-5-codex",
        "http.request.method": "GET",
        "server.address": "127.0.0.1",
        "server.port": port,
        "url.full": f"http://127.0.0.1:{port}/v1/REDACTED/charges?q=REDACTED&id=REDACTED&page=2",
        "http.response.status_code": 404,
        "error.type": "404",
    }
    [event] = receiver.logs
    assert event.attributes["endpoint"] == "/REDACTED/charges"
    for secret in (stripe, openai, aws, "FRAG1"):
        assert secret not in repr(receiver.spans) + repr(receiver.logs)
