"""Names written once: events and their attribute keys, instruments and tags, resource names,
spans, analytics event types.

The event methods, the metrics pipeline, the command line and the tests all read these.
"""

from ._analytics import ALL_EVENT_TYPES, AnalyticsEventType
from ._event_specs import (
    AUTH_ENV_FIELDS,
    COMMON_ATTRIBUTES,
    EVENT_ATTRIBUTES,
    EVENT_NAMES,
    EVENTS,
    RESPONSE_MAX_BYTES,
    EventSpec,
    FieldKind,
    FieldSpec,
)
from ._events import (
    REDACTED,
    SECRET_MARKER,
    TRUNCATED_MARKER,
    AgentType,
    Attr,
    Event,
    GuardianOutcome,
    RiskLevel,
    ToolDecision,
    ToolDecisionSource,
)
from ._instruments import (
    GEN_AI_TOKEN_TYPES,
    INSTRUMENTS,
    SHELL_TAGS,
    TOKEN_TYPES,
    InstrumentSpec,
    MetricName,
    Tag,
)
from ._resource import DEFAULT_SERVICE_NAME, ENVIRONMENT_KEY, SCOPE_NAME
from ._secrets import (
    SECRET_KEY_HINTS,
    SECRET_KEY_SHAPES,
    SECRET_NAME,
    SECRET_NAME_HINTS,
    has_secret_shape,
    is_secret_name,
    safe_url,
    safe_url_path,
    secret_shape_pattern,
)
from ._spans import AGENT_NAME, SPAN_ATTRIBUTES, Operation, SpanAttr

__all__ = [
    "AGENT_NAME",
    "ALL_EVENT_TYPES",
    "AUTH_ENV_FIELDS",
    "COMMON_ATTRIBUTES",
    "DEFAULT_SERVICE_NAME",
    "ENVIRONMENT_KEY",
    "EVENTS",
    "EVENT_ATTRIBUTES",
    "EVENT_NAMES",
    "GEN_AI_TOKEN_TYPES",
    "INSTRUMENTS",
    "REDACTED",
    "RESPONSE_MAX_BYTES",
    "SCOPE_NAME",
    "SECRET_KEY_HINTS",
    "SECRET_KEY_SHAPES",
    "SECRET_MARKER",
    "SECRET_NAME",
    "SECRET_NAME_HINTS",
    "SHELL_TAGS",
    "SPAN_ATTRIBUTES",
    "TOKEN_TYPES",
    "TRUNCATED_MARKER",
    "AgentType",
    "AnalyticsEventType",
    "Attr",
    "Event",
    "EventSpec",
    "FieldKind",
    "FieldSpec",
    "GuardianOutcome",
    "InstrumentSpec",
    "MetricName",
    "Operation",
    "RiskLevel",
    "SpanAttr",
    "Tag",
    "ToolDecision",
    "ToolDecisionSource",
    "has_secret_shape",
    "is_secret_name",
    "safe_url",
    "safe_url_path",
    "secret_shape_pattern",
]
