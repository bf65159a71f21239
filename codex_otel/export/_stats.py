"""`DeliveryStats`: what became of the events (kept apart: it imports no SDK export code)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeliveryStats"]


@dataclass(frozen=True)
class DeliveryStats:
    """What happened to the events handed to the exporter pipeline so far.

    `accepted` events were queued; each of them is, in the end, `exported` (the collector
    acknowledged it), `export_failed` (refused or unreachable after the exporter's retries)
    or `unsent_at_shutdown` (still queued or in flight when the shutdown bound ran out).
    Events that never entered the queue are `queue_full` or `after_shutdown`.
    """

    accepted: int = 0
    exported: int = 0
    queue_full: int = 0
    export_failed: int = 0
    after_shutdown: int = 0
    unsent_at_shutdown: int = 0

    @property
    def dropped(self) -> int:
        """Every event not delivered, whatever the reason."""
        return self.queue_full + self.export_failed + self.after_shutdown + self.unsent_at_shutdown

    @property
    def pending(self) -> int:
        """Accepted events whose fate is not known yet (queued or being exported)."""
        return self.accepted - self.exported - self.export_failed - self.unsent_at_shutdown

    @property
    def offered(self) -> int:
        """Every event handed to the pipeline: accepted, or refused on the way in."""
        return self.accepted + self.queue_full + self.after_shutdown

    def summary(self) -> str:
        """`3 queue_full, 12 export_failed` — the non-zero drop reasons, for one log line."""
        reasons = ("queue_full", "export_failed", "after_shutdown", "unsent_at_shutdown")
        return ", ".join(f"{getattr(self, r)} {r}" for r in reasons if getattr(self, r))
