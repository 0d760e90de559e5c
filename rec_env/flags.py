"""Dataclass configs on the command line and in JSON: argparse flags from fields and their docstrings.

A field's help is the string literal right under it (the CleanRL / tyro convention)::

    @dataclass
    class Config:
        seed: int = 0
        '''seed of everything'''
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import textwrap
import types
import typing
from typing import Any, Literal


def field_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}`` of a dataclass and its dataclass bases."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body
        for node, after in zip(body, body[1:], strict=False):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                    docs[node.target.id] = str(after.value.value).strip()
    return docs


def optional_of(kind: Any) -> Any:
    """``X`` for ``X | None`` (``Optional[X]``), else ``kind`` itself."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return kind


def _argument(kind: Any) -> dict[str, Any]:
    """argparse keywords (type, choices, nargs) for a field's resolved type."""
    kind = optional_of(kind)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Literal:
        return {"type": type(args[0]), "choices": list(args)}
    if origin is tuple:
        return {"type": args[0], "nargs": "+"}
    if kind is dict or origin is dict:
        return {"type": json.loads, "metavar": "JSON"}
    if kind is bool:
        return {"action": argparse.BooleanOptionalAction}
    return {"type": kind}


def _has_flag(kind: Any) -> bool:
    """False for types that a flag cannot spell: dataclasses, ``Any``, dicts of dataclasses."""
    if dataclasses.is_dataclass(kind) or kind is Any:
        return False
    args = typing.get_args(kind)
    return not (typing.get_origin(kind) is dict and args and dataclasses.is_dataclass(args[1]))


def add_arguments(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One ``--field-name`` flag per field of ``cls`` (default ``None`` = keep the config's)."""
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    for field in dataclasses.fields(cls):
        kind = optional_of(hints[field.name])
        if field.name in skip or not _has_flag(kind):
            continue
        default = field.default
        if field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            default=None,
            help=f"{docs.get(field.name, '')} (default: {default})".replace("%", "%%"),
            **_argument(hints[field.name]),
        )


def overrides(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` given on the command line (not ``None``)."""
    given = {f.name: getattr(args, f.name, None) for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    return {
        name: tuple(value) if typing.get_origin(hints[name]) is tuple else value
        for name, value in given.items()
        if value is not None
    }


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a (nested) dataclass from :func:`dataclasses.asdict` output (lists -> tuples)."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            continue
        kind, value = optional_of(hints[field.name]), data[field.name]
        if dataclasses.is_dataclass(kind) and isinstance(value, dict):
            value = from_dict(kind, value)
        elif typing.get_origin(kind) is tuple:
            value = tuple(value)
        values[field.name] = value
    return cls(**values)
