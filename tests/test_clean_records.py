"""The package's own records skip the SDK's second cleaning of their attributes, and carry the
wire size the delivery would otherwise estimate by walking them again."""

from __future__ import annotations

from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.resources import Resource

from codex_otel import OtelEventManager
from codex_otel._bridge import bound_logger
from codex_otel._logs import _catalog_limits
from codex_otel.export._private_sdk_logs import SizedAttributes
from codex_otel.export._sizes import log_record_size
from tests.conftest import METADATA, Memory, emit_catalog, expected_catalog
from tests.test_private_sdk_logs import Keep
from tests.test_values_wire import emit_odd_values


def test_every_catalog_event_carries_the_size_a_walk_of_its_record_estimates(
    memory: Memory,
) -> None:
    provider, capture = memory
    manager = OtelEventManager(provider, **METADATA)
    emit_catalog(manager)
    emit_odd_values(manager)
    records = capture.records
    assert {type(record.log_record.attributes) for record in records} == {SizedAttributes}
    carried = [log_record_size(record) for record in records]
    for record in records:
        record.log_record.attributes.wire_size = None  # type: ignore[union-attr]
    walked = [log_record_size(record) for record in records]
    assert carried == walked
    names = {record.log_record.event_name for record in records}
    assert names == {name for name, _ in expected_catalog()}


def test_a_value_other_than_text_or_a_number_is_left_to_the_sdk_to_clean() -> None:
    provider = LoggerProvider(
        resource=Resource.create({}), shutdown_on_exit=False, log_record_limits=_catalog_limits()
    )
    keep = Keep()
    provider.add_log_record_processor(keep)
    log = bound_logger(provider.get_logger("test"), {"model": "gpt-5"})
    fields: dict[str, Any] = {"servers": ["a", "b"], "count": 2}
    log.info_in(None, "codex.custom", dict(fields))
    log.info_in(None, "codex.custom", {"count": 2})
    cleaned, clean = (record.log_record.attributes for record in keep.records)
    assert (type(cleaned), type(clean)) == (BoundedAttributes, SizedAttributes)
    # The SDK's cleaning: a list becomes a tuple.
    assert {k: v for k, v in dict(cleaned or {}).items() if k != "event.timestamp"} == {
        "model": "gpt-5",
        "servers": ("a", "b"),
        "count": 2,
        "event.name": "codex.custom",
    }
