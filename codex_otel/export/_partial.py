"""What a collector's answer said of records it left out (OTLP partial success).

A collector may answer an export with success while refusing some of its records
(`partial_success.rejected_log_records`, with a message). The SDK's exporters ignore that
part of the answer; hooks on the exporters this package builds (`_private_sdk_exporters`)
read it into a probe, which the delivery consults after each request so those records are
counted as `rejected`, not `exported`.
"""

from __future__ import annotations

import threading

__all__ = ["PROBE_ATTRIBUTE", "PartialSuccessProbe", "probe_of", "rejected_in"]

# The probe rides on the exporter object it watches: the factory that built the exporter and
# the delivery that counts its requests need no other link.
PROBE_ATTRIBUTE = "_codex_otel_partial_success"


class PartialSuccessProbe:
    """Per exporting thread: records rejected since `start()`, and the collector's message."""

    def __init__(self) -> None:
        self._local = threading.local()

    def start(self) -> None:
        self._local.rejected = 0
        self._local.message = ""

    def record(self, rejected: int, message: str) -> None:
        self._local.rejected = getattr(self._local, "rejected", 0) + max(rejected, 0)
        self._local.message = message or getattr(self._local, "message", "")

    def take(self) -> tuple[int, str]:
        """What was recorded since `start()`: (records rejected, the collector's message)."""
        return getattr(self._local, "rejected", 0), getattr(self._local, "message", "")


def probe_of(exporter: object) -> PartialSuccessProbe | None:
    probe = getattr(exporter, PROBE_ATTRIBUTE, None)
    return probe if isinstance(probe, PartialSuccessProbe) else None


def rejected_in(response: object) -> tuple[int, str]:
    """(records rejected, message) of an Export*ServiceResponse; (0, "") when none."""
    partial = getattr(response, "partial_success", None)
    if partial is None:
        return 0, ""
    rejected = 0
    for field in ("rejected_log_records", "rejected_spans", "rejected_data_points"):
        rejected += int(getattr(partial, field, 0) or 0)
    return rejected, str(getattr(partial, "error_message", "") or "")
