"""The two pipelines compared end to end: codex_otel's, and the raw SDK's on the same records.

Both send to the same receiver with the exporter packages codex_otel uses. The raw pipeline is
what a host would write against the SDK: a LoggerProvider, a BatchLogRecordProcessor with the
SDK's defaults, an OTLP exporter, and `Logger.emit` of a hand-built record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry._logs import Logger, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.resources import Resource

from benchmarks._common import COMMON_ATTRIBUTES, METADATA
from codex_otel import (
    OtelConfig,
    OtelEventManager,
    OtelProvider,
    OtlpGrpcExporter,
    OtlpHttpExporter,
)
from codex_otel._bridge import rfc3339_millis

TRANSPORTS = ("http/protobuf", "grpc")
_INFO = SeverityNumber.INFO
ARGUMENTS = {"command": ["rg", "--files", "src"], "workdir": "/home/dev/project"}
OUTPUT = "src/main.py\nsrc/util.py\nsrc/cli.py"


class Pipeline:
    """Emits `count` events, cycling four of the catalog's events, then shuts down.

    The mix: `codex.sse_event` (a stream delta), `codex.api_request`, `codex.tool_decision`,
    `codex.tool_result`, each with its full fields.
    """

    name = ""

    def __init__(self, transport: str, endpoint: str) -> None:
        raise NotImplementedError

    def emit(self, count: int) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        raise NotImplementedError


class CodexOtelPipeline(Pipeline):
    name = "codex_otel"

    def __init__(self, transport: str, endpoint: str) -> None:
        exporter = (
            OtlpGrpcExporter(endpoint=endpoint)
            if transport == "grpc"
            else OtlpHttpExporter(endpoint=endpoint)
        )
        config = OtelConfig(environment="bench", exporter=exporter)
        self._provider = OtelProvider.from_config(config, service_version="0.0.0-bench")
        self._manager = OtelEventManager(self._provider, **METADATA)

    def emit(self, count: int) -> None:
        manager = self._manager
        for i in range(count):
            step = i & 3
            if step == 0:
                manager.sse_event("response.output_text.delta", 0.012)
            elif step == 1:
                manager.api_request(1, 0.245, status_code=200, cf_ray="8f2a1c3b9d7e-SJC")
            elif step == 2:
                manager.tool_decision("shell", "call_7Hq2", "approved", "user")
            else:
                manager.tool_result("shell", "call_7Hq2", ARGUMENTS, 0.0153, True, OUTPUT)

    def shutdown(self) -> None:
        self._provider.shutdown()


def raw_exporter(transport: str, endpoint: str) -> LogRecordExporter:
    if transport == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        return OTLPLogExporter(endpoint=endpoint, insecure=True, timeout=10)
    from opentelemetry.exporter.otlp.proto.http._log_exporter import (
        OTLPLogExporter as HttpExporter,
    )

    return HttpExporter(endpoint=endpoint, timeout=10)


def raw_emit(
    logger: Logger,
    name: str,
    fields: dict[str, Any],
    common: Mapping[str, Any] = COMMON_ATTRIBUTES,
) -> None:
    """What a host writing straight against the SDK does for one of our records; `common`:
    the conversation's metadata."""
    now = time.time_ns()
    logger.emit(
        timestamp=now,
        observed_timestamp=now,
        severity_number=_INFO,
        severity_text="INFO",
        body=name,
        attributes={
            "event.name": name,
            "event.timestamp": rfc3339_millis(now),
            **common,
            **fields,
        },
        event_name=name,
    )


class RawSdkPipeline(Pipeline):
    name = "raw_sdk"

    def __init__(self, transport: str, endpoint: str) -> None:
        resource = Resource.create(
            {"service.name": "codex-cli", "service.version": "0.0.0-bench", "env": "bench"}
        )
        self._provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        # The SDK's defaults: 1 s delay, queue 2048, batches of 512.
        self._provider.add_log_record_processor(
            BatchLogRecordProcessor(raw_exporter(transport, endpoint))
        )
        self._logger = self._provider.get_logger("bench")

    def emit(self, count: int) -> None:
        logger = self._logger
        for i in range(count):
            step = i & 3
            if step == 0:
                raw_emit(
                    logger,
                    "codex.sse_event",
                    {"event.kind": "response.output_text.delta", "duration_ms": int(0.012 * 1000)},
                )
            elif step == 1:
                raw_emit(
                    logger,
                    "codex.api_request",
                    {
                        "attempt": 1,
                        "duration_ms": int(0.245 * 1000),
                        "http.response.status_code": 200,
                        "cf_ray": "8f2a1c3b9d7e-SJC",
                    },
                )
            elif step == 2:
                raw_emit(
                    logger,
                    "codex.tool_decision",
                    {
                        "tool_name": "shell",
                        "call_id": "call_7Hq2",
                        "decision": "approved",
                        "source": "user",
                    },
                )
            else:
                raw_emit(
                    logger,
                    "codex.tool_result",
                    {
                        "tool_name": "shell",
                        "call_id": "call_7Hq2",
                        "arguments": json.dumps(ARGUMENTS, ensure_ascii=False),
                        "duration_ms": int(0.0153 * 1000),
                        "success": "true",
                        "output": OUTPUT,
                    },
                )

    def shutdown(self) -> None:
        self._provider.shutdown()


PIPELINES: dict[str, type[Pipeline]] = {
    CodexOtelPipeline.name: CodexOtelPipeline,
    RawSdkPipeline.name: RawSdkPipeline,
}
