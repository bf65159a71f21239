"""Scrubbing: every shape a secret takes is removed whole, in every free-text field that can
carry one (tool arguments and output, error messages, an exported prompt)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from codex_otel import OtelEventManager, OtelProvider, ToolResultConfig
from codex_otel._content import ContentPolicy
from codex_otel.catalog import SECRET_MARKER as S
from tests.conftest import METADATA, Exported, expect, request_auth

# (text, the secret in it, the whole scrubbed text).
SHAPES = [
    pytest.param(
        'password: "correct horse battery staple"',
        "correct horse battery staple",
        f'password: "{S}"',
        id="quoted-value-with-spaces",
    ),
    pytest.param(
        "redis://:p@ssw0rdTail@h:6379/0", "p@ssw0rdTail", f"redis://:{S}@h:6379/0", id="url-at"
    ),
    pytest.param(
        'cat > c.json <<< "{\\"password\\": \\"hunter2x\\", \\"port\\": 5432}"',
        "hunter2x",
        f'cat > c.json <<< "{{\\"password\\": \\"{S}\\", \\"port\\": 5432}}"',
        id="json-escaped",
    ),
    pytest.param("password='abc,defTAIL'", "abc,defTAIL", f"password='{S}'", id="single-quoted"),
    pytest.param("password=abc,defTAIL next", "abc,defTAIL", f"password={S} next", id="comma"),
    pytest.param(
        '{"password": "ab\\"cdTAIL", "user": "bob"}',
        'ab\\"cdTAIL',
        f'{{"password": "{S}", "user": "bob"}}',
        id="json-escaped-quote-inside",
    ),
    pytest.param(
        'secret: "never closed TAIL\nnext line',
        "never closed TAIL",
        f'secret: "{S}\nnext line',
        id="unterminated-quote",
    ),
    pytest.param(
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        f"aws_secret_access_key = {S}",
        id="aws-secret-pair",
    ),
    pytest.param(
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sflKxwRJSMeKKF2QT4fwpM ok",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sflKxwRJSMeKKF2QT4fwpM",
        f"jwt {S} ok",
        id="bare-jwt",
    ),
    pytest.param(
        "login password=Tr0ub4dor&token: QwErTy123456 retries=3",
        "Tr0ub4dor",
        f"login password={S}&token: {S} retries=3",
        id="pairs-in-a-line",
    ),
]


def assert_no_trace(secret: str, scrubbed: str) -> None:
    # The marker keeps no part of the value: no 4 characters of it survive.
    for start in range(len(secret) - 3):
        assert secret[start : start + 4] not in scrubbed, secret[start : start + 4]


@pytest.mark.parametrize(("text", "secret", "scrubbed"), SHAPES)
def test_each_shape_is_scrubbed_whole(text: str, secret: str, scrubbed: str) -> None:
    policy = ContentPolicy.from_config(ToolResultConfig())
    assert policy.scrub(text) == scrubbed
    assert_no_trace(secret, scrubbed)


# The nine shapes an API or stream error message carries, and the whole message after.
ERRORS = [
    pytest.param(
        "Incorrect API key provided: sk-proj-Zq8vN3kLmP0aBcDeFgHiJk.",
        "sk-proj-Zq8vN3kLmP0aBcDeFgHiJk",
        f"Incorrect API key provided: {S}.",
        id="openai",
    ),
    pytest.param(
        "authentication_error: invalid key sk-ant-api03-Xy7Wv6Ut5Sr4Qp3On2Ml1 (401)",
        "sk-ant-api03-Xy7Wv6Ut5Sr4Qp3On2Ml1",
        f"authentication_error: invalid key {S} (401)",
        id="anthropic",
    ),
    pytest.param(
        "clone failed with ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXX",
        "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXX",
        f"clone failed with {S}",
        id="github",
    ),
    pytest.param(
        "The security token AKIAIOSFODNN7EXAMPLE is invalid",
        "AKIAIOSFODNN7EXAMPLE",
        f"The security token {S} is invalid",
        id="aws",
    ),
    pytest.param(
        "slack said invalid_auth for xoxb-1234567890-abcdefghijkl",
        "xoxb-1234567890-abcdefghijkl",
        f"slack said invalid_auth for {S}",
        id="slack",
    ),
    pytest.param(
        "request headers {'Authorization': 'Bearer abcdef0123456789xyz'} refused",
        "abcdef0123456789xyz",
        f"request headers {{'Authorization': 'Bearer {S}'}} refused",
        id="bearer",
    ),
    pytest.param(
        "bad key -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA7",
        f"bad key {S}",
        id="pem",
    ),
    pytest.param(
        "cannot connect to postgres://app:S3cretPw@db:5432/x",
        "S3cretPw",
        f"cannot connect to postgres://app:{S}@db:5432/x",
        id="url-password",
    ),
    pytest.param(
        "token expired: eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDB9.c2lnbmF0dXJlX2hlcmU",
        "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDB9.c2lnbmF0dXJlX2hlcmU",
        f"token expired: {S}",
        id="jwt",
    ),
]


def api(attempt: int, message: str) -> dict[str, Any]:
    return expect(
        "codex.api_request",
        attempt=attempt - 1,
        duration_ms="<ms>",
        **{"error.message": message},
        **request_auth(),
    )


@pytest.mark.parametrize(("message", "secret", "scrubbed"), ERRORS)
def test_error_messages_of_requests_and_streams_are_scrubbed(
    exported: Exported, message: str, secret: str, scrubbed: str
) -> None:
    manager = exported.manager

    def fails() -> None:
        raise RuntimeError(message)

    async def afails() -> None:
        raise RuntimeError(message)

    with pytest.raises(RuntimeError):
        manager.log_request(1, fails)
    with pytest.raises(RuntimeError):
        asyncio.run(manager.alog_request(2, afails))
    manager.api_request(3, 0.001, status_code=401, error=message)
    manager.sse_event_failed("response.failed", 0.001, RuntimeError(message))
    manager.sse_event_completed_failed(message)
    manager.log_tool_failed("shell", RuntimeError(message))
    records = exported.records()
    assert records == [
        api(1, scrubbed),
        api(2, scrubbed),
        expect(
            "codex.api_request",
            attempt=2,
            duration_ms="<ms>",
            **{"http.response.status_code": 401, "error.message": scrubbed},
            **request_auth(),
        ),
        expect(
            "codex.sse_event",
            duration_ms="<ms>",
            **{"event.kind": "response.failed", "error.message": scrubbed},
        ),
        expect(
            "codex.sse_event", **{"event.kind": "response.completed", "error.message": scrubbed}
        ),
        expect(
            "codex.tool_result",
            tool_name="shell",
            duration_ms="<ms>",
            success="false",
            output=scrubbed,
        ),
    ]
    for record in records:
        assert_no_trace(secret, record.get("error.message") or record["output"])


def test_an_exported_prompt_is_scrubbed(exported: Exported) -> None:
    manager = OtelEventManager(exported.provider, **METADATA, log_user_prompt=True)
    manager.user_prompt(['use password: "hunter two" please'])
    assert exported.records() == [
        expect("codex.user_prompt", prompt_length=33, prompt=f'use password: "{S}" please')
    ]


def test_error_messages_are_kept_when_scrubbing_is_off(memory: Any) -> None:
    provider: OtelProvider = memory[0]
    manager = OtelEventManager(
        provider, **METADATA, tool_result=ToolResultConfig(scrub_secrets=False)
    )
    manager.api_request(1, 0, error="password=hunter2")
    provider.force_flush()
    (data,) = memory[1].records
    assert data.log_record.attributes["error.message"] == "password=hunter2"
