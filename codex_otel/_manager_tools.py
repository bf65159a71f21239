"""Tools: `codex.tool_decision` and `codex.tool_result`, with their spans' decision and
the `codex.tool.call` metric."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ._content import cap_name
from ._errors import report_internal_error
from ._manager_core import ManagerCore, name_field
from ._manager_turns import TURN_CLOCK
from ._scopes import MAX_DECISIONS, SCOPE, TOOL, tool_span_result
from ._values import as_text, duration_ms, elapsed_ms, failure, safe_str
from .catalog import Attr, Event, SpanAttr, ToolDecision, ToolDecisionSource

if TYPE_CHECKING:
    from ._metrics import MetricsRecorder, ShellFacts

__all__ = ["ToolEvents"]

T = TypeVar("T")


# Value (or member: they are str) -> what is sent; the enums' own lookup costs ~0.4 µs a call.
_DECISIONS: dict[object, str] = {member.value: member.value for member in ToolDecision}
# Every spelling a host may use (`User`, `user`, `AutomatedReviewer`, `automated_reviewer`).
_SOURCES: dict[object, ToolDecisionSource] = {}
for _member in ToolDecisionSource:
    _snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in _member.value).lstrip("_")
    for _spelling in (_member, _member.value, _member.value.lower(), _snake, _snake.upper()):
        _SOURCES[_spelling] = _member


def _decision(value: object) -> str:
    """The decision as sent: a known one as it is; another (the set is open, as Codex's
    review decisions grow) lower-cased. Anything but text raises ValueError."""
    try:
        return _DECISIONS[value]
    except (KeyError, TypeError):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{value!r} is not a tool decision") from None
        return str(cap_name(value.strip().lower()))


_SPAN_SOURCES = {
    ToolDecisionSource.CONFIG: "config",
    ToolDecisionSource.USER: "user",
    ToolDecisionSource.AUTOMATED_REVIEWER: "automated_reviewer",
}


def _source(value: object) -> ToolDecisionSource:
    """`ToolDecisionSource(value)` (any casing), and its ValueError for an unknown value."""
    try:
        return _SOURCES[value]
    except (KeyError, TypeError):
        return ToolDecisionSource(value)


class ToolEvents(ManagerCore):
    """Mixed into `OtelEventManager`."""

    # -- codex.tool_decision -------------------------------------------------------

    def tool_decision(
        self,
        tool_name: str,
        call_id: str,
        decision: ToolDecision | str,
        source: ToolDecisionSource | str,
        *,
        tool_namespace: str | None = None,
    ) -> None:
        """Record who decided whether a tool call may run. `decision` is one of
        `ToolDecision` or another decision (sent lower-cased: the set is open); `source` is
        `Config`, `User` or `AutomatedReviewer` (any casing; another raises ValueError)."""
        # Validated even when disabled: a wrong value is a bug in the caller's code.
        decided = _decision(decision)
        by = _source(source)
        if self._provider.traces is not None:
            # On the span, the source's snake_case name (`config`, `automated_reviewer`).
            self._decided(safe_str(call_id), decided, _SPAN_SOURCES[by])
        if self._log is None:  # no metric for decisions
            return

        def fields() -> dict[str, Any]:
            return {
                Attr.TOOL_NAME: name_field(tool_name),
                Attr.TOOL_NAMESPACE: name_field(tool_namespace),
                Attr.CALL_ID: name_field(call_id),
                Attr.DECISION: decided,
                Attr.SOURCE: by.value,
            }

        self._record(Event.TOOL_DECISION, fields, None)

    @staticmethod
    def _decided(call_id: str, decision: str, source: str) -> None:
        """On the tool span it was taken in, or kept for the turn's tool span of that call."""
        scope = SCOPE.get()
        if scope is None:
            return
        try:
            if scope.kind == TOOL and scope.span is not None:
                scope.span.set_attributes(
                    {SpanAttr.TOOL_DECISION: decision, SpanAttr.TOOL_DECISION_SOURCE: source}
                )
            elif scope.turn is not None and len(scope.turn.decisions) < MAX_DECISIONS:
                scope.turn.decisions[call_id] = (decision, source)
        except Exception as exc:
            report_internal_error("recording a decision on its span", exc)

    # -- codex.tool_result ---------------------------------------------------------

    def log_tool_result(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        fn: Callable[[], T],
        *,
        tool_namespace: str | None = None,
        mcp_server: str = "",
        mcp_server_origin: str = "",
        command_category: str | None = None,
        sandbox: str | None = None,
        sandbox_policy: str | None = None,
        shell_snapshot_mode: str | None = None,
    ) -> T:
        """Run a tool, record `codex.tool_result`, return or raise what it did.

        `mcp_server` names the MCP server of an MCP tool (and `mcp_server_origin` where it
        was configured); both are empty for a built-in tool, as Codex sends them. A shell
        tool's `command_category`, `sandbox`, `sandbox_policy` and `shell_snapshot_mode`
        tag its `codex.tool.call` point (each left out when None). With traces on, the run
        is an `execute_tool {tool_name}` span."""
        origin = _tool_origin(tool_namespace, mcp_server, mcp_server_origin)
        shell = _shell_facts(command_category, sandbox, sandbox_policy, shell_snapshot_mode)
        timed = _TimedTool(self, tool_name, call_id, arguments, origin, shell)
        with self.tool_span(tool_name, call_id), timed:
            output = fn()
            timed.succeeded(output)
        return output

    async def alog_tool_result(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        fn: Callable[[], Awaitable[T]],
        *,
        tool_namespace: str | None = None,
        mcp_server: str = "",
        mcp_server_origin: str = "",
        command_category: str | None = None,
        sandbox: str | None = None,
        sandbox_policy: str | None = None,
        shell_snapshot_mode: str | None = None,
    ) -> T:
        """`log_tool_result` for a coroutine function."""
        origin = _tool_origin(tool_namespace, mcp_server, mcp_server_origin)
        shell = _shell_facts(command_category, sandbox, sandbox_policy, shell_snapshot_mode)
        timed = _TimedTool(self, tool_name, call_id, arguments, origin, shell)
        with self.tool_span(tool_name, call_id), timed:
            output = await fn()
            timed.succeeded(output)
        return output

    def tool_failed(self, tool_name: str, error: object) -> None:
        """A tool that failed before it could run: duration 0, success false, no call id."""

        def fields() -> dict[str, Any]:
            output_text, output_bytes = self._content.apply(as_text(safe_str(error)))
            return {
                Attr.TOOL_NAME: name_field(tool_name),
                Attr.DURATION_MS: 0,
                Attr.SUCCESS: "false",
                Attr.OUTPUT: output_text,
                Attr.OUTPUT_TRUNCATED: output_bytes is not None,
                Attr.OUTPUT_ORIGINAL_BYTES: output_bytes,
                Attr.MCP_SERVER: "",
                Attr.MCP_SERVER_ORIGIN: "",
            }

        def metric(recorder: MetricsRecorder) -> None:
            # It never ran, so it is counted but kept out of the duration histogram.
            recorder.tool_call(safe_str(tool_name), None, False)

        self._record(Event.TOOL_RESULT, fields, metric)

    # The earlier name: `log_*` otherwise means "run and time", which this does not.
    log_tool_failed = tool_failed

    def tool_result(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        duration: timedelta | float,
        success: bool,
        output: object,
        *,
        tool_namespace: str | None = None,
        mcp_server: str = "",
        mcp_server_origin: str = "",
        command_category: str | None = None,
        sandbox: str | None = None,
        sandbox_policy: str | None = None,
        shell_snapshot_mode: str | None = None,
    ) -> None:
        """Record a tool execution timed elsewhere (see `log_tool_result`)."""
        if self._log is None and self._metrics is None:
            return
        try:
            millis = duration_ms(duration)
            origin = _tool_origin(tool_namespace, mcp_server, mcp_server_origin)
            shell = _shell_facts(command_category, sandbox, sandbox_policy, shell_snapshot_mode)
        except Exception as exc:
            report_internal_error(f"recording {Event.TOOL_RESULT}", exc)
            return
        self._record_tool(tool_name, call_id, arguments, millis, success, output, origin, shell)

    def _record_tool(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        millis: int,
        success: bool,
        output: object,
        origin: tuple[str | None, str, str] = (None, "", ""),
        shell: ShellFacts = None,
    ) -> None:
        scope = SCOPE.get()
        if scope is not None and scope.kind == TOOL and scope.span is not None:
            # As text once, for the span's lengths and the event's fields alike.
            mcp_tool = (safe_str(name_field(tool_name)) or "") if origin[1] else None
            arguments, output = tool_span_result(scope.span, arguments, success, output, mcp_tool)
        clock = TURN_CLOCK.get()
        if clock is not None:
            clock.tool_calls += 1
        self._record(
            Event.TOOL_RESULT,
            self._tool_fields,
            _tool_metric,
            tool_name,
            call_id,
            arguments,
            millis,
            success,
            output,
            origin,
            shell,
        )

    def _tool_fields(
        self,
        tool_name: str,
        call_id: str,
        arguments: object,
        millis: int,
        success: bool,
        output: object,
        origin: tuple[str | None, str, str],
        shell: ShellFacts,
    ) -> dict[str, Any]:
        # `shell` tags the metric only (upstream's event has no such fields).
        args_text, args_bytes = self._content.apply(as_text(arguments))
        text = safe_str(output) if isinstance(output, BaseException) else as_text(output)
        output_text, output_bytes = self._content.apply(text)
        namespace, mcp_server, mcp_origin = origin
        return {
            Attr.TOOL_NAME: name_field(tool_name),
            Attr.TOOL_NAMESPACE: namespace,
            Attr.CALL_ID: name_field(call_id),
            Attr.ARGUMENTS: args_text,
            Attr.DURATION_MS: millis,
            Attr.SUCCESS: "true" if success else "false",
            Attr.OUTPUT: output_text,
            Attr.OUTPUT_TRUNCATED: output_bytes is not None,
            # Only when cut (None is left out).
            Attr.ARGUMENTS_ORIGINAL_BYTES: args_bytes,
            Attr.OUTPUT_ORIGINAL_BYTES: output_bytes,
            Attr.MCP_SERVER: mcp_server,
            Attr.MCP_SERVER_ORIGIN: mcp_origin,
        }


def _tool_metric(
    recorder: MetricsRecorder,
    tool_name: str,
    call_id: str,
    arguments: object,
    millis: int,
    success: bool,
    output: object,
    origin: tuple[str | None, str, str],
    shell: ShellFacts,
) -> None:
    recorder.tool_call(safe_str(tool_name), millis, bool(success), shell)


def _shell_facts(
    command_category: str | None,
    sandbox: str | None,
    sandbox_policy: str | None,
    shell_snapshot_mode: str | None,
) -> ShellFacts:
    facts = (command_category, sandbox, sandbox_policy, shell_snapshot_mode)
    if facts == (None, None, None, None):
        return None
    return tuple(None if fact is None else safe_str(fact) for fact in facts)  # type: ignore[return-value]


# A built-in tool's: no namespace, no MCP server (one tuple, not one per call).
_BUILTIN = (None, "", "")


def _tool_origin(
    namespace: str | None, mcp_server: str, mcp_server_origin: str
) -> tuple[str | None, str, str]:
    if namespace is None and not mcp_server and not mcp_server_origin:
        return _BUILTIN
    return (
        name_field(namespace),
        name_field(mcp_server) or "",
        name_field(mcp_server_origin) or "",
    )  # type: ignore[return-value]


class _TimedTool:
    """Times one tool run and records it: its output as the call returns, or the failure it
    raised (an interruption too, by the rule of `failure`), which goes on unchanged. Used
    inside the run's tool span, so the record is the span's."""

    __slots__ = ("_arguments", "_call_id", "_manager", "_origin", "_shell", "_start", "_tool")

    def __init__(
        self,
        manager: ToolEvents,
        tool_name: str,
        call_id: str,
        arguments: object,
        origin: tuple[str | None, str, str],
        shell: ShellFacts,
    ) -> None:
        self._manager = manager
        self._tool = tool_name
        self._call_id = call_id
        self._arguments = arguments
        self._origin = origin
        self._shell = shell
        self._start = 0

    def __enter__(self) -> None:
        self._start = time.perf_counter_ns()

    def succeeded(self, output: object) -> None:
        self._record(True, output)

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if error is not None:
            self._record(False, failure(error))

    def _record(self, success: bool, output: object) -> None:
        millis = elapsed_ms(self._start)
        self._manager._record_tool(
            self._tool,
            self._call_id,
            self._arguments,
            millis,
            success,
            output,
            self._origin,
            self._shell,
        )
