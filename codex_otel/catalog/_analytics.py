"""The analytics track-event types (`event_type`), written once.

The reducer produces them, the sinks and the tests read them from here.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ALL_EVENT_TYPES", "AnalyticsEventType"]


class AnalyticsEventType:
    """The `event_type` of every track event the analytics reducer produces."""

    THREAD_INITIALIZED: Final = "codex_thread_initialized"
    COMPACTION: Final = "codex_compaction_event"
    HOOK_RUN: Final = "codex_hook_run"
    GUARDIAN_REVIEW: Final = "codex_guardian_review"
    REVIEW: Final = "codex_review_event"
    SKILL_INVOCATION: Final = "skill_invocation"
    APP_MENTIONED: Final = "codex_app_mentioned"
    APP_USED: Final = "codex_app_used"
    PLUGIN_USED: Final = "codex_plugin_used"
    PLUGIN_INSTALLED: Final = "codex_plugin_installed"
    PLUGIN_UNINSTALLED: Final = "codex_plugin_uninstalled"
    PLUGIN_ENABLED: Final = "codex_plugin_enabled"
    PLUGIN_DISABLED: Final = "codex_plugin_disabled"
    TURN: Final = "codex_turn_event"
    TURN_STEER: Final = "codex_turn_steer_event"


ALL_EVENT_TYPES: Final = tuple(
    value for name, value in vars(AnalyticsEventType).items() if name.isupper()
)
