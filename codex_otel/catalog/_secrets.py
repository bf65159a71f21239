"""The one list of secret names and secret shapes: URLs (`url.full`, an event's `endpoint`),
error messages, tool arguments and output, and exported prompts are all scrubbed by these.

Names are matched case-insensitively, `-` and `_` alike. A long name ends any name
(`X-Amz-Security-Token`, `PGPASSWORD`, `my_api_key`, `Proxy-Authorization`); a short one
(`key`, `sig`) only stands alone or after a `-` / `_` (`api-key`, `X-Goog-Signature`, but not
`monkey`). A nested field name (`auth[token]`, `db.password`) is a secret name when one of
its parts is.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

__all__ = [
    "SECRET_KEY_HINTS",
    "SECRET_KEY_SHAPES",
    "SECRET_NAME",
    "SECRET_NAME_HINTS",
    "has_secret_shape",
    "is_secret_name",
    "safe_url",
    "safe_url_path",
    "secret_shape_pattern",
]

_LONG_NAMES = (
    r"password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key(?:[_-]?id)?|private[_-]?key"
    r"|credential|signature|authorization"
)
_SHORT_NAMES = r"key|sig|pwd"

SECRET_NAME = (
    rf"(?:[A-Za-z0-9_-]{{0,40}}(?:{_LONG_NAMES})|(?:[A-Za-z0-9_-]{{0,40}}[_-])?(?:{_SHORT_NAMES}))"
)
"""A secret parameter name (a regular expression, without anchors)."""

SECRET_NAME_HINTS = (
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "sig",
    "authorization",
)
"""Lower-case literals one of which every secret name contains."""

SECRET_KEY_SHAPES = (
    r"sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}"  # OpenAI, Anthropic
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe secret and restricted keys
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"  # GitHub
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids, long-term and temporary
    r"|AIza[0-9A-Za-z_-]{35}"  # Google
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    # JWT. It starts a run of base64url characters (or follows one '-' that starts it): tried
    # after every '-' of a long run without a '.', it would cost time quadratic in the run.
    r"|(?<![A-Za-z0-9_-]-)eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
)
"""Well-known API key shapes, wherever they stand (a regular expression, no anchors)."""

SECRET_KEY_HINTS = ("sk-", "sk_", "rk_", "gh", "xox", "akia", "asia", "aiza", "glpat-", "eyj")
"""Lower-case literals one of which every key shape contains."""

# Where a nested name (`auth[token]`, `db.password`) divides.
_NAME_PARTS = r"[\[\].]+"


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The names, where a name divides, the shapes: compiled on first use, not at import."""
    return (
        re.compile(SECRET_NAME, re.IGNORECASE),
        re.compile(_NAME_PARTS),
        re.compile(rf"\b(?:{SECRET_KEY_SHAPES})"),
    )


def is_secret_name(name: str) -> bool:
    """Whether a query parameter or field called `name` holds a secret."""
    names, parts, _ = _patterns()
    if names.fullmatch(name) is not None:
        return True
    return any(names.fullmatch(part) for part in parts.split(name) if part != name)


def secret_shape_pattern() -> re.Pattern[str]:
    """`SECRET_KEY_SHAPES` compiled (once, on first use), each shape starting a word."""
    return _patterns()[2]


def has_secret_shape(text: str) -> bool:
    """Whether `text` holds a well-known API key shape (`SECRET_KEY_SHAPES`) anywhere."""
    return secret_shape_pattern().search(text) is not None


_REDACTED = "REDACTED"  # as OpenTelemetry's semantic conventions write a redacted URL part


def safe_url(url: str) -> str:
    """`url.full` with no credential in it: without user:password and without the fragment
    (never sent to the server; where an OAuth redirect carries its `#access_token=`), each
    secret-named query parameter's value `REDACTED`, and any query value or path segment that
    holds a key shape (`sk-…`, `AKIA…`, a JWT) `REDACTED` too. The rest stays as written."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    query = "&".join(_safe_parameter(pair) for pair in parts.query.split("&"))
    return urlunsplit((parts.scheme, netloc, safe_url_path(parts.path), query, ""))


def safe_url_path(path: str) -> str:
    """A URL's path with each segment that holds a key shape (`/v1/sk_live_…/charges`)
    `REDACTED`."""
    if not has_secret_shape(unquote(path)):
        return path
    return "/".join(
        _REDACTED if has_secret_shape(unquote(segment)) else segment for segment in path.split("/")
    )


def _safe_parameter(pair: str) -> str:
    name, equals, value = pair.partition("=")
    if equals and (is_secret_name(unquote_plus(name)) or has_secret_shape(unquote_plus(value))):
        return f"{name}={_REDACTED}"
    return _REDACTED if has_secret_shape(unquote_plus(pair)) else pair
