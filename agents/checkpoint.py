"""One checkpoint file per run: written atomically, loaded with ``torch.load(weights_only=True)``.

Only tensors and primitive containers go in, so loading never unpickles code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Write ``state`` to a temporary file beside ``path``, then ``os.replace`` it into place.

    A crash mid-write leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, delete=False) as tmp:
        torch.save(state, tmp)
    os.replace(tmp.name, path)
    return path


def load_checkpoint(path: str | Path) -> dict:
    """The checkpoint at ``path``, tensors and primitives only."""
    return torch.load(Path(path), weights_only=True)


def checkpoint_step(folder: str | Path) -> int | None:
    """Step of the checkpoint in a run folder, or None if it has none."""
    path = Path(folder) / CHECKPOINT_NAME
    return int(load_checkpoint(path)["step"]) if path.exists() else None


def rng_state(generator: torch.Generator) -> dict[str, torch.Tensor]:
    """The global torch RNG (dropout, init) and a run's own generator (sampling), as tensors."""
    return {"torch": torch.get_rng_state(), "generator": generator.get_state()}


def set_rng_state(state: dict[str, torch.Tensor], generator: torch.Generator) -> None:
    """Restore what :func:`rng_state` captured."""
    torch.set_rng_state(state["torch"])
    generator.set_state(state["generator"])
