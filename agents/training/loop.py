"""One training loop for every trainable, offline and online: sample, update, hooks, checkpoint.

::

    while steps remain and no hook is done (or the sampler is mid-round):
        batch = sampler.sample(batch_size)        # logged lists, or env steps into a replay
        scalars = trainable.update(batch)         # one joint optimiser step
        hook.after_update(step, scalars) ...      # logging, evaluation, best-network selection
        checkpoint when due and the sampler is at a boundary

The steps are ``run.max_steps``: ``TrainConfig.steps``, or an early-stopped run's cap in
epochs; a hook ends training sooner by turning :meth:`Hook.done` (early stopping on a
validation plateau, :class:`~agents.training.hooks.Evaluate`). The loop asks at evaluation
steps only (every ``eval_every``) and on a resume, so every rank of a data-parallel run (rank
0 alone has hooks) stops at the same step.

A checkpoint (``checkpoint.pt``) is a dict of named state dicts: the trainable's (its
networks and optimisers), the sampler's (its generator, a replay...), the global torch RNG
(dropout) and each hook's. A resumed run restores them all, so it ends with the same
parameters, bit for bit, as an uninterrupted run with the same ``threads`` (also after a
SIGKILL: every file is written atomically). Each new checkpoint first rotates the intact
current one to ``checkpoint.prev.pt``; reading falls back to it when ``checkpoint.pt`` is
missing or fails its checksum (:mod:`agents.training.checkpoint`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import torch
from torch import nn
from tqdm.auto import tqdm

from agents.training.checkpoint import load_checkpoint, previous_path, save_checkpoint
from agents.training.distributed import torch_rng_for_rank

if TYPE_CHECKING:
    from agents.training.config import Run

CHECKPOINT_NAME = "checkpoint.pt"
PREVIOUS_CHECKPOINT_NAME = previous_path(CHECKPOINT_NAME).name
"""the checkpoint before the last one (``checkpoint.prev.pt``), the fallback of a bad one"""
CHECKPOINT_FORMAT = 2
"""Layout version of a training checkpoint (2: named state dicts of trainable, sampler, hooks)."""


@runtime_checkable
class Trainable(Protocol):
    """What the loop trains: one or several networks and whatever learns them."""

    def update(self, batch: Any) -> dict[str, float]:
        """One optimiser step on ``batch``; scalars tagged for logging (``losses/...``)."""
        ...

    def networks(self) -> dict[str, nn.Module]:
        """The named networks, for evaluation, selection and export."""
        ...

    def state_dict(self) -> dict:
        """Tensors and primitives only (checkpoints load with ``weights_only=True``)."""
        ...

    def load_state_dict(self, state: dict) -> None: ...


class Sampler(Protocol):
    """Where batches come from: logged lists (offline) or an environment (online)."""

    def sample(self, batch_size: int) -> Any:
        """The next batch to learn from."""
        ...

    def at_boundary(self) -> bool:
        """True where a checkpoint resumes exactly (online: between rounds of lists)."""
        ...

    def scalars(self) -> dict[str, float]:
        """Charts of the data side to log at a logging step (``charts/...``; may be empty)."""
        ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...

    def close(self) -> None:
        """Release what it holds (an environment); called once training ends."""
        ...


class Hook:
    """Called by :func:`fit` after every update; override what you need."""

    name = "hook"
    """key of its state in the checkpoint (unique within a run)"""

    def after_update(self, step: int, scalars: dict[str, float]) -> None:
        """After the update that made ``step`` updates in all."""

    def done(self, step: int) -> bool:
        """True to end training at ``step`` (asked at evaluation steps, and after a resume)."""
        return False

    def at_end(self) -> None:
        """Once, after the last update (e.g. restore the selected networks)."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def fit(run: Run, trainable: Trainable, sampler: Sampler, hooks: Sequence[Hook] = ()) -> int:
    """Train ``trainable`` for ``run.max_steps`` updates, or until a hook is done (resuming if
    ``run.resume``); return the number of updates made.

    Training ends at the first sampler boundary with at least ``max_steps`` updates or a done
    hook; checkpoints are written at boundaries, every ``checkpoint_every`` updates and at
    the end.
    """
    config = run.config
    names = [hook.name for hook in hooks]
    if len(set(names)) != len(names):
        raise ValueError(f"hook names must be unique, got {names}")
    cap = run.max_steps
    step = restore(run, trainable, sampler, hooks) if run.resume else 0
    stop = _done(run, hooks, step)
    last_checkpoint = step
    bar = tqdm(
        total=max(cap, step),  # a resumed run may have gone past steps already
        initial=step,
        desc=f"{config.agent} {config.mode}",
        disable=not run.world.is_main,
    )
    while not (stop or step >= cap) or not sampler.at_boundary():
        scalars = trainable.update(sampler.sample(config.learner.batch_size))
        step += 1
        _count_update(bar, step)
        if step % config.log_every == 0 and run.world.is_main:
            run.logger.log({**scalars, **sampler.scalars()}, step)
            if "losses/loss" in scalars:
                bar.set_postfix(loss=f"{scalars['losses/loss']:.4f}")
        for hook in hooks:
            hook.after_update(step, scalars)
        if step % config.eval_every == 0:
            stop = _done(run, hooks, step)
        due = step // config.checkpoint_every > last_checkpoint // config.checkpoint_every
        if sampler.at_boundary() and (due or stop or step >= cap):
            save_training(run, trainable, sampler, hooks, step)
            last_checkpoint = step
    bar.close()
    for hook in hooks:
        hook.at_end()
    return step


def _done(run: Run, hooks: Sequence[Hook], step: int) -> bool:
    """True if a hook is done at ``step``: rank 0's answer, on every rank."""
    return run.world.broadcast(any(hook.done(step) for hook in hooks))


def _count_update(bar: tqdm, step: int) -> None:
    """Advance the bar to ``step`` updates. Past ``steps`` the loop goes on to the sampler's
    next boundary (the end of an online round), and the total follows the updates."""
    if step > bar.total:
        bar.total = step
    bar.update()


def save_training(
    run: Run, trainable: Trainable, sampler: Sampler, hooks: Sequence[Hook], step: int
) -> None:
    """Write the run's checkpoint (every named state, atomically), keeping the previous one.

    With several processes, rank 0 writes it (with every rank's torch RNG state) while the
    others wait at a barrier.
    """
    rank_rngs = run.world.gather(torch.get_rng_state())
    if run.world.is_main:
        state = {
            "format": CHECKPOINT_FORMAT,
            "step": step,
            "trainable": trainable.state_dict(),
            "sampler": sampler.state_dict(),
            "torch_rng": rank_rngs[0],
            "hooks": {hook.name: hook.state_dict() for hook in hooks},
        }
        if run.world.size > 1:
            state["rank_torch_rng"] = rank_rngs
        save_checkpoint(run.dir / CHECKPOINT_NAME, state, run.dir / PREVIOUS_CHECKPOINT_NAME)
    run.world.barrier()


def read_checkpoint(folder: Path) -> dict:
    """The training checkpoint of a run folder, checked for its format.

    ``checkpoint.prev.pt`` if ``checkpoint.pt`` is missing or unusable (with a
    :class:`~agents.training.checkpoint.CheckpointFallbackWarning` naming both).

    :raises FileNotFoundError: the folder has neither.
    :raises CorruptCheckpointError: neither is intact (the message names the files).
    """
    path, previous = folder / CHECKPOINT_NAME, folder / PREVIOUS_CHECKPOINT_NAME
    if not path.is_file() and not previous.is_file():
        raise FileNotFoundError(f"{folder} has no checkpoint ({CHECKPOINT_NAME})")
    state = load_checkpoint(path, previous)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path}: checkpoint format {state.get('format')} != {CHECKPOINT_FORMAT} "
            "(written by another version of agents.training)"
        )
    return state


def restore(run: Run, trainable: Trainable, sampler: Sampler, hooks: Sequence[Hook]) -> int:
    """Load the run's checkpoint (``run.checkpoint`` if read already) into everything; return
    its step."""
    state = run.checkpoint if run.checkpoint is not None else read_checkpoint(run.dir)
    trainable.load_state_dict(state["trainable"])
    sampler.load_state_dict(state["sampler"])
    torch.set_rng_state(torch_rng_for_rank(state, run.world, run.config.seed))
    for hook in hooks:
        hook.load_state_dict(state["hooks"].get(hook.name, {}))
    return int(state["step"])
