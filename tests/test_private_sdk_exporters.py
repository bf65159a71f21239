"""The OpenTelemetry exporters' internals that `codex_otel.export._private_sdk_exporters`
names are still there, in the form used.

If a release inside the pinned range renames one, this fails first, naming it.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from typing import Any, Literal

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

from codex_otel._config import Headers, OtlpGrpcExporter, OtlpHttpExporter
from codex_otel.export import _private_sdk_exporters as private
from codex_otel.export._factory import Signal, build_exporter
from tests.faulty import CountingRelay


def test_the_api_names_the_context_key_that_suppresses_instrumentation() -> None:
    # The SDK's own batch processors set this key around each export; so does `BatchQueue`.
    from opentelemetry.sdk import _shared_internal

    key = private.SUPPRESS_INSTRUMENTATION_KEY
    assert key.startswith("suppress_instrumentation")
    assert key == _shared_internal._SUPPRESS_INSTRUMENTATION_KEY


def test_the_tracing_sdk_imports_under_an_invalid_span_attribute_count_limit() -> None:
    # Its import raises on such a value; `import_tracing_sdk` hides it for the import only.
    script = (
        "import os, sys\n"
        "from codex_otel.export._private_sdk_exporters import import_tracing_sdk\n"
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
            held = getattr(exporter, private.GRPC_HEADERS)
            assert held == (("x-ours", "1"),)
        else:
            client = getattr(exporter, private.HTTP_CLIENT)
            held = getattr(client, private.HTTP_HEADERS)
            assert {k: v for k, v in held.items() if k not in ("content-type", "user-agent")} == {
                "x-ours": "1"
            }
    finally:
        exporter.shutdown()


def test_an_exporter_with_no_header_field_is_refused_not_left_unpinned() -> None:
    with pytest.raises(TypeError, match="InMemoryLogRecordExporter: no header field to pin"):
        private.pin_headers(InMemoryLogRecordExporter(), {"x": "1"})


def test_the_grpc_exporter_mixin_takes_every_value_the_log_exporter_would_read() -> None:
    from opentelemetry.exporter.otlp.proto.grpc.exporter import OTLPExporterMixin

    parameters = inspect.signature(OTLPExporterMixin.__init__).parameters
    wanted = {"stub", "result", "component_type", "signal", "endpoint", "insecure", "credentials"}
    wanted |= {"headers", "timeout", "compression", "retryable_error_codes"}
    assert wanted <= set(parameters)
    assert private.GRPC_LOG_EXPORTER_MIXIN.endswith(OTLPExporterMixin.__qualname__)


@pytest.mark.parametrize("transport", sorted(EXPORTERS))
def test_every_logs_exporter_is_watched_for_partial_success_where_it_answers(
    transport: str,
) -> None:
    from codex_otel.export._partial import probe_of

    exporter = build_exporter("logs", EXPORTERS[transport])
    try:
        assert probe_of(exporter) is not None
        if transport == "grpc":
            assert callable(getattr(exporter, private.GRPC_STUB))
            assert hasattr(getattr(exporter, private.GRPC_CLIENT), "Export")
        elif transport == "http/json":
            client = getattr(exporter, private.HTTP_CLIENT)
            assert hasattr(getattr(client, private.HTTP_TRANSPORT), "request")
    finally:
        exporter.shutdown()


@pytest.mark.parametrize("protocol", ["binary", "json"])
def test_an_otlp_http_exporters_transport_sends_through_the_pools_it_holds(
    protocol: Literal["binary", "json"],
) -> None:
    import requests
    import urllib3

    config = OtlpHttpExporter(endpoint="http://127.0.0.1:9/v1/logs", protocol=protocol)
    exporter = build_exporter("logs", config)
    try:
        transport = private.http_transport(exporter)
        assert callable(transport.request) and callable(transport.is_connection_error)
        session = private.http_transport_session(transport)
        pool = private.http_transport_pool(transport)
        if protocol == "binary":  # requests
            assert (isinstance(session, requests.Session), pool) == (True, None)
        else:  # urllib3
            assert (session, isinstance(pool, urllib3.PoolManager)) == (None, True)
            fresh = urllib3.PoolManager()
            private.replace_http_transport_pool(transport, fresh)
            assert private.http_transport_pool(transport) is fresh
    finally:
        exporter.shutdown()


def test_the_grpc_exporter_fails_at_once_on_an_error_it_is_told_never_to_retry() -> None:

    class NeverRetried:
        def __init__(self, stub: Any) -> None:
            self.stub = stub

        def Export(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return self.stub.Export(*args, **kwargs)
            except Exception as error:
                raise private.final_grpc_error(error, "told so") from error

    with CountingRelay() as relay:  # a collector that is down: UNAVAILABLE, retryable
        config = OtlpGrpcExporter(endpoint=f"http://127.0.0.1:{relay.port}")
        exporter = build_exporter("traces", config)
        private.wrap_grpc_stub(exporter, NeverRetried)
        try:
            result = exporter.export([])
        finally:
            exporter.shutdown()
        assert (result.name, relay.connections) == ("FAILURE", 1)
