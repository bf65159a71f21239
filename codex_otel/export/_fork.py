"""What a forked child does with what it inherited: a reset for objects whose worker threads
do not survive the fork, and connections of its own for every HTTP client."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable

__all__ = ["keep_inherited", "reset_in_forked_child"]

# What a forked child inherited and must neither use nor let be collected: closing a pool's
# connections takes the pool's lock, which a parent thread may have held at the fork (the
# child would wait forever), and what is closed is the parent's, not the child's.
_inherited: list[object] = []


def keep_inherited(thing: object) -> None:
    """Keep `thing`, a parent's connection pool or client, alive and untouched in a child."""
    _inherited.append(thing)


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
