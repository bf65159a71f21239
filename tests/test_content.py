"""Content safety of codex.tool_result: secrets scrubbed by default, size capped at UTF-8 bounds."""

from __future__ import annotations

from typing import Any

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider, ToolResultConfig
from codex_otel._content import ContentPolicy, cap_utf8
from codex_otel.catalog import SECRET_MARKER, TRUNCATED_MARKER
from codex_otel.testing import OtlpReceiver
from tests.conftest import COMMON, METADATA, Memory, captured


def tool_event(**fields: Any) -> dict[str, Any]:
    return {
        "name": "codex.tool_result",
        "severity": (9, "INFO"),
        "attributes": {
            "event.name": "codex.tool_result",
            "event.timestamp": "<ts>",
            **COMMON,
            "tool_name": "shell",
            "call_id": "call-1",
            "duration_ms": 7,
            "success": "true",
            **fields,
        },
    }


def record(memory: Memory, arguments: object, output: object, **options: Any) -> Any:
    provider, exporter = memory
    manager = OtelEventManager(provider, **METADATA, tool_result=ToolResultConfig(**options))
    manager.tool_result("shell", "call-1", arguments, 0.007, True, output)
    (event,) = captured(provider, exporter)
    return event


def test_output_over_the_cap_is_cut_at_a_utf8_boundary_marked_and_sized(memory: Memory) -> None:
    output = "€" * 1000  # 3 bytes each: 2048 falls inside a character
    assert record(memory, "ls", output) == tool_event(
        arguments="ls",
        output="€" * 682 + TRUNCATED_MARKER,
        output_original_bytes=3000,
    )


def test_arguments_over_the_cap_are_cut_and_sized(memory: Memory) -> None:
    arguments = {"patch": "x" * 5000}
    text = '{"patch": "' + "x" * 5000 + '"}'
    assert record(memory, arguments, "ok", max_bytes=100) == tool_event(
        arguments=text[:100] + TRUNCATED_MARKER,
        arguments_original_bytes=len(text),
        output="ok",
    )


def test_text_exactly_at_the_cap_is_kept_whole(memory: Memory) -> None:
    assert record(memory, "é" * 50, "a" * 100, max_bytes=100) == tool_event(
        arguments="é" * 50, output="a" * 100
    )


def test_cap_keeps_whole_characters_of_every_width() -> None:
    for char in ("a", "é", "€", "😀"):
        for max_bytes in range(64, 72):
            text, original = cap_utf8(char * 100, max_bytes)
            kept = text.removesuffix(TRUNCATED_MARKER)
            assert kept == char * (max_bytes // len(char.encode()))
            assert original == 100 * len(char.encode())


SECRETS = [
    pytest.param(
        "export OPENAI_API_KEY=sk-proj-Zq8vN3kLmP0aBcDeFgHi",
        "sk-proj-Zq8vN3kLmP0aBcDeFgHi",
        f"export OPENAI_API_KEY={SECRET_MARKER}",
        id="key-assignment",
    ),
    pytest.param(
        "using sk-ant-api03-Xy7Wv6Ut5Sr4Qp3On2Ml1 now",
        "sk-ant-api03-Xy7Wv6Ut5Sr4Qp3On2Ml1",
        f"using {SECRET_MARKER} now",
        id="bare-api-key",
    ),
    pytest.param(
        "gh auth ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXX",
        "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXX",
        f"gh auth {SECRET_MARKER}",
        id="github-token",
    ),
    pytest.param(
        "curl -H 'Authorization: Bearer eyJhbGciOi.J9eyJzdWIi.OiIxMjM0' https://api",
        "eyJhbGciOi.J9eyJzdWIi.OiIxMjM0",
        f"curl -H 'Authorization: Bearer {SECRET_MARKER}' https://api",
        id="bearer-token",
    ),
    pytest.param(
        "git clone https://bob:Hunter2Pass@git.example.com/repo.git",
        "Hunter2Pass",
        f"git clone https://bob:{SECRET_MARKER}@git.example.com/repo.git",
        id="password-in-url",
    ),
    pytest.param(
        "key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        "QyNTUxOQAAACD\n-----END OPENSSH PRIVATE KEY-----\ndone",
        "b3BlbnNzaC1rZXktdjEAAAAA",
        f"key:\n{SECRET_MARKER}\ndone",
        id="private-key-block",
    ),
    pytest.param(
        "login password=Tr0ub4dor&token: QwErTy123456 retries=3",
        "Tr0ub4dor",
        f"login password={SECRET_MARKER}&token: {SECRET_MARKER} retries=3",
        id="name-value-pairs",
    ),
    pytest.param(
        {"user": "bob", "password": "Sup3rS3cret!", "max_tokens": 100},
        "Sup3rS3cret!",
        f'{{"user": "bob", "password": "{SECRET_MARKER}", "max_tokens": 100}}',
        id="json-arguments",
    ),
]


@pytest.mark.parametrize(("arguments", "secret", "scrubbed"), SECRETS)
def test_secrets_in_arguments_and_output_are_scrubbed_without_a_trace(
    memory: Memory, arguments: object, secret: str, scrubbed: str
) -> None:
    output = arguments if isinstance(arguments, str) else scrubbed
    event = record(memory, arguments, output)
    assert event == tool_event(arguments=scrubbed, output=scrubbed)
    # The marker repeats no part of the secret: no 4 characters of it survive.
    for start in range(len(secret) - 3):
        assert secret[start : start + 4] not in event["attributes"]["arguments"]


def test_an_error_message_output_is_scrubbed(memory: Memory) -> None:
    provider, exporter = memory
    manager = OtelEventManager(provider, **METADATA)
    with pytest.raises(PermissionError):
        manager.log_tool_result("shell", "call-1", "deploy", _denied)
    (event,) = captured(provider, exporter)
    millis = event["attributes"]["duration_ms"]
    assert isinstance(millis, int) and millis >= 0
    assert event == tool_event(
        arguments="deploy",
        duration_ms=millis,
        success="false",
        output=f"login failed for token={SECRET_MARKER}",
    )


def _denied() -> None:
    raise PermissionError("login failed for token=abc123secret")


def test_scrubbing_can_be_turned_off(memory: Memory) -> None:
    text = "password=hunter2 sk-proj-Zq8vN3kLmP0aBcDeFgHi"
    assert record(memory, text, text, scrub_secrets=False) == tool_event(
        arguments=text, output=text
    )


def test_extra_patterns_are_scrubbed_too(memory: Memory) -> None:
    event = record(memory, "ticket ACME-123456", "ok", extra_patterns=(r"ACME-\d{6}",))
    assert event == tool_event(arguments=f"ticket {SECRET_MARKER}", output="ok")


def test_capped_scrubbed_output_arrives_over_otlp(receiver: OtlpReceiver) -> None:
    table = {
        "exporter": {"otlp-http": {"endpoint": receiver.logs_endpoint}},
        "tool_result": {"max_bytes": 64},
    }
    config = OtelConfig.from_mapping(table)
    provider = OtelProvider.from_config(config)
    manager = OtelEventManager(provider, **METADATA)  # the provider's table applies
    output = "token=abc123secret " + "y" * 200
    manager.tool_result("shell", "call-1", "cat log", 0.007, True, output)
    provider.shutdown()
    (log,) = receiver.wait_for(1)
    kept = f"token={SECRET_MARKER} " + "y" * (64 - len(f"token={SECRET_MARKER} "))
    assert log.attributes["output"] == kept + TRUNCATED_MARKER
    assert log.attributes["output_original_bytes"] == len(output)


def test_huge_text_is_scrubbed_where_it_is_kept_and_sized_whole(memory: Memory) -> None:
    key = "sk-proj-" + "Z" * 20
    output = "key " + key + " " + "b" * 50_000
    assert record(memory, "ls", output, max_bytes=64) == tool_event(
        arguments="ls",
        output=f"key {SECRET_MARKER} " + "b" * (64 - 5 - len(SECRET_MARKER)) + TRUNCATED_MARKER,
        output_original_bytes=len(output),
    )


def test_a_secret_running_past_the_scrubbed_part_is_still_replaced_and_marked_cut(
    memory: Memory,
) -> None:
    # An unterminated private key longer than the part that is scrubbed.
    output = "-----BEGIN PRIVATE KEY-----\n" + "Q" * 20_000
    assert record(memory, "cat id", output, max_bytes=64) == tool_event(
        arguments="cat id",
        output=SECRET_MARKER + TRUNCATED_MARKER,
        output_original_bytes=len(output),
    )


def test_a_private_key_starting_before_the_cut_is_scrubbed_though_its_name_is_past_it(
    memory: Memory,
) -> None:
    # The header begins 4 characters before the cut; "PRIVATE KEY" (what hints at it) is after.
    output = "x" * 60 + "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + "Q" * 3000 + "y" * 20_000
    assert record(memory, "cat id", output, max_bytes=64) == tool_event(
        arguments="cat id",
        output=("x" * 60 + SECRET_MARKER)[:64] + TRUNCATED_MARKER,
        output_original_bytes=len(output),
    )


def test_an_api_key_straddling_the_cut_is_scrubbed_whole(memory: Memory) -> None:
    output = "x" * 49 + " sk-proj-" + "Z" * 40 + " " + "y" * 70_000
    assert record(memory, "env", output, max_bytes=64) == tool_event(
        arguments="env",
        output=("x" * 49 + " " + SECRET_MARKER + " " + "y" * 64)[:64] + TRUNCATED_MARKER,
        output_original_bytes=len(output),
    )


@pytest.mark.parametrize(
    "secret",
    [
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789",
        "https://deploy:hunter2hunter2@git.example.com/repo.git",
        '{"client_secret": "' + "s" * 600 + '"}',
        "ghp_" + "a" * 36,
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
    ],
)
def test_a_secret_anywhere_around_the_cut_is_scrubbed_as_if_the_whole_margin_were_searched(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codex_otel import _content

    policy = ContentPolicy.from_config(ToolResultConfig(max_bytes=256))
    texts = [
        "word " * (start // 5) + "w" * (start % 5) + secret + " tail" * 3_000
        for start in range(0, 1_000, 13)
    ]
    kept = [policy.apply(text) for text in texts]
    # The reference: every text scrubbed over the kept part and the whole margin.
    monkeypatch.setattr(_content, "_HINT_REACH", 10**9)
    assert kept == [policy.apply(text) for text in texts]


def test_a_huge_text_without_secrets_is_cut_and_sized_whole(memory: Memory) -> None:
    output = "plain line of output\n" * 200_000 + "é"
    assert record(memory, "ls", output, max_bytes=64) == tool_event(
        arguments="ls",
        output=output[:64] + TRUNCATED_MARKER,
        output_original_bytes=len(output.encode()),
    )


SECRETS = [
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123456789",
    "https://deploy:hunter2@git.example.com/repo.git",
    'password: "correct horse battery staple"',
    '\\"api_key\\": \\"abc123def456\\"',
    "token=ghp_" + "a" * 36,
    "AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP",
    "sk-ant-" + "x" * 30,
]
DECOYS = ["keyboard", "passed", "token_count", "https://example.com", "high", "task-list", "İ"]


@pytest.mark.parametrize("seed", range(8))
def test_scrubbing_near_the_hints_matches_scrubbing_every_character(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    from codex_otel import _content

    rng = random.Random(seed)
    filler = "src/module.py:12: return handler(request)\n"
    texts = []
    for _ in range(40):
        pieces = [filler * rng.randrange(0, 40)]
        for _ in range(rng.randrange(1, 5)):
            pieces += [rng.choice(SECRETS + DECOYS), filler * rng.randrange(0, 20)]
        texts.append(" ".join(pieces))
    policy = ContentPolicy.from_config(ToolResultConfig())
    scrubbed = [policy.scrub(text) for text in texts]
    monkeypatch.setattr(_content, "_HINT_REACH", 10**9)  # every character: `sub` itself
    assert scrubbed == [policy.scrub(text) for text in texts]
    assert any(SECRET_MARKER in text for text in scrubbed)
