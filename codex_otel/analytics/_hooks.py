"""Where a hook was loaded from, as `codex_hook_run` reports it."""

from __future__ import annotations

import os
from pathlib import Path

from ._facts import HookSource

__all__ = ["classify_hook_source"]


def classify_hook_source(
    hook_path: str | os.PathLike[str] | None,
    *,
    codex_home: str | os.PathLike[str] | None = None,
    project_root: str | os.PathLike[str] | None = None,
    system_dirs: tuple[str | os.PathLike[str], ...] = ("/etc/codex",),
) -> HookSource:
    """`project` under the project root, `user` under the Codex home, `system` under a system
    folder, else `unknown` (also for no path). The most specific folder wins."""
    if hook_path is None:
        return "unknown"
    path = Path(os.path.abspath(hook_path))
    candidates: list[tuple[Path, HookSource]] = []
    if project_root is not None:
        candidates.append((Path(os.path.abspath(project_root)), "project"))
    if codex_home is not None:
        candidates.append((Path(os.path.abspath(codex_home)), "user"))
    candidates.extend((Path(os.path.abspath(d)), "system") for d in system_dirs)
    matches = [
        (len(root.parts), source) for root, source in candidates if path.is_relative_to(root)
    ]
    if not matches:
        return "unknown"
    return max(matches, key=lambda match: match[0])[1]
