"""Tool executors: `codex.tool_result` per call, `codex.tool_decision` where it is decided."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, Protocol, TypeVar, cast

from .._errors import report_internal_error
from .._values import error_text, seconds_since
from ..catalog import ToolDecision, ToolDecisionSource

if TYPE_CHECKING:
    from .._manager import OtelEventManager

__all__ = ["CALL_ID", "ToolDecorator", "adecide_tool", "decide_tool", "instrument_tool"]

P = ParamSpec("P")
R = TypeVar("R")

CALL_ID = "call_id"
_NOT_ARGUMENTS = ("self", "cls")  # the first parameter of a method is not a tool argument


class ToolDecorator(Protocol):
    """What `instrument_tool` returns."""

    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]: ...


class _Signature:
    """Reads a call's `call_id` and its other arguments from the executor's signature."""

    def __init__(self, fn: Callable[..., Any], tool_name: str) -> None:
        self._signature = inspect.signature(fn)
        parameters = self._signature.parameters
        call_id = parameters.get(CALL_ID)
        if call_id is None or call_id.kind in (call_id.VAR_POSITIONAL, call_id.VAR_KEYWORD):
            raise TypeError(
                f"tool {tool_name!r}: {getattr(fn, '__qualname__', fn)!r} must take a "
                f"{CALL_ID!r} parameter (the model's call id, recorded with the result)"
            )
        self._call_id_default = call_id.default
        first = next(iter(parameters.values()))
        self._skip = {CALL_ID, first.name} if first.name in _NOT_ARGUMENTS else {CALL_ID}
        self._var_keyword = next(
            (p.name for p in parameters.values() if p.kind is p.VAR_KEYWORD), None
        )

    def read(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call:
        """The call id and arguments; a call that does not fit is read as well as it can be."""
        try:
            bound = self._signature.bind(*args, **kwargs).arguments
        except TypeError:  # the call itself will raise before the tool runs
            call_id = kwargs.get(CALL_ID, "")
            extra = {"args": list(args)} if args else {}
            passed = {**extra, **{k: v for k, v in kwargs.items() if k != CALL_ID}}
            return _Call(str(call_id), passed, fits=False)
        call_id = bound.get(CALL_ID, self._call_id_default)
        arguments: dict[str, Any] = {}
        for name, value in bound.items():
            if name == self._var_keyword:
                arguments.update(value)
            elif name not in self._skip:
                arguments[name] = value
        return _Call(str(call_id), arguments, fits=True)


class _Call(NamedTuple):
    call_id: str
    arguments: dict[str, Any]
    fits: bool
    """False when the arguments do not fit the signature: the tool fails before it runs."""


def instrument_tool(
    manager: OtelEventManager,
    tool_name: str,
    *,
    tool_namespace: str | None = None,
    mcp_server: str = "",
    mcp_server_origin: str = "",
    command_category: str | None = None,
    sandbox: str | None = None,
    sandbox_policy: str | None = None,
    shell_snapshot_mode: str | None = None,
) -> ToolDecorator:
    """Decorate a sync or async tool executor so each call emits `codex.tool_result`.

    The executor takes a `call_id` parameter; its other arguments, as bound by its
    signature, are recorded as a JSON object. The return value is the output (JSON
    text unless a string); an exception is recorded with its message as the output
    and re-raised unchanged. The signature is kept. With traces on, each call is an
    `execute_tool {tool_name}` span. The keyword facts (an MCP tool's server, a shell
    tool's sandbox) are recorded on every call, as `log_tool_result` records them.
    """
    record = functools.partial(
        manager.tool_result,
        tool_namespace=tool_namespace,
        mcp_server=mcp_server,
        mcp_server_origin=mcp_server_origin,
        command_category=command_category,
        sandbox=sandbox,
        sandbox_policy=sandbox_policy,
        shell_snapshot_mode=shell_snapshot_mode,
    )

    def decorate(fn: Callable[P, R], /) -> Callable[P, R]:
        signature = _Signature(fn, tool_name)

        def start(args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call:
            try:
                return signature.read(args, kwargs)
            except Exception as exc:
                report_internal_error(f"reading the arguments of tool {tool_name!r}", exc)
                return _Call("", {}, fits=True)

        def finish(call: _Call, start_ns: int, ok: bool, out: object) -> None:
            # A call that did not fit never ran: recorded with duration 0.
            duration = seconds_since(start_ns) if call.fits else 0.0
            record(tool_name, call.call_id, call.arguments, duration, ok, out)

        if inspect.iscoroutinefunction(fn):
            run_async = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_tool(*args: Any, **kwargs: Any) -> Any:
                if not manager.recording:
                    return await run_async(*args, **kwargs)
                call = start(args, kwargs)
                with manager.tool_span(tool_name, call.call_id):
                    start_ns = time.perf_counter_ns()
                    try:
                        output = await run_async(*args, **kwargs)
                    except BaseException as exc:
                        finish(call, start_ns, False, error_text(exc))
                        raise
                    finish(call, start_ns, True, output)
                return output

            return cast(Callable[P, R], async_tool)

        @functools.wraps(fn)
        def tool(*args: P.args, **kwargs: P.kwargs) -> R:
            if not manager.recording:
                return fn(*args, **kwargs)
            call = start(args, kwargs)
            # With traces on, the call is an `execute_tool` span its result is recorded in.
            with manager.tool_span(tool_name, call.call_id):
                start_ns = time.perf_counter_ns()
                try:
                    output = fn(*args, **kwargs)
                except BaseException as exc:
                    finish(call, start_ns, False, error_text(exc))
                    raise
                finish(call, start_ns, True, output)
            return output

        return tool

    return decorate


def decide_tool(
    manager: OtelEventManager,
    tool_name: str,
    call_id: str,
    decide: Callable[[], ToolDecision | str],
    *,
    source: ToolDecisionSource | str,
) -> ToolDecision:
    """Call `decide()` (ask the user, consult the config) and record its answer.

    Returns the decision. If `decide` raises (the user pressed Ctrl-C, say), `abort`
    is recorded and the exception re-raised. A value outside the decision list raises
    ValueError.
    """
    source = ToolDecisionSource(source)
    try:
        answer = decide()
    except BaseException:
        manager.tool_decision(tool_name, call_id, ToolDecision.ABORT, source)
        raise
    decision = ToolDecision(answer)
    manager.tool_decision(tool_name, call_id, decision, source)
    return decision


async def adecide_tool(
    manager: OtelEventManager,
    tool_name: str,
    call_id: str,
    decide: Callable[[], Awaitable[ToolDecision | str]],
    *,
    source: ToolDecisionSource | str,
) -> ToolDecision:
    """`decide_tool` for an async `decide` (a prompt in an async UI)."""
    source = ToolDecisionSource(source)
    try:
        answer = await decide()
    except BaseException:
        manager.tool_decision(tool_name, call_id, ToolDecision.ABORT, source)
        raise
    decision = ToolDecision(answer)
    manager.tool_decision(tool_name, call_id, decision, source)
    return decision
