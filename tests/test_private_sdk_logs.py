"""The logs SDK internals that `codex_otel.export._private_sdk_logs` names are still there,
in the form used.

If a release inside the pinned range renames one, this fails first, naming it.
"""

from __future__ import annotations

from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import (
    Logger,
    LoggerProvider,
    LogRecordLimits,
    LogRecordProcessor,
    ReadWriteLogRecord,
)
from opentelemetry.sdk.resources import Resource

from codex_otel._logs import _catalog_limits
from codex_otel.export import _private_sdk_logs as private

# -- records built with clean attributes (`CleanRecords`) ------------------------------------


class Keep(LogRecordProcessor):
    """Keeps every record a processor is handed, as it is handed."""

    def __init__(self) -> None:
        self.records: list[ReadWriteLogRecord] = []

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.records.append(log_record)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _sdk_logger(limits: LogRecordLimits | None = None) -> tuple[Logger, Keep]:
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "test"}),
        shutdown_on_exit=False,
        log_record_limits=limits or _catalog_limits(),
    )
    keep = Keep()
    provider.add_log_record_processor(keep)
    return provider.get_logger("codex_otel", "1.0"), keep


def test_the_sdk_logger_keeps_the_limits_it_gives_its_records() -> None:
    limits = _catalog_limits()
    logger, keep = _sdk_logger(limits)
    logger.emit(body="x")
    assert getattr(logger, private.LOGGER_LIMITS) is limits is keep.records[0].limits


def test_bounded_attributes_read_and_write_the_dict_behind_them() -> None:
    attributes = BoundedAttributes(maxlen=4, immutable=False, max_value_len=None)
    setattr(attributes, private.ATTRIBUTES_DICT, {"a": "x", "b": 2})
    attributes["c"] = True
    assert (dict(attributes), len(attributes), attributes["a"], attributes.dropped) == (
        {"a": "x", "b": 2, "c": True},
        3,
        "x",
        0,
    )
    assert getattr(attributes, private.ATTRIBUTES_DICT) == {"a": "x", "b": 2, "c": True}


CLEAN_VALUES: dict[str, Any] = {
    "event.name": "codex.tool_result",
    "text": "ls -la",
    "unicode": "héllo wörld ✓",
    "empty": "",
    "int": 2**63 - 1,
    "negative": -(2**63),
    "float": 0.25,
    "true": True,
    "false": False,
}


def _emit_both(logger: Logger, attributes: dict[str, Any]) -> None:
    """The same record through `Logger.emit`'s own building and through `CleanRecords`."""
    records = private.CleanRecords.for_logger(logger)
    assert records is not None
    logger.emit(
        timestamp=1_700_000_000_000_000_000,
        observed_timestamp=1_700_000_000_000_000_000,
        severity_number=SeverityNumber.INFO,
        severity_text="INFO",
        body="codex.tool_result",
        attributes=dict(attributes),
        event_name="codex.tool_result",
    )
    records.emit(
        timestamp=1_700_000_000_000_000_000,
        context=None,
        severity_number=SeverityNumber.INFO,
        severity_text="INFO",
        event_name="codex.tool_result",
        attributes=dict(attributes),
        attributes_size=123,
    )


def test_a_record_built_with_clean_attributes_is_the_record_the_sdk_builds() -> None:
    logger, keep = _sdk_logger()
    _emit_both(logger, CLEAN_VALUES)
    sdk, fast = keep.records
    assert (type(fast), type(fast.log_record)) == (type(sdk), type(sdk.log_record))
    assert isinstance(fast.log_record.attributes, BoundedAttributes)
    # Every field of the record, of its API record and of its attributes, the same.
    assert {**vars(fast), "log_record": None} == {**vars(sdk), "log_record": None}
    assert vars(fast.log_record) == vars(sdk.log_record)
    fast_attributes = dict(vars(fast.log_record.attributes))
    sdk_attributes = dict(vars(sdk.log_record.attributes))
    assert fast_attributes.pop("wire_size") == 123
    assert fast_attributes.pop("_lock") is not sdk_attributes.pop("_lock")
    assert fast_attributes == sdk_attributes
    assert dict(fast.log_record.attributes) == CLEAN_VALUES
    assert fast.dropped_attributes == sdk.dropped_attributes == 0


def test_changed_clean_attributes_forget_their_size() -> None:
    logger, keep = _sdk_logger()
    _emit_both(logger, CLEAN_VALUES)
    attributes = keep.records[1].log_record.attributes
    assert isinstance(attributes, private.SizedAttributes)
    attributes["added"] = "by a processor"
    assert attributes.wire_size is None
    attributes.wire_size = 5
    del attributes["added"]
    assert attributes.wire_size is None


def test_records_are_built_only_where_the_sdk_would_keep_each_value_as_it_is() -> None:
    from opentelemetry._logs import NoOpLogger

    cutting = LogRecordLimits(max_log_record_attribute_length=10)
    assert private.CleanRecords.for_logger(NoOpLogger("x")) is None
    assert private.CleanRecords.for_logger(_sdk_logger(cutting)[0]) is None
    assert private.CleanRecords.for_logger(_sdk_logger()[0]) is not None
