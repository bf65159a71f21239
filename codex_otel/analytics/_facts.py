"""Facts: what the host observed, as the reducer takes them.

Two kinds. Protocol facts wrap the JSON-RPC messages of an app-server connection (plain dicts,
as they travel); custom facts are typed objects for what the host knows itself (a skill ran, a
thread compacted). Every fact carries `observed_at_ms`, the wall-clock time the client took it
(unix milliseconds), so the reducer is plain state and rules, with no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "AppInvocation",
    "AppUsedFact",
    "AppsMentionedFact",
    "ClientRequestFact",
    "ClientResponseFact",
    "CompactionFact",
    "ErrorResponseFact",
    "Fact",
    "GuardianReviewFact",
    "GuardianReviewedAction",
    "HookRunFact",
    "InitializeFact",
    "NotificationFact",
    "PluginMetadata",
    "PluginStateFact",
    "PluginUsedFact",
    "RuntimeMetadata",
    "ServerRequestAbortedFact",
    "ServerRequestFact",
    "ServerResponseFact",
    "SkillInvocation",
    "SkillsInvokedFact",
    "SubagentThreadStarted",
    "TrackEventsContext",
    "TurnResolvedConfig",
    "TurnTokenUsage",
    "current_runtime",
]

RpcTransport = Literal["stdio", "websocket", "in_process"]
SkillScope = Literal["user", "repo", "system", "admin"]
InvocationType = Literal["explicit", "implicit"]
HookSource = Literal["system", "user", "project", "unknown"]
HookRunStatus = Literal["completed", "failed", "stopped", "blocked"]
PluginState = Literal["installed", "uninstalled", "enabled", "disabled"]


@dataclass(frozen=True)
class RuntimeMetadata:
    """Where the agent runs; the client gathers it itself (`current_runtime`)."""

    codex_rs_version: str
    """The agent's version (Codex sends its own crate version)."""
    runtime_os: str
    """`linux`, `macos`, `windows`, ... (Rust's names for the OS)."""
    runtime_os_version: str
    """The OS release, e.g. `26.4.0` on macOS."""
    runtime_arch: str
    """`x86_64`, `aarch64`, ..."""


@dataclass(frozen=True)
class TrackEventsContext:
    """Which turn a custom fact belongs to."""

    thread_id: str
    turn_id: str
    model_slug: str


# -- protocol facts: the JSON-RPC traffic of one app-server connection -----------------


@dataclass(frozen=True)
class InitializeFact:
    """A connection's `initialize` request, with what the host knows of the connection."""

    connection_id: int
    params: Any
    """The request's `params` (`clientInfo`, `capabilities`)."""
    product_client_id: str
    rpc_transport: RpcTransport
    runtime: RuntimeMetadata
    observed_at_ms: int = 0


@dataclass(frozen=True)
class ClientRequestFact:
    """A request from the client (only `turn/start` and `turn/steer` are kept)."""

    connection_id: int
    message: Any
    observed_at_ms: int = 0


@dataclass(frozen=True)
class ClientResponseFact:
    """The server's result for a client request; `method` is that request's method."""

    connection_id: int
    method: str
    message: Any
    observed_at_ms: int = 0


@dataclass(frozen=True)
class ErrorResponseFact:
    """The server's error for a client request; `method` is that request's method."""

    connection_id: int
    method: str
    message: Any
    observed_at_ms: int = 0


@dataclass(frozen=True)
class NotificationFact:
    """A server notification (turn, item and guardian review lifecycle)."""

    connection_id: int
    message: Any
    observed_at_ms: int = 0


@dataclass(frozen=True)
class ServerRequestFact:
    """A request from the server to the client: an approval the user is asked for."""

    connection_id: int
    message: Any
    observed_at_ms: int = 0


@dataclass(frozen=True)
class ServerResponseFact:
    """The client's answer to a server request; `observed_at_ms` is when the review ended."""

    connection_id: int
    message: Any
    observed_at_ms: int = 0


@dataclass(frozen=True)
class ServerRequestAbortedFact:
    """A server request that ended without an answer (turn interrupted, connection closed)."""

    connection_id: int
    request_id: Any
    observed_at_ms: int = 0


# -- custom facts: what the host knows itself --------------------------------------------


@dataclass(frozen=True)
class SkillInvocation:
    """One skill the agent invoked."""

    skill_name: str
    skill_scope: SkillScope
    skill_path: Path
    """The skill's file; a skill inside a git checkout with a remote is identified by its
    repository URL and its path relative to the checkout."""
    invocation_type: InvocationType | None = None


@dataclass(frozen=True)
class SkillsInvokedFact:
    tracking: TrackEventsContext
    invocations: tuple[SkillInvocation, ...]
    observed_at_ms: int = 0


@dataclass(frozen=True)
class AppInvocation:
    """An app (connector) mentioned in a prompt or used by a tool call."""

    connector_id: str | None = None
    app_name: str | None = None
    invocation_type: InvocationType | None = None


@dataclass(frozen=True)
class AppsMentionedFact:
    tracking: TrackEventsContext
    mentions: tuple[AppInvocation, ...]
    observed_at_ms: int = 0


@dataclass(frozen=True)
class AppUsedFact:
    tracking: TrackEventsContext
    app: AppInvocation
    observed_at_ms: int = 0


@dataclass(frozen=True)
class PluginMetadata:
    """A plugin's telemetry metadata: its id and a summary of what it brings."""

    plugin_name: str
    marketplace_name: str
    remote_plugin_id: str | None = None
    """The backend's id of a remote plugin; replaces `name@marketplace` as `plugin_id`."""
    has_skills: bool | None = None
    mcp_server_names: tuple[str, ...] | None = None
    connector_ids: tuple[str, ...] | None = None

    @property
    def plugin_key(self) -> str:
        """`name@marketplace`: the plugin's local id, and its dedupe key."""
        return f"{self.plugin_name}@{self.marketplace_name}"


@dataclass(frozen=True)
class PluginUsedFact:
    tracking: TrackEventsContext
    plugin: PluginMetadata
    observed_at_ms: int = 0


@dataclass(frozen=True)
class PluginStateFact:
    plugin: PluginMetadata
    state: PluginState
    observed_at_ms: int = 0


@dataclass(frozen=True)
class HookRunFact:
    """One hook handler run."""

    tracking: TrackEventsContext
    hook_name: str
    """The hook event, e.g. `PreToolUse`."""
    hook_source: HookSource
    """Where the hook was loaded from (see `classify_hook_source`)."""
    status: HookRunStatus
    observed_at_ms: int = 0


@dataclass(frozen=True)
class SubagentThreadStarted:
    """A thread the agent started for itself (no app-server response announces it)."""

    thread_id: str
    product_client_id: str
    client_name: str
    client_version: str
    model: str
    ephemeral: bool
    subagent_source: str
    """`thread_spawn`, `review`, `compact`, `memory_consolidation` or another name."""
    created_at: int
    """Unix seconds."""
    parent_thread_id: str | None = None
    """The spawning thread (`thread_spawn` only)."""
    runtime: RuntimeMetadata | None = None
    """Filled in by the client when left out."""
    observed_at_ms: int = 0


@dataclass(frozen=True)
class GuardianReviewedAction:
    """What the guardian reviewed, kept to low-risk structured metadata.

    Never raw commands, display strings, working directories, file paths, network hosts,
    justification, retry reason or rationale: the type has no field for them.
    """

    type: Literal[
        "shell",
        "unified_exec",
        "execve",
        "apply_patch",
        "network_access",
        "mcp_tool_call",
        "request_permissions",
    ]
    sandbox_permissions: str | None = None
    additional_permissions: dict[str, Any] | None = None
    """A permission profile (structured flags, no paths)."""
    tty: bool | None = None
    source: str | None = None
    """The execve command source."""
    program: str | None = None
    """The execve program name."""
    protocol: str | None = None
    port: int | None = None
    server: str | None = None
    tool_name: str | None = None
    connector_id: str | None = None
    connector_name: str | None = None
    tool_title: str | None = None


@dataclass(frozen=True)
class GuardianReviewFact:
    """A guardian (automatic) review of an action, as the host's guardian reports it."""

    thread_id: str
    turn_id: str
    review_id: str
    reviewed_action: GuardianReviewedAction
    decision: Literal["approved", "denied", "aborted"]
    terminal_status: Literal["approved", "denied", "aborted", "timed_out", "failed_closed"]
    started_at_ms: int
    completed_at_ms: int
    review_timeout_ms: int
    target_item_id: str | None = None
    approval_request_source: Literal["main_turn", "delegated_subagent"] = "main_turn"
    reviewed_action_truncated: bool = False
    failure_reason: str | None = None
    risk_level: str | None = None
    """The protocol's `GuardianRiskLevel` (`low`, `medium`, `high`, ...)."""
    user_authorization: str | None = None
    outcome: str | None = None
    guardian_thread_id: str | None = None
    guardian_session_kind: str | None = None
    guardian_model: str | None = None
    guardian_reasoning_effort: str | None = None
    had_prior_review_context: bool | None = None
    tool_call_count: int | None = None
    time_to_first_token_ms: int | None = None
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    total_tokens: int | None = None
    observed_at_ms: int = 0


@dataclass(frozen=True)
class CompactionFact:
    """One compaction of a thread's context."""

    thread_id: str
    turn_id: str
    trigger: Literal["manual", "auto"]
    reason: Literal["user_requested", "context_limit"] | str
    implementation: Literal["responses", "responses_compact"] | str
    phase: Literal["standalone_turn", "pre_turn", "mid_turn"] | str
    status: Literal["completed", "failed", "interrupted"] | str
    active_context_tokens_before: int
    active_context_tokens_after: int
    started_at: int
    """Unix seconds."""
    completed_at: int
    """Unix seconds."""
    strategy: str = "memento"
    error: str | None = None
    duration_ms: int | None = None
    observed_at_ms: int = 0


@dataclass(frozen=True)
class TurnResolvedConfig:
    """The configuration a turn actually ran with, once resolved."""

    thread_id: str
    turn_id: str
    model: str | None = None
    model_provider: str | None = None
    sandbox_policy: str | None = None
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    service_tier: str | None = None
    approval_policy: str | None = None
    approvals_reviewer: str | None = None
    sandbox_network_access: bool | None = None
    collaboration_mode: str | None = None
    personality: str | None = None
    is_first_turn: bool | None = None
    submission_type: str | None = None
    observed_at_ms: int = 0


@dataclass(frozen=True)
class TurnTokenUsage:
    """A turn's token counts."""

    thread_id: str
    turn_id: str
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    total_tokens: int | None = None
    observed_at_ms: int = 0


Fact = (
    InitializeFact
    | ClientRequestFact
    | ClientResponseFact
    | ErrorResponseFact
    | NotificationFact
    | ServerRequestFact
    | ServerResponseFact
    | ServerRequestAbortedFact
    | SkillsInvokedFact
    | AppsMentionedFact
    | AppUsedFact
    | PluginUsedFact
    | PluginStateFact
    | HookRunFact
    | SubagentThreadStarted
    | GuardianReviewFact
    | CompactionFact
    | TurnResolvedConfig
    | TurnTokenUsage
)


_OS_NAMES = {"darwin": "macos", "win32": "windows", "cygwin": "windows"}
_ARCH_NAMES = {"arm64": "aarch64", "amd64": "x86_64", "x64": "x86_64", "i686": "x86"}


def current_runtime(agent_version: str | None = None) -> RuntimeMetadata:
    """This process's runtime, named as Codex's Rust runtime names it (`macos`, `aarch64`).

    `agent_version` is the host agent's version (default: this package's).
    """
    import platform
    import sys

    if agent_version is None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            agent_version = version("codex-otel")
        except PackageNotFoundError:
            agent_version = "0.0.0"
    os_name = _OS_NAMES.get(sys.platform, sys.platform.rstrip("0123456789") or sys.platform)
    os_version = platform.mac_ver()[0] if os_name == "macos" else platform.release()
    machine = platform.machine()
    return RuntimeMetadata(
        codex_rs_version=agent_version,
        runtime_os=os_name,
        runtime_os_version=os_version or "unknown",
        runtime_arch=_ARCH_NAMES.get(machine.lower(), machine.lower() or "unknown"),
    )
