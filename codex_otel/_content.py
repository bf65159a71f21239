"""Content safety for free text (tool arguments and output, error messages, an exported
prompt): secrets scrubbed; tool text size capped.

Scrubbing runs before the cap, so a secret is matched whole and never half-kept at the cut.
A scrubbed secret becomes `SECRET_MARKER`; for `name=value` pairs, URLs and bearer tokens the
name stays (it tells a reader what was there) and only the value goes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._config import ToolResultConfig
from .catalog import (
    SECRET_KEY_HINTS,
    SECRET_MARKER,
    SECRET_NAME,
    SECRET_NAME_HINTS,
    TRUNCATED_MARKER,
    secret_shape_pattern,
)

__all__ = [
    "NAME_MAX_BYTES",
    "PROMPT_MAX_BYTES",
    "ContentPolicy",
    "cap_name",
    "cap_utf8",
    "wire_safe",
]

# Caps on the free text outside tool arguments and output (those have `tool_result.max_bytes`),
# so no single value can make its event, or its batch, too large for a collector to take.
# Names and ids (tool names, call ids, kinds, model, policies): far above any real one.
NAME_MAX_BYTES = 1024
# An exported prompt (`log_user_prompt = true`): a long one whole, a pasted file cut.
PROMPT_MAX_BYTES = 256 * 1024

_Replace = Callable[[re.Match[str]], str]

# Characters past the cap that are scrubbed too: longer than any secret the patterns know
# (a 4096-bit RSA private key block is about 3,300 characters).
_SCRUB_MARGIN = 8192
# How far into a match one of its rule's hints may stand (a key's prefix, a header's scheme
# or name, a pair's name): a secret that could be kept starts before the cap, so with no hint
# in the kept part and this many characters past it, nothing kept needs scrubbing.
_HINT_REACH = 256


def _whole(_: re.Match[str]) -> str:
    return SECRET_MARKER


def _keep_prefix(match: re.Match[str]) -> str:
    return match.group("keep") + SECRET_MARKER


def _pair(match: re.Match[str]) -> str:
    """`name: "value"` -> `name: "[SECRET]"`: the quotes stay, all of the value goes."""
    quote = match.group("q") or ""
    return match.group("keep") + quote + SECRET_MARKER + (match.group("close") or "")


class _Rule(NamedTuple):
    pattern: re.Pattern[str]
    replace: _Replace
    # Lower-case literals one of which any match contains, within its first `_HINT_REACH`
    # characters: most text has none, and a substring test costs far less than the pattern.
    hints: tuple[str, ...] = ()


# Every pattern is linear in the text: unbounded repeats only where a literal anchors them
# (a long run of word characters must never cost quadratic time on the caller's thread).
# They run in this order: the block and URL forms first, so the narrower key patterns do
# not cut them in pieces. Compiled on first use, not at import (a few ms of every start-up).
@functools.cache
def _builtin() -> tuple[_Rule, ...]:
    return (
        # PEM private keys, whole blocks (RSA, EC, OPENSSH, ENCRYPTED, plain PKCS#8).
        _Rule(
            re.compile(
                r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
                r".*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
                re.DOTALL,
            ),
            _whole,
            ("private key-----",),
        ),
        # Passwords in URLs: scheme://user:password@host keeps the user. The password runs to
        # the last "@" of the authority: it may contain "@" itself.
        _Rule(
            re.compile(
                r"(?P<keep>[A-Za-z][A-Za-z0-9+.-]{0,30}://[^/\s:@]{0,256}:)[^/\s\"]{1,256}(?=@)"
            ),
            _keep_prefix,
            ("://",),
        ),
        # Bearer / Basic / token credentials in headers or text.
        _Rule(
            re.compile(r"(?P<keep>\b(?:[Bb]earer|[Bb]asic|[Tt]oken)\s+)[A-Za-z0-9._~+/=-]{8,}"),
            _keep_prefix,
            ("bearer", "basic", "token"),
        ),
        # name=value, name: value, "name": "value" (JSON arguments), name = 'value', a nested
        # auth[token]=value, and the JSON-escaped \"name\": \"value\" of a config written through
        # a tool. A quoted value goes whole, to its closing quote (escaped quotes inside it
        # included) or the end of the line; an unquoted one to a space, quote, ';', '&' or '}'.
        # An `Authorization: Bearer …` the rule above scrubbed keeps its scheme.
        _Rule(
            re.compile(
                rf"(?P<keep>(?i:\b{SECRET_NAME}\b\]?(?:\\{{0,3}}[\"'])?)"
                r"\s*[:=]\s*)"
                rf"(?!\\{{0,3}}[\"']?(?:[Bb]earer|[Bb]asic|[Tt]oken)\s+{re.escape(SECRET_MARKER)})"
                r"(?:(?P<q>\\{0,3}[\"'])(?:(?!(?P=q))(?:\\.|[^\\\n])){1,4096}(?P<close>(?P=q))?"
                r"|(?!\[)(?:[^\s\"'\\;&}]|\\(?![\"'])){1,4096})"
            ),
            _pair,
            SECRET_NAME_HINTS,
        ),
        # Well-known API key shapes, wherever they stand.
        _Rule(secret_shape_pattern(), _whole, SECRET_KEY_HINTS),
    )


def _any_of(literals: Iterable[str]) -> re.Pattern[str]:
    """One pattern finding any of `literals`, written as a trie (`a(?:iza|kia)|b(?:asic|...`):
    the engine tries each alternative once per first character, not each literal in turn."""
    trie: dict[str, Any] = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}  # a literal ends here: what follows it need not match

    def written(node: dict[str, Any]) -> str:
        if "" in node:
            return ""
        branches = [re.escape(char) + written(rest) for char, rest in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(written(trie) if trie else "(?!)")


@functools.cache
def _any_hint() -> re.Pattern[str]:
    """Any hint of any built-in rule, searched in lower-cased text: most tool text has none,
    and then one scan decides (cheaper than a case-insensitive pattern or a loop over the
    hints)."""
    return _any_of({hint for rule in _builtin() for hint in rule.hints})


@functools.cache
def _hint_starts(hints: tuple[str, ...]) -> re.Pattern[str]:
    """Where any of `hints` starts, overlapping ones included (a zero-width lookahead)."""
    return re.compile(f"(?={_any_of(hints).pattern})")


def _sub_near_hints(rule: _Rule, text: str) -> str:
    """`rule.pattern.sub(rule.replace, text)`, the pattern tried only where a match can start:
    fewer than `_HINT_REACH` characters before one of the rule's hints. A text with a hint or
    two is then not run through the pattern at every character (some patterns cost a
    microsecond a character); where the hints are dense, one pass of the pattern is cheaper."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character lower-cased to two: positions differ
        return rule.pattern.sub(rule.replace, text)
    hints = [found.start() for found in _hint_starts(rule.hints).finditer(lowered)]
    covered, end = 0, -1
    for at in hints:
        covered += at - max(end + 1, at - _HINT_REACH) + 1
        end = at
    if covered * 4 > len(text):
        return rule.pattern.sub(rule.replace, text)
    match = rule.pattern.match
    out: list[str] = []
    written = 0  # text[:written] is in `out`
    start = 0  # the first position not tried yet
    for at in hints:
        start = max(start, at - _HINT_REACH)
        while start <= at:
            found = match(text, start)
            if found is None:
                start += 1
                continue
            # Matched at `start`: the leftmost match, as `sub` finds it (no earlier position
            # can start one).
            out += (text[written:start], rule.replace(found))
            written = found.end()
            start = written if written > start else start + 1
    out.append(text[written:])
    return "".join(out)


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (bytes decoded with surrogateescape) cannot go on the wire: one
        # would fail the encoding of the whole batch. They become U+FFFD-free '?'.
        return text.encode("utf-8", "replace")


def wire_safe(text: str) -> str:
    """`text` if it encodes as UTF-8, else with its lone surrogates as '?': one would fail the
    protobuf encoding of the whole batch it travels in."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def cap_utf8(text: str, max_bytes: int) -> tuple[str, int | None]:
    """Valid UTF-8 text of at most `max_bytes` bytes, cut at a character boundary and marked.

    Returns the text and, when it was cut, its size in bytes before the cut (else None).
    """
    if text.isascii():
        if len(text) <= max_bytes:
            return text, None
        # One byte a character: no encoding of a large text only to measure and cut it.
        return text[:max_bytes] + TRUNCATED_MARKER, len(text)
    data = _utf8(text)
    if len(data) <= max_bytes:
        return data.decode("utf-8"), None
    # 'ignore' drops the incomplete sequence a cut inside a character leaves at the end.
    kept = data[:max_bytes].decode("utf-8", "ignore")
    return kept + TRUNCATED_MARKER, len(data)


def cap_name(value: object) -> object:
    """A name or id as sent: text capped at `NAME_MAX_BYTES` (and marked); others as they are."""
    if type(value) is str and (len(value) > NAME_MAX_BYTES // 4 or not value.isascii()):
        return cap_utf8(value, NAME_MAX_BYTES)[0]
    return value


@dataclass(frozen=True)
class ContentPolicy:
    """Applies `[otel].tool_result` to one text."""

    max_bytes: int
    rules: tuple[_Rule, ...]
    any_hint: re.Pattern[str]
    extra: bool = False  # user patterns (no hints): the rules always run

    @classmethod
    def from_config(cls, config: ToolResultConfig) -> ContentPolicy:
        rules: tuple[_Rule, ...] = ()
        if config.scrub_secrets:
            extra = tuple(_Rule(re.compile(p), _whole) for p in config.extra_patterns)
            rules = _builtin() + extra
        return cls(
            max_bytes=config.max_bytes,
            rules=rules,
            any_hint=_any_hint(),
            extra=bool(config.extra_patterns),
        )

    def scrub(self, text: str) -> str:
        """`text` with each secret the rules know replaced by `SECRET_MARKER`."""
        if not self.rules:
            return text
        lowered = text.lower()
        if self.extra or self.any_hint.search(lowered):
            for rule in self.rules:
                if not rule.hints:
                    text = rule.pattern.sub(rule.replace, text)
                elif any(hint in lowered for hint in rule.hints):
                    text = _sub_near_hints(rule, text)
        return text

    def scrub_field(self, value: object) -> object:
        """Free text such as an error message, scrubbed and capped at `max_bytes` (None and
        numbers pass as they are)."""
        return self.apply(value)[0] if isinstance(value, str) else value

    def prompt(self, text: str) -> str:
        """An exported prompt: scrubbed, and capped at `PROMPT_MAX_BYTES`."""
        return self.apply(text, PROMPT_MAX_BYTES)[0]

    def apply(self, text: str, max_bytes: int | None = None) -> tuple[str, int | None]:
        """Scrubbed and capped text (at `max_bytes`, else the policy's), and its original size
        in bytes when it was cut."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        original, sliced = text, False
        if self.rules:
            # Only what can be kept is scrubbed (a 5 MB output costs no more than a 10 kB
            # one); the margin lets a secret that straddles the cut be matched whole.
            sliced = len(text) > limit + _SCRUB_MARGIN
            if len(text) > limit + _HINT_REACH and not self._hinted(text[: limit + _HINT_REACH]):
                # No secret can start in the kept part (at most `limit` characters): nothing
                # to scrub there, nor a margin to search.
                sliced = True
                text = text[:limit]
            else:
                text = self.scrub(text[: limit + _SCRUB_MARGIN])
        capped, cut = cap_utf8(text, limit)
        if cut is None and sliced:
            # Scrubbing shrank the kept part below the cap; the rest is still cut off.
            capped += TRUNCATED_MARKER
        if cut is not None or sliced:
            cut = len(original) if original.isascii() else len(_utf8(original))
        return capped, cut

    def _hinted(self, text: str) -> bool:
        """Whether a rule may match in `text`: one of the hints is in it, or a rule has none."""
        return self.extra or self.any_hint.search(text.lower()) is not None
