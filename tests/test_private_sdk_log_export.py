"""The log exporters' internals that `codex_otel.export._private_sdk_log_export` names
are still there, in the form used.

If a release inside the pinned range renames one, this fails first, naming it.
"""

from __future__ import annotations

import inspect

import pytest

from codex_otel.export import _private_sdk_log_export as private


def test_the_http_log_exporters_export_is_the_one_the_fast_export_copies() -> None:
    import hashlib

    from opentelemetry.exporter.otlp.proto.http import _log_exporter

    source = inspect.getsource(_log_exporter.OTLPLogExporter.export)
    assert hashlib.sha256(source.encode()).hexdigest() == private.HTTP_LOG_EXPORT_SHA256
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
        private.fast_grpc_log_export(exporter, bytes)
        assert isinstance(exporter._client, private._BytesLogsStub)
        rebuilt = exporter._stub(exporter._channel)
        assert isinstance(rebuilt, private._BytesLogsStub)
    finally:
        exporter.shutdown()


def test_a_changed_sdk_export_keeps_the_sdks_own_export(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.exporter.otlp.proto.http import _log_exporter

    monkeypatch.setattr(private, "HTTP_LOG_EXPORT_SHA256", "not the installed one")
    private._http_export_is_the_copied_one.cache_clear()
    try:
        exporter = _log_exporter.OTLPLogExporter(endpoint="http://127.0.0.1:9/v1/logs")
        private.fast_http_log_export(exporter, lambda batch: b"")
        assert "export" not in vars(exporter)  # the class's own, not the copy
        exporter.shutdown()
    finally:
        private._http_export_is_the_copied_one.cache_clear()
