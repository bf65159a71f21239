"""A reset run in a forked child, for objects whose worker threads do not survive the fork."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable

__all__ = ["reset_in_forked_child"]


def reset_in_forked_child(reset: Callable[[], object]) -> None:
    """Call the bound method `reset` in every forked child, for as long as its object lives
    (the hook holds it weakly: it never keeps the object alive)."""
    if not hasattr(os, "register_at_fork"):
        return
    weak_reset = weakref.WeakMethod(reset)

    def after_in_child() -> None:
        bound = weak_reset()
        if bound is not None:
            bound()

    os.register_at_fork(after_in_child=after_in_child)
