"""Checks of user input at the boundaries: config fields, CLI values, serving requests.

Every failed check raises :class:`InputError` (a ``ValueError``) naming the field and what is
valid; the CLIs print it as one ``error: ...`` line (:mod:`rec_env.cli`). A config's
``__post_init__`` calls :func:`check_types` (every field against its annotation, ``Literal``
choices included), then :func:`check_range` / :func:`check_choice` for the rest::

    def __post_init__(self) -> None:
        check_types(self)
        check_range(self, ("steps", "threads"), low=1)
        check_choice("agent", self.agent, agent_names())
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np

LOG_SUFFIXES = (".csv", ".parquet", ".pq")
"""file suffixes of a user's log, accepted wherever a dataset name is"""


class InputError(ValueError):
    """A value given by the user (config field, CLI flag, request) is not valid."""


def check_choice(name: str, value: object, choices: Collection[object]) -> None:
    """``value`` is one of ``choices`` (e.g. a registry's names, read when called).

    :raises InputError: ``"{name} must be one of 'a', 'b', got 'x'"``.
    """
    if value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise InputError(f"{name} must be one of {listed}, got {value!r}")


def check_range(
    config: object,
    names: Iterable[str],
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> None:
    """Each named field of ``config`` is in ``[low, high]`` (``(low, high]`` if ``low_open``).

    A bound of None is not checked; NaN is never in range.

    :raises InputError: ``"{Class}.{name} must be >= 1, got 0"`` (or ``> 0``, ``in [0, 1]``).
    """
    lower = None if low is None else f"{'>' if low_open else '>='} {low}"
    if low is not None and high is not None:
        wanted = f"in {'(' if low_open else '['}{low}, {high}]"
    else:
        wanted = lower or f"<= {high}"
    for name in names:
        value = getattr(config, name)
        below = low is not None and (value <= low if low_open else value < low)
        if math.isnan(value) or below or (high is not None and value > high):
            raise InputError(f"{type(config).__name__}.{name} must be {wanted}, got {value!r}")


def check_types(config: object) -> None:
    """Every field of the dataclass ``config`` holds a value of its annotated type.

    Understood: ``int`` (numpy ints too, not bool), ``float`` (ints too), ``bool``, ``str``,
    ``Literal[...]`` (one of its values), ``X | Y`` / ``X | None``, ``tuple[X, ...]``,
    ``dict`` and classes (isinstance); ``Any`` and other annotations are not checked.

    :raises InputError: ``"{Class}.{field} must be an int, got '3' (str)"``.
    """
    hints = _type_hints(type(config))
    for field in dataclasses.fields(config):
        value, kind = getattr(config, field.name), hints[field.name]
        if not _matches(value, kind):
            raise InputError(
                f"{type(config).__name__}.{field.name} must be {_describe(kind)}, "
                f"got {value!r} ({type(value).__name__})"
            )


def check_dataset(name: str, value: str) -> None:
    """``value`` names a dataset: a built-in (synthetic presets, ml-100k, obd) or a log file.

    Whether the file exists is checked when it is loaded (``FileNotFoundError``).

    :raises InputError: naming the built-in datasets and the accepted file suffixes.
    """
    from rec_env.data import NAMES  # pandas only when a dataset is named

    if value not in NAMES and Path(value).suffix.lower() not in LOG_SUFFIXES:
        raise InputError(
            f"{name} must be one of {', '.join(NAMES)} or a {'/'.join(LOG_SUFFIXES)} log path, "
            f"got {value!r}"
        )


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _matches(value: object, kind: Any) -> bool:
    """True if ``value`` is of the annotation ``kind`` (see :func:`check_types`)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return True
    if origin is Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(item, args[0]) for item in value)
        return len(value) == len(args) and all(map(_matches, value, args))
    if kind is bool:
        return isinstance(value, bool | np.bool_)
    if kind is int:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        )
    if kind is type(None):
        return value is None
    if isinstance(origin or kind, type):
        return isinstance(value, origin or kind)
    return True  # Any, callables...: not checked


def _describe(kind: Any) -> str:
    """``kind`` in words: ``an int``, ``one of 'a', 'b'``, ``a tuple of an int``..."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arg) for arg in args)
    if origin is tuple:
        return f"a tuple, each item {_describe(args[0])}" if args else "a tuple"
    names = {bool: "a bool", int: "an int", float: "a number", str: "a str", type(None): "None"}
    return names.get(kind, f"a {getattr(origin or kind, '__name__', kind)}")
