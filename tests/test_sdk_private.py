"""The SDK internals `codex_otel.export._sdk_private` names are still there, in the form used.

If an OpenTelemetry release inside the pinned range renames one, this fails first, naming it.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, InMemoryLogRecordExporter

from codex_otel._config import Headers, OtlpGrpcExporter, OtlpHttpExporter
from codex_otel.export import _sdk_private
from codex_otel.export._factory import Signal, build_exporter


def test_the_log_batch_processor_holds_a_batch_processor_whose_shutdown_takes_a_bound() -> None:
    processor = BatchLogRecordProcessor(InMemoryLogRecordExporter())
    try:
        inner = _sdk_private.inner_batch_processor(processor)
        assert "timeout_millis" in inspect.signature(inner.shutdown).parameters
    finally:
        processor.shutdown()


def test_the_span_batch_processor_holds_a_batch_processor_whose_shutdown_takes_a_bound() -> None:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    processor = BatchSpanProcessor(InMemorySpanExporter())
    try:
        inner = _sdk_private.inner_batch_processor(processor)
        assert "timeout_millis" in inspect.signature(inner.shutdown).parameters
    finally:
        processor.shutdown()


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
