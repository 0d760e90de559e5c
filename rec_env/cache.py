"""Disk caches of fitted models: one file per recipe (everything that determines the fit),
named by a hash of it, written atomically, read back with ``torch.load(weights_only=True)``,
refitted when it cannot be read.

Two processes that fit the same recipe at once both write a complete file under a name of
their own and rename it into place (:func:`~rec_env.files.atomic_write`): the last rename
wins, and both files are the same fit.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch

from rec_env.files import atomic_write

T = TypeVar("T")


def keyed_path(folder: str | Path, stem: str, recipe: Mapping[str, Any]) -> Path:
    """``<folder>/<stem>-<key>.pt``, ``key`` the first 16 hex digits of the sha256 of
    ``recipe`` as JSON with sorted keys (so ``recipe`` holds JSON values only)."""
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    return Path(folder) / f"{stem}-{key}.pt"


def save_payload(payload: Mapping[str, Any], path: str | Path) -> Path:
    """``torch.save`` ``payload`` (tensors, numbers, strings, nested dicts and lists) to
    ``path`` with :func:`~rec_env.files.atomic_write`: no partial file, ever."""
    path = Path(path)
    with atomic_write(path) as tmp:
        torch.save(dict(payload), tmp)
    return path


def load_payload(path: str | Path) -> dict[str, Any]:
    """A payload written by :func:`save_payload` (``torch.load(weights_only=True)``)."""
    return torch.load(Path(path), weights_only=True)


def load_or_fit(
    path: Path,
    fit: Callable[[], T],
    load: Callable[[Path], T],
    save: Callable[[T, Path], object],
) -> T:
    """``load(path)`` if the file is there, else ``fit()`` and ``save`` it to ``path``.

    A file that ``load`` cannot read (truncated, corrupt, of another layout: any exception)
    is refitted and overwritten, with a warning: a cache never breaks a run.
    """
    if path.is_file():
        try:
            return load(path)
        except Exception as error:  # whatever is wrong with the file: refit
            warnings.warn(
                f"unreadable cache file {path} ({type(error).__name__}: {error}); "
                "refitting and overwriting it",
                stacklevel=2,
            )
    value = fit()
    save(value, path)
    return value
