"""The host's arguments checked against the facts' own annotations, before anything is queued.

A typed host still makes mistakes (None where a context belongs, a str for a list): such a
call must be counted and said once, never raise into the host nor fail the reducer later.
The facts' annotations are the one statement of what is expected: read here, not repeated.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from pathlib import PurePath
from typing import Any

from . import _facts

__all__ = ["BadArgument", "check_fact", "expect", "expect_hashable"]


class BadArgument(TypeError):
    """An argument of the wrong type; the message names it and what was expected."""


def _name(kind: object) -> str:
    return getattr(kind, "__name__", str(kind))


def expect(value: object, kind: type | tuple[type, ...], what: str) -> None:
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
        names = " or ".join(_name(k) for k in _tuple(kind))
        raise BadArgument(f"{what} must be {names}, got {type(value).__name__}")


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def expect_hashable(value: object, what: str) -> None:
    try:
        hash(value)
    except TypeError:
        raise BadArgument(f"{what} must be hashable, got {type(value).__name__}") from None


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(_facts))


def check_fact(value: object, cls: type, what: str) -> None:
    """`value` is a `cls` (a fact dataclass) whose fields hold what their annotations say."""
    expect(value, cls, what)
    for name, hint in _hints(cls).items():
        _check(getattr(value, name), hint, f"{what}.{name}")


def _check(value: object, hint: Any, what: str) -> None:
    if hint is Any:
        return
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        expect(value, tuple({type(v) for v in typing.get_args(hint)}), what)
    elif origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        for option in options:
            try:
                _check(value, option, what)
                return
            except BadArgument:
                continue
        names = " or ".join(_name(typing.get_origin(o) or o) for o in options)
        raise BadArgument(f"{what} must be {names}, got {type(value).__name__}")
    elif origin is tuple:
        expect(value, tuple, what)
        assert isinstance(value, tuple)
        item = typing.get_args(hint)[0]
        for index, element in enumerate(value):
            _check(element, item, f"{what}[{index}]")
    elif origin is dict:
        expect(value, dict, what)
    elif hint is type(None):
        expect(value, type(None), what)
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        check_fact(value, hint, what)
    elif isinstance(hint, type) and issubclass(hint, PurePath):
        expect(value, PurePath, what)
    elif hint is float:
        expect(value, (int, float), what)
    elif isinstance(hint, type):
        expect(value, hint, what)
