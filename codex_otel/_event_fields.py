"""An event's attributes built from its declaration (`catalog.EVENTS`): each value sent as
its field's kind says, free text scrubbed and capped, and `AuthEnv`, the credentials the
environment holds (presence only)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ._content import ContentPolicy, cap_name
from ._values import as_text, duration_ms, opt_int, safe_str
from .catalog import Attr, EventSpec, FieldSpec

__all__ = ["AuthEnv", "RequestAuth", "build_fields", "millis"]

# What Codex sends for `auth.env_provider_key_name` when the provider names a variable (the
# binary never sends the name itself).
PROVIDER_KEY_CONFIGURED = "configured"


@dataclass(frozen=True)
class AuthEnv:
    """Which credentials the environment holds, as `codex.conversation_starts`,
    `codex.api_request` and the WebSocket events report them: whether each is present, never
    a value. `from_environ()` reads them."""

    openai_api_key_present: bool = False
    codex_api_key_present: bool = False
    codex_api_key_enabled: bool = True
    """Whether `CODEX_API_KEY` is honoured (Codex: always in `codex exec`)."""
    provider_key_name: str | None = None
    """The variable the model provider reads its key from (`env_key`), if any."""
    provider_key_present: bool | None = None
    refresh_token_url_override_present: bool = False

    @classmethod
    def from_environ(
        cls,
        provider_key_name: str | None = None,
        *,
        codex_api_key_enabled: bool = True,
        environ: Mapping[str, str] = os.environ,
    ) -> AuthEnv:
        def present(name: str) -> bool:
            return bool(environ.get(name, "").strip())

        return cls(
            openai_api_key_present=present("OPENAI_API_KEY"),
            codex_api_key_present=present("CODEX_API_KEY"),
            codex_api_key_enabled=codex_api_key_enabled,
            provider_key_name=provider_key_name,
            provider_key_present=None if provider_key_name is None else present(provider_key_name),
            refresh_token_url_override_present=present("CODEX_REFRESH_TOKEN_URL_OVERRIDE"),
        )

    def fields(self) -> dict[str, object]:
        """The `auth.env_*` attributes."""
        return {
            Attr.AUTH_ENV_OPENAI_API_KEY_PRESENT: bool(self.openai_api_key_present),
            Attr.AUTH_ENV_CODEX_API_KEY_PRESENT: bool(self.codex_api_key_present),
            Attr.AUTH_ENV_CODEX_API_KEY_ENABLED: bool(self.codex_api_key_enabled),
            Attr.AUTH_ENV_PROVIDER_KEY_NAME: None
            if self.provider_key_name is None
            else PROVIDER_KEY_CONFIGURED,
            Attr.AUTH_ENV_PROVIDER_KEY_PRESENT: None
            if self.provider_key_present is None
            else bool(self.provider_key_present),
            Attr.AUTH_ENV_REFRESH_TOKEN_URL_OVERRIDE_PRESENT: bool(
                self.refresh_token_url_override_present
            ),
        }


@dataclass(frozen=True)
class RequestAuth:
    """How a request (or a WebSocket connect) was authenticated, as Codex records it: the
    header's name and the recovery's steps, never a credential. Given to `api_request` and
    `websocket_connect`; what is not given is read from the request and its response."""

    header_attached: bool | None = None
    """Whether a credential header was sent (None: whether the request carries one)."""
    header_name: str | None = None
    """Its name, e.g. `authorization` (None: the one the request carries)."""
    retry_after_unauthorized: bool = False
    """Whether this is the retry after a 401."""
    recovery_mode: str | None = None
    recovery_phase: str | None = None
    request_id: str | None = None
    """The response's request id (None: its `x-request-id`)."""
    error: str | None = None
    """What the server said of the credential (scrubbed and capped as free text)."""
    error_code: str | None = None

    def fields(
        self, header: str | None, request_id: str | None, cf_ray: object, error: object
    ) -> dict[str, object]:
        """The `auth.*` fields, with the header and request id read from the request and
        response (`header`, `request_id`) unless given; `error` is the scrubbed `error`."""
        name = self.header_name if self.header_name is not None else header
        attached = self.header_attached if self.header_attached is not None else name
        return {
            Attr.AUTH_HEADER_ATTACHED: bool(attached),
            Attr.AUTH_HEADER_NAME: cap_name(safe_str(name)),
            Attr.AUTH_RETRY_AFTER_UNAUTHORIZED: bool(self.retry_after_unauthorized),
            Attr.AUTH_RECOVERY_MODE: cap_name(safe_str(self.recovery_mode)),
            Attr.AUTH_RECOVERY_PHASE: cap_name(safe_str(self.recovery_phase)),
            Attr.AUTH_REQUEST_ID: cap_name(safe_str(self.request_id or request_id)),
            Attr.AUTH_CF_RAY: cf_ray,
            Attr.AUTH_ERROR: error,
            Attr.AUTH_ERROR_CODE: cap_name(safe_str(self.error_code)),
        }


NO_REQUEST_AUTH = RequestAuth()
"""Nothing known of a request's authentication but what the request says."""


def millis(duration: timedelta | float | None) -> int | None:
    """A duration given as a timedelta or seconds, in whole milliseconds (None stays None)."""
    return None if duration is None else duration_ms(duration)


def build_fields(
    spec: EventSpec, values: Mapping[str, Any], content: ContentPolicy
) -> dict[str, Any]:
    """`values` (by attribute key) as `spec`'s fields send them; a None is left out. A key
    `spec` does not declare is a bug in this package, and raises."""
    declared = {field.key: field for field in spec.fields}
    attributes: dict[str, Any] = {}
    for key, value in values.items():
        field = declared[key]
        if value is None:
            continue
        if field.kind == "text":
            attributes.update(_text(field, value, content))
        else:
            attributes[key] = _value(field, value)
    return attributes


def _value(field: FieldSpec, value: Any) -> Any:
    kind = field.kind
    if kind == "name":
        return cap_name(safe_str(value))
    if kind == "int":
        return opt_int(value)
    if kind == "bool":
        return bool(value)
    return "true" if value else "false"  # flag


def _text(field: FieldSpec, value: Any, content: ContentPolicy) -> dict[str, Any]:
    text = value if isinstance(value, str) else as_text(safe_str(value))
    kept, cut = content.apply(text, field.cap)
    result: dict[str, Any] = {field.key: kept}
    if field.length_key is not None:
        # The length of the text as given, in UTF-8 bytes (Codex's `*_length`).
        result[field.length_key] = len(text.encode("utf-8", "replace")) if cut is None else cut
    if field.truncated_key is not None:
        result[field.truncated_key] = cut is not None
    return result
