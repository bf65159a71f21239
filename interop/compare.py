"""What the real Codex exported against codex_otel's catalog: event names, each event's
fields, and metric names (Codex's own bookkeeping of its storage, plugins and skills aside).

Read from the lines `codex-otel receive --output` writes (and `run_codex` records)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from codex_otel.catalog import COMMON_ATTRIBUTES, EVENT_ATTRIBUTES, INSTRUMENTS

__all__ = ["LEFT_OUT", "NOT_OURS", "Report", "compare"]

# Codex's metrics about its own machinery (its SQLite state, credential storage, plugin and
# skill caches, rollout files, shell snapshots, cloud config, memory): no host of codex_otel
# has these, so they are not ours to record.
NOT_OURS = (
    "codex.auth.",
    "codex.auth_storage.",
    "codex.cloud_config_bundle.",
    "codex.db.",
    "codex.guardian.",
    "codex.mcp.binding_catalog.",
    "codex.plugins.loaded_cache.",
    "codex.plugins.startup_sync",
    "codex.rollout",
    "codex.shell_snapshot",
    "codex.skills.",
    "codex.sqlite.",
    "codex.thread.skills.",
    "codex.thread_history.",
    "codex.tools.registered",
    "codex.turn.memory",
    "codex.turn.network_proxy",
    "codex.turn.unified_exec.",
    "codex.tool.unified_exec",
)


# Fields Codex sends that codex_otel leaves out on purpose, and why.
LEFT_OUT = {
    "config.legacy_multi_agent_disabled_sources": "Codex's own multi-agent configuration",
    "agent_name": "Codex's agent tree path (`/root`); no host of codex_otel has one",
    "tool_result_seq": "Codex's per-session tool result counter; `event.sequence` orders "
    "every event of a conversation",
}


@dataclass
class Report:
    events: dict[str, list[str]] = field(default_factory=dict)
    """Each Codex event name -> the fields it carried that our catalog lacks."""
    missing_events: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    missing_metrics: list[str] = field(default_factory=list)
    not_ours: list[str] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    """Each Codex event name -> the fields of `LEFT_OUT` it carried."""
    log_records: int = 0
    spans: int = 0

    @property
    def ok(self) -> bool:
        return (
            not self.missing_events and not self.missing_metrics and not any(self.events.values())
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "log_records": self.log_records,
            "spans": self.spans,
            "events": self.events,
            "missing_events": self.missing_events,
            "metrics": self.metrics,
            "missing_metrics": self.missing_metrics,
            "not_ours": self.not_ours,
            "left_out": self.left_out,
        }

    def lines(self) -> list[str]:
        have = [name for name in self.events if name not in self.missing_events]
        out = [
            f"log records {self.log_records}, spans {self.spans}",
            f"events: {len(have)} of {len(self.events)} of Codex's names in the catalog",
        ]
        out += [f"  missing event: {name}" for name in self.missing_events]
        for name, fields in self.events.items():
            if fields:
                out.append(f"  {name}: fields not in the catalog: {', '.join(fields)}")
        for name, fields in self.left_out.items():
            for key in fields:
                out.append(f"  {name}: {key} left out on purpose ({LEFT_OUT[key]})")
        ours = len(self.metrics)
        out.append(
            f"metrics: {ours - len(self.missing_metrics)} of {ours} of Codex's session, turn, "
            f"request, tool and start-up metrics recorded here ({len(self.not_ours)} of its "
            "own bookkeeping left aside)"
        )
        out += [f"  missing metric: {name}" for name in self.missing_metrics]
        out.append("OK: Codex's names match" if self.ok else "MISMATCH: see above")
        return out


def compare(lines: Iterable[Mapping[str, Any]]) -> Report:
    report = Report()
    known_metrics = {spec.name for spec in INSTRUMENTS}
    fields_of: dict[str, set[str]] = {}
    metric_names: set[str] = set()
    for line in lines:
        if "event" in line:
            report.log_records += 1
            attributes = line.get("attributes") or {}
            name = attributes.get("event.name")
            if isinstance(name, str):
                fields_of.setdefault(name, set()).update(attributes)
        elif "metric" in line:
            metric_names.add(str(line["metric"]))
        elif "span" in line:
            report.spans += 1
    for name in sorted(fields_of):
        declared = EVENT_ATTRIBUTES.get(name)
        if declared is None:
            report.missing_events.append(name)
            report.events[name] = []
            continue
        known = {*COMMON_ATTRIBUTES, *declared, *LEFT_OUT}
        report.events[name] = sorted(fields_of[name] - known)
        report.left_out[name] = sorted(fields_of[name] & set(LEFT_OUT))
    for name in sorted(metric_names):
        if name.startswith(NOT_OURS):
            report.not_ours.append(name)
            continue
        report.metrics.append(name)
        if name not in known_metrics:
            report.missing_metrics.append(name)
    return report
