"""The SDK internals `codex_otel.export._sdk_private` names are still there, in the form used.

If an OpenTelemetry release inside the pinned range renames one, this fails first, naming it.
"""

from __future__ import annotations

import inspect
import math
import os
import subprocess
import sys
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import (
    Logger,
    LoggerProvider,
    LogRecordLimits,
    LogRecordProcessor,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.resources import Resource

from codex_otel._config import Headers, OtlpGrpcExporter, OtlpHttpExporter
from codex_otel._logs import _catalog_limits
from codex_otel.export import _sdk_private
from codex_otel.export._factory import Signal, build_exporter


def test_the_api_names_the_context_key_that_suppresses_instrumentation() -> None:
    # The SDK's own batch processors set this key around each export; so does `BatchQueue`.
    from opentelemetry.sdk import _shared_internal

    key = _sdk_private.SUPPRESS_INSTRUMENTATION_KEY
    assert key.startswith("suppress_instrumentation")
    assert key == _shared_internal._SUPPRESS_INSTRUMENTATION_KEY


def test_a_stopped_periodic_reader_never_calls_its_exporter_again() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        InMemoryMetricReader,
        MetricExporter,
        MetricExportResult,
        PeriodicExportingMetricReader,
    )

    class Recording(MetricExporter):
        def __init__(self) -> None:
            super().__init__()
            self.exports = 0

        def export(self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any) -> Any:
            self.exports += 1
            return MetricExportResult.SUCCESS

        def force_flush(self, timeout_millis: float = 10_000) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
            pass

    exporter = Recording()
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader, InMemoryMetricReader()])
    try:
        provider.get_meter("m").create_counter("c").add(1)
        assert _sdk_private.reader_exporter(reader) is exporter
        _sdk_private.stop_reader_thread(reader)
        reader._daemon_thread.join(10)  # it ends after one last collection
        assert not reader._daemon_thread.is_alive()
        # What the SDK does in a forked child: a new thread, which sees the event set at once.
        reader._at_fork_reinit()  # type: ignore[no-untyped-call]
        reader._daemon_thread.join(10)
        assert not reader._daemon_thread.is_alive()
        assert exporter.exports == 0
        assert _sdk_private.reader_exporter(reader) is not exporter
    finally:
        provider.shutdown()
    assert exporter.exports == 0


def test_the_tracing_sdk_imports_under_an_invalid_span_attribute_count_limit() -> None:
    # Its import raises on such a value; `import_tracing_sdk` hides it for the import only.
    script = (
        "import os, sys\n"
        "from codex_otel.export._sdk_private import import_tracing_sdk\n"
        "import_tracing_sdk()\n"
        "print('opentelemetry.sdk.trace' in sys.modules, os.environ[sys.argv[1]])\n"
    )
    name = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT"
    result = subprocess.run(
        [sys.executable, "-c", script, name],
        env={**os.environ, name: "not-a-number"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert (result.stdout, result.stderr) == ("True not-a-number\n", "")


EXPORTERS = {
    "http/protobuf": OtlpHttpExporter(
        endpoint="http://127.0.0.1:9/v1/x", headers=Headers({"X-Ours": "1"})
    ),
    "http/json": OtlpHttpExporter(
        endpoint="http://127.0.0.1:9/v1/x", protocol="json", headers=Headers({"X-Ours": "1"})
    ),
    "grpc": OtlpGrpcExporter(endpoint="http://127.0.0.1:9", headers=Headers({"X-Ours": "1"})),
}


@pytest.mark.parametrize("signal", ["logs", "metrics", "traces"])
@pytest.mark.parametrize("transport", sorted(EXPORTERS))
def test_every_exporter_keeps_its_headers_where_pinning_replaces_them(
    transport: str, signal: Signal
) -> None:
    exporter = build_exporter(signal, EXPORTERS[transport])
    try:
        if transport == "grpc":
            held = getattr(exporter, _sdk_private.GRPC_HEADERS)
            assert held == (("x-ours", "1"),)
        else:
            client = getattr(exporter, _sdk_private.HTTP_CLIENT)
            held = getattr(client, _sdk_private.HTTP_HEADERS)
            assert {k: v for k, v in held.items() if k not in ("content-type", "user-agent")} == {
                "x-ours": "1"
            }
    finally:
        exporter.shutdown()


def test_an_exporter_with_no_header_field_is_refused_not_left_unpinned() -> None:
    with pytest.raises(TypeError, match="InMemoryLogRecordExporter: no header field to pin"):
        _sdk_private.pin_headers(InMemoryLogRecordExporter(), {"x": "1"})


def test_the_grpc_exporter_mixin_takes_every_value_the_log_exporter_would_read() -> None:
    from opentelemetry.exporter.otlp.proto.grpc.exporter import OTLPExporterMixin

    parameters = inspect.signature(OTLPExporterMixin.__init__).parameters
    wanted = {"stub", "result", "component_type", "signal", "endpoint", "insecure", "credentials"}
    wanted |= {"headers", "timeout", "compression", "retryable_error_codes"}
    assert wanted <= set(parameters)
    assert _sdk_private.GRPC_LOG_EXPORTER_MIXIN.endswith(OTLPExporterMixin.__qualname__)


@pytest.mark.parametrize("transport", sorted(EXPORTERS))
def test_every_logs_exporter_is_watched_for_partial_success_where_it_answers(
    transport: str,
) -> None:
    from codex_otel.export._partial import probe_of

    exporter = build_exporter("logs", EXPORTERS[transport])
    try:
        assert probe_of(exporter) is not None
        if transport == "grpc":
            assert callable(getattr(exporter, _sdk_private.GRPC_STUB))
            assert hasattr(getattr(exporter, _sdk_private.GRPC_CLIENT), "Export")
        elif transport == "http/json":
            client = getattr(exporter, _sdk_private.HTTP_CLIENT)
            assert hasattr(getattr(client, _sdk_private.HTTP_TRANSPORT), "request")
    finally:
        exporter.shutdown()


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
    assert getattr(logger, _sdk_private.LOGGER_LIMITS) is limits is keep.records[0].limits


def test_bounded_attributes_read_and_write_the_dict_behind_them() -> None:
    attributes = BoundedAttributes(maxlen=4, immutable=False, max_value_len=None)
    setattr(attributes, _sdk_private.ATTRIBUTES_DICT, {"a": "x", "b": 2})
    attributes["c"] = True
    assert (dict(attributes), len(attributes), attributes["a"], attributes.dropped) == (
        {"a": "x", "b": 2, "c": True},
        3,
        "x",
        0,
    )
    assert getattr(attributes, _sdk_private.ATTRIBUTES_DICT) == {"a": "x", "b": 2, "c": True}


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
    records = _sdk_private.CleanRecords.for_logger(logger)
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
    assert isinstance(attributes, _sdk_private.SizedAttributes)
    attributes["added"] = "by a processor"
    assert attributes.wire_size is None
    attributes.wire_size = 5
    del attributes["added"]
    assert attributes.wire_size is None


def test_records_are_built_only_where_the_sdk_would_keep_each_value_as_it_is() -> None:
    from opentelemetry._logs import NoOpLogger

    cutting = LogRecordLimits(max_log_record_attribute_length=10)
    assert _sdk_private.CleanRecords.for_logger(NoOpLogger("x")) is None
    assert _sdk_private.CleanRecords.for_logger(_sdk_logger(cutting)[0]) is None
    assert _sdk_private.CleanRecords.for_logger(_sdk_logger()[0]) is not None


def test_a_collection_runs_observable_callbacks_before_reading_synchronous_instruments() -> None:
    from opentelemetry.metrics import CallbackOptions, Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    meter = provider.get_meter("test")
    counter = meter.create_counter("counted")

    def late(options: CallbackOptions) -> list[Observation]:
        counter.add(2, {"from": "callback"})
        return []

    meter.create_observable_gauge("observes.nothing", callbacks=[late])
    data = reader.get_metrics_data()
    assert data is not None
    metrics = [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
    assert [
        (m.name, [(dict(p.attributes or {}), p.value) for p in m.data.data_points]) for m in metrics
    ] == [("counted", [({"from": "callback"}, 2)])]
    provider.shutdown()


def test_the_http_log_exporters_export_is_the_one_the_fast_export_copies() -> None:
    import hashlib

    from opentelemetry.exporter.otlp.proto.http import _log_exporter

    source = inspect.getsource(_log_exporter.OTLPLogExporter.export)
    assert hashlib.sha256(source.encode()).hexdigest() == _sdk_private.HTTP_LOG_EXPORT_SHA256
    exporter = _log_exporter.OTLPLogExporter(endpoint="http://127.0.0.1:9/v1/logs")
    try:
        assert exporter._shutdown is False
        assert isinstance(exporter._max_request_size, int)
        assert callable(exporter._metrics.export_operation)
        assert callable(exporter._client.export)
        for name in (
            "_is_request_too_large",
            "RequestPayloadTooLargeError",
            "HTTP_RESPONSE_STATUS_CODE",
            "_logger",
        ):
            assert hasattr(_log_exporter, name), name
    finally:
        exporter.shutdown()


def test_the_grpc_log_exporter_sends_what_translate_data_gives_through_its_stub() -> None:
    from opentelemetry.exporter.otlp.proto.grpc import exporter as grpc_exporter
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

    source = inspect.getsource(grpc_exporter.OTLPExporterMixin._export)
    assert "request=self._translate_data(data)" in source
    assert "self._client.Export(" in source
    exporter = OTLPLogExporter(endpoint="http://127.0.0.1:9", insecure=True)
    try:
        assert getattr(exporter, "_channel", None) is not None
        assert exporter._client is not None
        _sdk_private.fast_grpc_log_export(exporter, bytes)
        assert isinstance(exporter._client, _sdk_private._BytesLogsStub)
        rebuilt = exporter._stub(exporter._channel)
        assert isinstance(rebuilt, _sdk_private._BytesLogsStub)
    finally:
        exporter.shutdown()


def test_a_changed_sdk_export_keeps_the_sdks_own_export(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.exporter.otlp.proto.http import _log_exporter

    monkeypatch.setattr(_sdk_private, "HTTP_LOG_EXPORT_SHA256", "not the installed one")
    _sdk_private._http_export_is_the_copied_one.cache_clear()
    try:
        exporter = _log_exporter.OTLPLogExporter(endpoint="http://127.0.0.1:9/v1/logs")
        _sdk_private.fast_http_log_export(exporter, lambda batch: b"")
        assert "export" not in vars(exporter)  # the class's own, not the copy
        exporter.shutdown()
    finally:
        _sdk_private._http_export_is_the_copied_one.cache_clear()


def test_the_metrics_sdk_methods_the_bulk_path_copies_are_the_installed_ones() -> None:
    assert _sdk_private.metrics_bulk_fingerprint() == _sdk_private.METRICS_BULK_SHA256
    assert _sdk_private._BulkPath.load() is not None


def test_the_metrics_sdk_internals_the_bulk_path_reads_are_there() -> None:
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    bulk = _sdk_private._BulkPath()
    provider = MeterProvider(
        metric_readers=[InMemoryMetricReader()],
        shutdown_on_exit=False,
        exemplar_filter=AlwaysOffExemplarFilter(),
    )
    meter = provider.get_meter("test")
    counter = meter.create_counter("c")
    histogram = meter.create_histogram("h", explicit_bucket_boundaries_advisory=[1.0, 2.0])
    try:
        assert isinstance(counter, bulk.counters) and isinstance(histogram, bulk.histograms)
        assert counter._is_enabled() is True
        consumer = counter._measurement_consumer
        assert type(consumer) is bulk.consumer
        assert type(consumer._sdk_config.exemplar_filter) is bulk.always_off
        (storage,) = consumer._reader_storages.values()
        assert type(storage) is bulk.storage
        for instrument, kind in ((counter, bulk.sum), (histogram, bulk.histogram)):
            (match,) = storage._get_or_init_view_instrument_match(instrument)
            assert type(match) is bulk.match
            assert match._view._attribute_keys is None
            key = bulk.hash_attributes({"a": "x"})
            with match._lock:
                aggregation = match._get_or_create_aggregation(key, {"a": "x"})
            assert type(aggregation) is kind
            assert (aggregation._value, type(aggregation._lock)) == (None, type(match._lock))
        assert (aggregation._boundaries, aggregation._record_min_max) == ((1.0, 2.0), True)
        assert (aggregation._sum, aggregation._min, aggregation._max) == (0, math.inf, -math.inf)
        assert aggregation._get_empty_bucket_counts() == [0, 0, 0]
        measurement = bulk.measurement(1, 0, histogram, bulk.current_context(), {"a": "x"})
        aggregation.aggregate(measurement, False)
        assert (aggregation._value, aggregation._sum) == ([1, 0, 0], 1)
    finally:
        provider.shutdown()


def test_a_changed_metrics_sdk_keeps_every_value_on_the_public_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    monkeypatch.setattr(_sdk_private, "METRICS_BULK_SHA256", "not the installed one")
    _sdk_private._BulkPath.load.cache_clear()
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        shutdown_on_exit=False,
        exemplar_filter=AlwaysOffExemplarFilter(),
    )
    try:
        counter = provider.get_meter("test").create_counter("c")
        values = [1, 2, 3]
        assert _sdk_private.aggregate_in_bulk(counter, {"a": "x"}, values) is values
        assert reader.get_metrics_data() is None  # nothing was aggregated
    finally:
        provider.shutdown()
        _sdk_private._BulkPath.load.cache_clear()
