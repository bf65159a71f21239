"""Codex's product analytics: facts in, a reducer, track events out.

The host observes facts (the JSON-RPC traffic of its app-server connections, and facts it knows
itself) through an `AnalyticsClient`; one worker folds them into track events and hands those
to the sinks: `TrackEventsApiSink` (Codex's track-events API) and `OtelSink` (the package's own
OpenTelemetry pipeline, one log record per event).
"""

from .._config_load import AnalyticsConfig, load_analytics_config
from ..catalog import ALL_EVENT_TYPES, AnalyticsEventType
from ._api_sink import TrackEventsApiSink
from ._client import AnalyticsClient, AnalyticsStats
from ._facts import (
    AppInvocation,
    CompactionFact,
    GuardianReviewedAction,
    GuardianReviewFact,
    HookRunFact,
    PluginMetadata,
    RuntimeMetadata,
    SkillInvocation,
    SubagentThreadStarted,
    TrackEventsContext,
    TurnResolvedConfig,
    TurnTokenUsage,
    current_runtime,
)
from ._hooks import classify_hook_source
from ._reducer import AnalyticsReducer, TrackEvent, skill_id_for_skill
from ._replay import replay
from ._sinks import OtelSink, Sink, SinkStats, event_attributes

__all__ = [
    "ALL_EVENT_TYPES",
    "AnalyticsClient",
    "AnalyticsConfig",
    "AnalyticsEventType",
    "AnalyticsReducer",
    "AnalyticsStats",
    "AppInvocation",
    "CompactionFact",
    "GuardianReviewFact",
    "GuardianReviewedAction",
    "HookRunFact",
    "OtelSink",
    "PluginMetadata",
    "RuntimeMetadata",
    "Sink",
    "SinkStats",
    "SkillInvocation",
    "SubagentThreadStarted",
    "TrackEvent",
    "TrackEventsApiSink",
    "TrackEventsContext",
    "TurnResolvedConfig",
    "TurnTokenUsage",
    "classify_hook_source",
    "current_runtime",
    "event_attributes",
    "load_analytics_config",
    "replay",
    "skill_id_for_skill",
]
