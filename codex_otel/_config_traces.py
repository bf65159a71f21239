"""`span_attributes` and `tracestate` of `[otel]`, in both forms of `tracestate`.

codex_otel's own form gives each W3C tracestate member its value (`vendor = "value"`), and a
bad entry is a ConfigError. Codex's form is nested (`[otel.tracestate.vendor]` with
`field = "value"` entries), encoded as the member's value `field:value;field:value`; as in
Codex, an invalid field or member of it is dropped with a warning naming it, and the host
starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._config_parser import TableParser, type_name

__all__ = ["span_attributes", "tracestate"]

# W3C Trace Context: a key is `name` (starting with a letter) or `tenant@system`; a value is
# printable ASCII without ',' and '=', not ending in a space; at most 32 members.
_KEY = re.compile(
    r"[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13}"
)
_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
MAX_MEMBERS = 32
# Codex's nested form: a field key is visible ASCII without ':', ';', ',' or '='; a field
# value is printable ASCII without ',', '=' or ';' (may be empty).
_FIELD_KEY = re.compile(r"[\x21-\x2b\x2d-\x39\x3c\x3e-\x7e]+")
_FIELD_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3a\x3c\x3e-\x7e]*")

_KEY_EXPECTED = (
    "expected a W3C tracestate key (lower-case letters, digits, _-*/, optionally tenant@system)"
)
_VALUE_EXPECTED = (
    "expected a W3C tracestate value (1-256 printable ASCII characters, no ',' or '=', "
    "not ending in a space)"
)


def span_attributes(parser: TableParser, value: object) -> dict[str, Any]:
    """`otel.span_attributes`: scalar values; an empty name is dropped, as Codex does."""
    key = "otel.span_attributes"
    if not isinstance(value, Mapping):
        raise parser.fail(key, f"expected a table, got {type_name(value)}")
    attributes: dict[str, Any] = {}
    for name, item in value.items():
        if not isinstance(item, (str, bool, int, float)):
            raise parser.fail(
                f"{key}.{name}",
                f"expected a string, boolean, integer or float, got {type_name(item)}",
            )
        if not name:
            parser.warn(key, "an attribute with an empty name, ignored")
            continue
        attributes[name] = item
    return attributes


def tracestate(parser: TableParser, value: object) -> dict[str, str]:
    """`otel.tracestate` as member -> value, members in the order written."""
    key = "otel.tracestate"
    if not isinstance(value, Mapping):
        raise parser.fail(key, f"expected a table of strings, got {type_name(value)}")
    state: dict[str, str] = {}
    nested: list[str] = []
    for member, item in value.items():
        if isinstance(item, Mapping):
            encoded = _nested_member(parser, f"{key}.{member}", member, item)
            if encoded is not None:
                state[member] = encoded
                nested.append(member)
            continue
        if not _KEY.fullmatch(member):
            raise parser.fail(f"{key}.{member}", _KEY_EXPECTED)
        if not isinstance(item, str) or not _VALUE.fullmatch(item):
            raise parser.fail(f"{key}.{member}", _VALUE_EXPECTED)
        state[member] = item
    if len(state) > MAX_MEMBERS:
        if len(state) - len(nested) > MAX_MEMBERS:
            raise parser.fail(key, f"expected at most {MAX_MEMBERS} entries")
        # As Codex: a set of members too large together is dropped whole.
        parser.warn(key, f"more than {MAX_MEMBERS} members together; the nested ones ignored")
        for member in nested:
            del state[member]
    return state


def _nested_member(
    parser: TableParser, key: str, member: str, fields: Mapping[str, Any]
) -> str | None:
    """Codex's `[otel.tracestate.<member>]`: its valid fields encoded, None if none is left."""
    if not _KEY.fullmatch(member):
        parser.warn(key, f"{_KEY_EXPECTED}; member ignored")
        return None
    encoded = []
    for field, text in fields.items():
        if not isinstance(text, str):
            raise parser.fail(f"{key}.{field}", f"expected a string, got {type_name(text)}")
        if not _FIELD_KEY.fullmatch(field):
            parser.warn(
                f"{key}.{field}",
                "expected a field name of visible ASCII without ':', ';', ',' or '='; ignored",
            )
        elif not _FIELD_VALUE.fullmatch(text):
            parser.warn(
                f"{key}.{field}",
                "expected a value of printable ASCII without ',', '=' or ';'; ignored",
            )
        else:
            encoded.append(f"{field}:{text}")
    if not encoded:
        parser.warn(key, "no valid field; member ignored")
        return None
    # Fields in key order, as Codex encodes them.
    value = ";".join(sorted(encoded, key=lambda pair: pair.partition(":")[0]))
    if not _VALUE.fullmatch(value):
        parser.warn(key, "its fields together are over 256 characters or end in a space; ignored")
        return None
    return value
