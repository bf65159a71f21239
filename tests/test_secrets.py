"""One list of secret names and shapes, the same for span URLs, error messages, tool
payloads and prompts."""

from __future__ import annotations

import pytest

from codex_otel._config import ToolResultConfig
from codex_otel._content import ContentPolicy
from codex_otel._traces import safe_url
from codex_otel.catalog import SECRET_MARKER

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
