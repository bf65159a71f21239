"""Names written once: events and their attribute keys, instruments and tags, resource names,
spans, analytics event types.

The event methods, the metrics pipeline, the command line and the tests all read these.
"""

from ._analytics import ALL_EVENT_TYPES, AnalyticsEventType
from ._events import (
    COMMON_ATTRIBUTES,
    EVENT_ATTRIBUTES,
    EVENT_NAMES,
    REDACTED,
    SECRET_MARKER,
    TRUNCATED_MARKER,
    Attr,
    Event,
    ToolDecision,
    ToolDecisionSource,
)
from ._instruments import INSTRUMENTS, InstrumentSpec, MetricName, Tag
from ._resource import DEFAULT_SERVICE_NAME, ENVIRONMENT_KEY, SCOPE_NAME
from ._secrets import (
    SECRET_KEY_HINTS,
    SECRET_KEY_SHAPES,
    SECRET_NAME,
    SECRET_NAME_HINTS,
    is_secret_name,
)
from ._spans import AGENT_NAME, SPAN_ATTRIBUTES, Operation, SpanAttr

__all__ = [
    "AGENT_NAME",
    "ALL_EVENT_TYPES",
    "COMMON_ATTRIBUTES",
    "DEFAULT_SERVICE_NAME",
    "ENVIRONMENT_KEY",
    "EVENT_ATTRIBUTES",
    "EVENT_NAMES",
    "INSTRUMENTS",
    "REDACTED",
    "SCOPE_NAME",
    "SECRET_KEY_HINTS",
    "SECRET_KEY_SHAPES",
    "SECRET_MARKER",
    "SECRET_NAME",
    "SECRET_NAME_HINTS",
    "SPAN_ATTRIBUTES",
    "TRUNCATED_MARKER",
    "AnalyticsEventType",
    "Attr",
    "Event",
    "InstrumentSpec",
    "MetricName",
    "Operation",
    "SpanAttr",
    "Tag",
    "ToolDecision",
    "ToolDecisionSource",
    "is_secret_name",
]
