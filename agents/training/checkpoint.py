"""Checkpoint files: written atomically, loaded with ``torch.load(weights_only=True)``.

Only tensors and primitive containers go in, so loading never unpickles code. What a
training checkpoint holds is the loop's business (:mod:`agents.training.loop`).
"""

from __future__ import annotations

from pathlib import Path

import torch

from rec_env.files import atomic_write


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Write ``state`` to ``path`` with :func:`~rec_env.files.atomic_write`.

    A crash mid-write leaves the previous checkpoint intact and no temporary file behind.
    """
    path = Path(path)
    with atomic_write(path) as tmp:
        torch.save(state, tmp)
    return path


def load_checkpoint(path: str | Path) -> dict:
    """The checkpoint at ``path``, tensors and primitives only."""
    return torch.load(Path(path), weights_only=True)
