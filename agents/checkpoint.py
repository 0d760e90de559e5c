"""One checkpoint file per run: written atomically, loaded with ``torch.load(weights_only=True)``.

Only tensors and primitive containers go in, so loading never unpickles code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from agents.learner import Learner

CHECKPOINT_NAME = "checkpoint.pt"
TRAINING_FORMAT = 1
"""Layout version of a training checkpoint (:func:`save_training`)."""


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


def save_training(
    folder: str | Path, learner: Learner, generator: torch.Generator, **extra
) -> Path:
    """A trainer's checkpoint: the learner, the RNGs (:func:`rng_state`) and ``extra``
    entries (step, data state...), written atomically to ``folder/checkpoint.pt``."""
    state = {
        "format": TRAINING_FORMAT,
        "learner": learner.state_dict(),
        "rng": rng_state(generator),
        **extra,
    }
    return save_checkpoint(Path(folder) / CHECKPOINT_NAME, state)


def restore_training(folder: str | Path, learner: Learner, generator: torch.Generator) -> dict:
    """Load a :func:`save_training` checkpoint into ``learner`` and the RNGs; return it whole,
    for the trainer's own entries."""
    state = load_checkpoint(Path(folder) / CHECKPOINT_NAME)
    if state["format"] != TRAINING_FORMAT:
        raise ValueError(f"checkpoint format {state['format']} != {TRAINING_FORMAT}")
    learner.load_state_dict(state["learner"])
    set_rng_state(state["rng"], generator)
    return state
