"""The one list of secret names and secret shapes: URLs (`url.full`), error messages, tool
arguments and output, and exported prompts are all scrubbed by these.

Names are matched case-insensitively, `-` and `_` alike. A long name ends any name
(`X-Amz-Security-Token`, `PGPASSWORD`, `my_api_key`); a short one (`key`, `sig`) only stands
alone or after a `-` / `_` (`api-key`, `X-Goog-Signature`, but not `monkey`).
"""

from __future__ import annotations

import re

__all__ = [
    "SECRET_KEY_HINTS",
    "SECRET_KEY_SHAPES",
    "SECRET_NAME",
    "SECRET_NAME_HINTS",
    "is_secret_name",
]

_LONG_NAMES = (
    r"password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key(?:[_-]?id)?|private[_-]?key"
    r"|credential|signature"
)
_SHORT_NAMES = r"key|sig|pwd"

SECRET_NAME = (
    rf"(?:[A-Za-z0-9_-]{{0,40}}(?:{_LONG_NAMES})|(?:[A-Za-z0-9_-]{{0,40}}[_-])?(?:{_SHORT_NAMES}))"
)
"""A secret parameter name (a regular expression, without anchors)."""

SECRET_NAME_HINTS = ("pass", "pwd", "secret", "token", "key", "credential", "sig")
"""Lower-case literals one of which every secret name contains."""

SECRET_KEY_SHAPES = (
    r"sk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}"  # OpenAI, Anthropic
    r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe secret and restricted keys
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"  # GitHub
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids, long-term and temporary
    r"|AIza[0-9A-Za-z_-]{35}"  # Google
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWT
)
"""Well-known API key shapes, wherever they stand (a regular expression, no anchors)."""

SECRET_KEY_HINTS = ("sk-", "sk_", "rk_", "gh", "xox", "akia", "asia", "aiza", "glpat-", "eyj")
"""Lower-case literals one of which every key shape contains."""

_NAME = re.compile(SECRET_NAME, re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """Whether a query parameter or field called `name` holds a secret."""
    return _NAME.fullmatch(name) is not None
