"""Caller cost of a traced turn: one request, 20 SSE events, one tool, against the raw SDK
doing the same spans and records.

Ours: `turn()`, `log_request` (its response a stream, so the chat span stays open),
`instrument_sse` over 20 events (19 deltas and the completion), `log_tool_result`: 3 spans
(`invoke_agent`, `chat`, `execute_tool`) and 23 records (api_request, 20 sse_event, the
completion's usage, tool_result), each record carrying its span's ids, `turn.id` and
`event.sequence`. Raw: the same spans, attributes and records written by hand against one
TracerProvider and one LoggerProvider of the SDK (each with its batch processor and a null
exporter), as a host without this package would. Only the caller's thread is timed, in
its own CPU time.
"""

from __future__ import annotations

import gc
import itertools
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from benchmarks._common import COMMON_ATTRIBUTES, METADATA, NullExporter, median, target
from codex_otel import OtelEventManager, OtelProvider
from codex_otel._bridge import rfc3339_millis
from codex_otel.instrument import instrument_sse

FULL = {"turns": 2_000, "reps": 5}
QUICK = {"turns": 300, "reps": 3}
MODEL = METADATA["model"]
USAGE = {
    "input_tokens": 1200,
    "input_tokens_details": {"cached_tokens": 1000},
    "output_tokens": 300,
    "output_tokens_details": {"reasoning_tokens": 64},
    "total_tokens": 1500,
}
ARGUMENTS = {"command": ["ls", "-la"], "workdir": "/repo"}
OUTPUT = "total 8\ndrwxr-xr-x  2 dev dev 4096 .\n"
_INFO = SeverityNumber.INFO


class _Sse:
    __slots__ = ("data", "event")

    def __init__(self, event: str, data: str) -> None:
        self.event, self.data = event, data


EVENTS = [
    *(
        _Sse(
            "response.output_text.delta",
            json.dumps({"type": "response.output_text.delta", "delta": f"w{i} "}),
        )
        for i in range(19)
    ),
    _Sse(
        "response.completed",
        json.dumps(
            {
                "type": "response.completed",
                "response": {"id": "resp_1", "model": MODEL, "usage": USAGE},
            }
        ),
    ),
]


class _Response:
    """A streamed response whose body is still to be read: its chat span stays open."""

    status_code = 200
    is_closed = False
    headers: dict[str, str] = {}  # noqa: RUF012


RESPONSE = _Response()


class NullSpanExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def _ours(manager: OtelEventManager) -> Callable[[int], None]:
    def run(turns: int) -> None:
        for _ in range(turns):
            with manager.turn("turn-1"):
                manager.log_request(1, lambda: RESPONSE)
                for _ in instrument_sse(manager, EVENTS):
                    pass
                manager.log_tool_result("shell", "call_1", ARGUMENTS, lambda: OUTPUT)

    return run


class _Raw:
    """The same spans and records, written straight against the SDK."""

    def __init__(self, resource: Resource) -> None:
        self.tracing = TracerProvider(resource=resource, shutdown_on_exit=False)
        self.tracing.add_span_processor(BatchSpanProcessor(NullSpanExporter()))
        self.tracer = self.tracing.get_tracer("bench")
        self.logging = LoggerProvider(resource=resource, shutdown_on_exit=False)
        self.logging.add_log_record_processor(BatchLogRecordProcessor(NullExporter()))
        self.logger = self.logging.get_logger("bench")
        self.sequence = itertools.count(1)

    def emit(self, context: Any, name: str, fields: dict[str, Any]) -> None:
        now = time.time_ns()
        self.logger.emit(
            timestamp=now,
            observed_timestamp=now,
            context=context,
            severity_number=_INFO,
            severity_text="INFO",
            body=name,
            attributes={
                **COMMON_ATTRIBUTES,
                **fields,
                "turn.id": "turn-1",
                "event.sequence": next(self.sequence),
                "event.name": name,
                "event.timestamp": rfc3339_millis(now),
            },
            event_name=name,
        )

    def run(self, turns: int) -> None:
        tracer = self.tracer
        for _ in range(turns):
            # The SDK's idiomatic `start_as_current_span` for each span, as a host writes it;
            # records are emitted in the current context, so they carry its span's ids.
            with tracer.start_as_current_span(
                "invoke_agent codex",
                attributes={
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "codex",
                    "gen_ai.conversation.id": METADATA["conversation_id"],
                    "turn.id": "turn-1",
                    "gen_ai.request.model": MODEL,
                },
            ) as turn:
                self._chat(turn)
                self._tool()

    def _chat(self, turn: Any) -> None:
        with self.tracer.start_as_current_span(
            f"chat {MODEL}",
            kind=trace_api.SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": MODEL,
            },
        ) as chat:
            start = time.perf_counter_ns()
            response = RESPONSE
            millis = (time.perf_counter_ns() - start) // 1_000_000
            chat.set_attribute("http.response.status_code", response.status_code)
            self.emit(
                None,
                "codex.api_request",
                {"attempt": 1, "duration_ms": millis, "http.response.status_code": 200},
            )
            for sse in EVENTS:
                start = time.perf_counter_ns()
                data = json.loads(sse.data)
                millis = (time.perf_counter_ns() - start) // 1_000_000
                self.emit(None, "codex.sse_event", {"event.kind": sse.event, "duration_ms": millis})
                if sse.event == "response.completed":
                    self._completed(chat, turn, data["response"])

    def _completed(self, chat: Any, turn: Any, body: dict[str, Any]) -> None:
        usage = body["usage"]
        totals = {
            "gen_ai.usage.input_tokens": usage["input_tokens"],
            "gen_ai.usage.output_tokens": usage["output_tokens"],
            "gen_ai.usage.cache_read.input_tokens": usage["input_tokens_details"]["cached_tokens"],
            "codex.usage.reasoning_output_tokens": usage["output_tokens_details"][
                "reasoning_tokens"
            ],
            "codex.usage.total_tokens": usage["total_tokens"],
        }
        chat.set_attributes(
            {**totals, "gen_ai.response.id": body["id"], "gen_ai.response.model": body["model"]}
        )
        turn.set_attributes(totals)
        self.emit(
            None,
            "codex.sse_event",
            {
                "event.kind": "response.completed",
                "input_token_count": usage["input_tokens"],
                "output_token_count": usage["output_tokens"],
                "cached_token_count": usage["input_tokens_details"]["cached_tokens"],
                "reasoning_token_count": usage["output_tokens_details"]["reasoning_tokens"],
                "tool_token_count": usage["total_tokens"],
            },
        )

    def _tool(self) -> None:
        with self.tracer.start_as_current_span(
            "execute_tool shell",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "shell",
                "gen_ai.tool.call.id": "call_1",
            },
        ) as tool:
            start = time.perf_counter_ns()
            output = OUTPUT
            millis = (time.perf_counter_ns() - start) // 1_000_000
            arguments = json.dumps(ARGUMENTS, ensure_ascii=False)
            tool.set_attributes(
                {
                    "codex.tool.success": True,
                    "codex.tool.arguments_length": len(arguments),
                    "codex.tool.output_length": len(output),
                }
            )
            self.emit(
                None,
                "codex.tool_result",
                {
                    "tool_name": "shell",
                    "call_id": "call_1",
                    "arguments": arguments,
                    "duration_ms": millis,
                    "success": "true",
                    "output": output,
                },
            )

    def flush(self) -> None:
        self.tracing.force_flush()
        self.logging.force_flush()

    def shutdown(self) -> None:
        self.tracing.shutdown()
        self.logging.shutdown()


def measure(turns: int, reps: int) -> dict[str, Any]:
    """Median µs per turn, ours and raw interleaved run by run."""
    provider = OtelProvider(NullExporter(), span_exporter=NullSpanExporter(), environment="bench")
    raw = _Raw(provider.resource)
    try:
        manager = OtelEventManager(provider, **METADATA, provider_name="openai")
        ours_loop, raw_loop = _ours(manager), raw.run

        def ours_flush() -> None:
            provider.force_flush()

        for loop in (ours_loop, raw_loop):  # warm up
            loop(min(turns, 200))
        runs: dict[str, list[float]] = {"ours": [], "raw": []}
        order: list[tuple[str, Callable[[int], None], Callable[[], None]]] = [
            ("ours", ours_loop, ours_flush),
            ("raw", raw_loop, raw.flush),
        ]
        for _ in range(reps):
            for name, loop, flush in order:
                flush()  # each run starts with empty queues
                gc.collect()
                # CPU time of this thread: what the turn costs the caller, not what the
                # machine's other work (or the batch workers' share of the GIL) adds.
                start = time.thread_time_ns()
                loop(turns)
                runs[name].append((time.thread_time_ns() - start) / turns / 1000)
            order.reverse()
        ratio = median(runs["ours"]) / median(runs["raw"])
        pairs = [ours / raw for ours, raw in zip(runs["ours"], runs["raw"], strict=True)]
        return {
            "codex_otel_us": round(median(runs["ours"]), 1),
            "raw_sdk_us": round(median(runs["raw"]), 1),
            "ratio": round(ratio, 3),
            "ratio_noise": round(median([abs(p - ratio) for p in pairs]), 3) if reps > 1 else None,
            "spans_exported": provider.stats("spans").accepted,
            "runs_codex_otel_us": [round(v, 1) for v in runs["ours"]],
            "runs_raw_sdk_us": [round(v, 1) for v in runs["raw"]],
        }
    finally:
        provider.shutdown()
        raw.shutdown()


def run(*, quick: bool = False) -> dict[str, Any]:
    counts = QUICK if quick else FULL
    result = measure(counts["turns"], counts["reps"])
    return {
        "turns_per_run": counts["turns"],
        "runs": counts["reps"],
        "turn": result,
        "targets": [
            target(
                "traced turn vs raw SDK spans and records",
                result["ratio"],
                1.25,
                "x",
                noise=result["ratio_noise"],
            )
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    turn = result["turn"]
    return "\n".join(
        [
            f"Median of {result['runs']} runs of {result['turns_per_run']:,} turns each "
            "(one request, 20 SSE events, one tool: 3 spans, 23 records), CPU µs per turn on "
            "the caller's thread (null exporters behind the batch processors).",
            "",
            "| codex_otel µs | raw SDK µs | ratio |",
            "|---:|---:|---:|",
            f"| {turn['codex_otel_us']:.1f} | {turn['raw_sdk_us']:.1f} | {turn['ratio']:.2f}x |",
        ]
    )
