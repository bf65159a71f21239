"""`DeliveryStats`: what became of the events (kept apart: it imports no SDK export code)."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["DeliveryStats"]


@dataclass(frozen=True)
class DeliveryStats:
    """What happened to the events handed to the exporter pipeline so far.

    `accepted` events were queued; each of them ends under exactly one of: `exported` (the
    collector acknowledged it), `export_failed` (refused or unreachable after the exporter's
    retries), `rejected` (the collector answered with a partial success that left it out),
    `too_large` (bigger on its own than one export request may be, so never sent),
    `unsent_at_shutdown` (still queued when the shutdown bound ran out) or
    `in_flight_at_shutdown` (being exported when the bound ran out: whether the collector
    got it is not known). Events that never entered the queue are `queue_full` or
    `after_shutdown`.
    """

    accepted: int = 0
    exported: int = 0
    queue_full: int = 0
    export_failed: int = 0
    after_shutdown: int = 0
    unsent_at_shutdown: int = 0
    rejected: int = 0
    too_large: int = 0
    in_flight_at_shutdown: int = 0

    @property
    def dropped(self) -> int:
        """Every event not confirmed delivered, whatever the reason."""
        return sum(getattr(self, reason) for reason in _REASONS)

    @property
    def pending(self) -> int:
        """Accepted events whose fate is not known yet (queued or being exported)."""
        return self.accepted + self.queue_full + self.after_shutdown - self.exported - self.dropped

    @property
    def offered(self) -> int:
        """Every event handed to the pipeline: accepted, or refused on the way in."""
        return self.accepted + self.queue_full + self.after_shutdown

    def summary(self) -> str:
        """`3 queue_full, 12 export_failed` — the non-zero drop reasons, for one log line."""
        return ", ".join(f"{getattr(self, r)} {r}" for r in _REASONS if getattr(self, r))

    def shutdown_message(self, noun: str) -> str:
        """What became of the `noun` (events, spans) not confirmed delivered, in one sentence.

        Those in flight at shutdown usually arrived (only the answer was not awaited): they
        are said apart, as events that may have arrived, not as lost ones.
        """
        lost = self.dropped - self.in_flight_at_shutdown
        reasons = ", ".join(
            f"{getattr(self, r)} {r}"
            for r in _REASONS
            if getattr(self, r) and r != "in_flight_at_shutdown"
        )
        in_flight = (
            f"{self.in_flight_at_shutdown} were being sent when the shutdown bound ran out and "
            "may have arrived (in_flight_at_shutdown)"
        )
        if not lost:
            return f"codex_otel: of {self.offered} telemetry {noun}, {in_flight}"
        text = (
            f"codex_otel: {lost} of {self.offered} telemetry {noun} were not delivered ({reasons})"
        )
        return f"{text}; {in_flight}" if self.in_flight_at_shutdown else text


# Every field but `accepted` and `exported` is a reason an event was not delivered.
_REASONS = tuple(f.name for f in fields(DeliveryStats) if f.name not in ("accepted", "exported"))
