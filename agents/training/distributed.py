"""Data-parallel offline training on ``torch.distributed``: one process per rank (``torchrun``).

::

    torchrun --nproc_per_node=2 -m agents.train --agent teacher --steps 3000 --distributed

What each rank does:

* **Data.** Every rank draws the same global batch of ``learner.batch_size`` list rows (and,
  for ``target="double"``, its recall items) from the same seeded generator and keeps its
  contiguous slice of ``batch_size / world_size`` lists (:meth:`World.shard`,
  :class:`ShardedTransitions`); only those lists are turned into a TD batch and go through
  the networks. Together the ranks learn on exactly the global batch a 1-process run draws.
* **Gradients.** In :meth:`Learner.apply <agents.learners.base.Learner.apply>`, before
  clipping, the gradients of every parameter a learner's optimiser updates are averaged over
  the ranks (one all-reduce per learner per step, :meth:`World.reduce_gradients`), so every
  rank clips and steps the same gradient and the replicas stay identical. A rank's loss is
  the mean over its own transitions, so the average is the 1-process gradient when the
  shards hold equally many transitions (lists of one length); otherwise it is DDP's usual
  average of per-rank means.
* **Dropout.** Rank 0 keeps the run's torch RNG stream; rank r > 0 reseeds from
  ``(seed, r)`` after the networks are built, so shards do not share dropout masks. The
  checkpoint keeps every rank's RNG state.
* **Rank 0 only**: the run folder, ``config.json``, scalars, validation, ``best.pt``,
  checkpoints and ``metrics.json``; the other ranks wait at a barrier after each checkpoint.
  A resumed run loads the same checkpoint on every rank (the folder must be on a file system
  all nodes see).

Online mode is refused: its replay is filled by an environment per process, which this module
does not shard.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

from agents.data.batch import TDBatch
from agents.data.logged import LoggedTransitions
from agents.data.recall import PopularityRecall
from agents.learners.base import Learner
from rec_env.checks import InputError
from rec_env.data import LoggedLists

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
"""what ``torchrun`` sets in every process it starts"""
TIMEOUT = timedelta(minutes=30)
"""how long a collective waits for the other ranks (rank 0 evaluating or writing)"""


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (one process: rank 0 of 1).

    :param rank: global rank in ``[0, size)``; rank 0 writes everything.
    :param size: number of processes (``WORLD_SIZE``).
    :param local_rank: rank on this node (``LOCAL_RANK``; the CUDA device index).
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on the rank that logs, evaluates and writes files."""
        return self.rank == 0

    def shard(self, batch_size: int) -> slice:
        """This rank's contiguous slice of a global batch of ``batch_size`` rows.

        :raises InputError: ``batch_size`` is not a multiple of the world size.
        """
        if batch_size % self.size:
            raise InputError(
                f"learner.batch_size ({batch_size}) must be a multiple of the number of "
                f"processes ({self.size}): every rank learns on an equal part of the batch"
            )
        part = batch_size // self.size
        return slice(self.rank * part, (self.rank + 1) * part)

    def barrier(self) -> None:
        """Wait until every rank gets here (a no-op in one process)."""
        if self.size > 1:
            dist.barrier()

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` (picklable), on every rank."""
        if self.size == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value`` (picklable), in rank order, on every rank."""
        if self.size == 1:
            return [value]
        values: list[Any] = [None] * self.size
        dist.all_gather_object(values, value)
        return values

    def reduce_gradients(self, parameters: list[Tensor]) -> None:
        """Replace each parameter's ``.grad`` by its mean over the ranks, in one all-reduce.

        A parameter without a gradient on some ranks counts zero there; one without a
        gradient on every rank keeps ``None`` (so Adam skips it, as in one process).
        """
        if self.size == 1 or not parameters:
            return
        device = parameters[0].device
        pieces = [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]
        has_grad = torch.tensor([p.grad is not None for p in parameters], device=device)
        flat = torch.cat([piece.reshape(-1) for piece in pieces] + [has_grad.float()])
        dist.all_reduce(flat)
        sizes = [p.numel() for p in parameters]
        *summed, counts = torch.split(flat, [*sizes, len(parameters)])
        for parameter, total, count in zip(parameters, summed, counts.tolist(), strict=True):
            if count > 0:
                parameter.grad = (total / self.size).view_as(parameter).clone()

    def check_same_networks(self, networks: dict[str, torch.nn.Module]) -> None:
        """:raises RuntimeError: the ranks' networks differ (they must start identical)."""
        sums = {
            name: float(sum(p.detach().double().sum() for p in net.parameters()))
            for name, net in networks.items()
        }
        if any(other != sums for other in self.gather(sums)):
            raise RuntimeError(f"rank {self.rank}: networks differ between ranks at the start")


SINGLE = World()
"""the world of an ordinary one-process run"""


def init_world(environ: dict[str, str] | None = None) -> World:
    """Join the process group that ``torchrun`` set up (env:// rendezvous).

    Backend gloo; on a machine with CUDA, ``cpu:gloo,cuda:nccl`` (CPU tensors through gloo,
    CUDA tensors through NCCL) with this process on device ``LOCAL_RANK``.

    :raises InputError: a torchrun variable is missing or not an integer (the message names
        it and how to launch).
    """
    environ = dict(os.environ if environ is None else environ)
    missing = [name for name in TORCHRUN_VARIABLES if name not in environ]
    if missing:
        raise InputError(
            f"--distributed needs the environment torchrun sets ({', '.join(missing)} missing);"
            " launch with: torchrun --nproc_per_node=2 -m agents.train ... --distributed"
        )
    world = World(*(_int_variable(environ, name) for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK")))
    if not 0 <= world.rank < world.size:
        raise InputError(f"RANK must be in [0, WORLD_SIZE={world.size}), got {world.rank}")
    backend = "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(world.local_rank)
        backend = "cpu:gloo,cuda:nccl"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=TIMEOUT)
    return world


def _int_variable(environ: dict[str, str], name: str) -> int:
    try:
        return int(environ[name])
    except ValueError:
        raise InputError(f"{name} must be an integer, got {environ[name]!r}") from None


def close_world(world: World) -> None:
    """Leave the process group (after the last collective)."""
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()


def rank_seed(seed: int, rank: int, step: int = 0) -> int:
    """The torch RNG seed of rank ``rank > 0`` of a run seeded ``seed`` (dropout masks),
    starting (or, resumed in another world size, restarting) at ``step``."""
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1)[0])


def torch_rng_for_rank(checkpoint: dict, world: World, seed: int) -> Tensor:
    """This rank's torch RNG state in a training checkpoint.

    Rank 0 (and a one-process run) takes ``torch_rng``; rank r > 0 its entry of
    ``rank_torch_rng`` if the checkpoint was written by as many processes, else a fresh
    stream seeded by ``(seed, r, step)``.
    """
    ranks = checkpoint.get("rank_torch_rng")
    if world.is_main:
        return checkpoint["torch_rng"]
    if ranks is not None and len(ranks) == world.size:
        return ranks[world.rank]
    return (
        torch.Generator().manual_seed(rank_seed(seed, world.rank, checkpoint["step"])).get_state()
    )


def learners_of(trainable: object) -> list[Learner]:
    """The learners whose optimiser steps train ``trainable``: itself if it is a
    :class:`Learner`, else its attributes that are (a distiller's teacher and student).

    :raises InputError: it has none (its gradients could not be averaged).
    """
    if isinstance(trainable, Learner):
        return [trainable]
    found = [v for v in getattr(trainable, "__dict__", {}).values() if isinstance(v, Learner)]
    if not found:
        raise InputError(
            f"--distributed averages gradients in Learner.apply; {type(trainable).__name__} "
            "is not a Learner and holds none as an attribute"
        )
    return found


def synchronise(trainable: object, world: World, seed: int) -> None:
    """Make ``trainable`` train data-parallel in ``world``: gradients averaged before each
    learner's clipping, networks checked identical, rank r > 0 on its own dropout stream."""
    if world.size == 1:
        return
    for learner in learners_of(trainable):
        learner.reduce_gradients = world.reduce_gradients
    world.check_same_networks(trainable.networks())
    if not world.is_main:
        torch.manual_seed(rank_seed(seed, world.rank))


class ShardedRecall:
    """Draws the recall items of the whole global batch and keeps this rank's rows, so the
    generator advances as in one process.

    :param recall: the sampler's popularity recall.
    :param part: this rank's rows of the global batch (:meth:`World.shard`).
    :param batch_size: rows of the global batch.
    """

    def __init__(self, recall: PopularityRecall, part: slice, batch_size: int) -> None:
        self.recall, self.part, self.batch_size = recall, part, batch_size

    def sample(self, n: int, m: int) -> Tensor:
        """``[n, m]`` item ids: this rank's ``n`` rows of a ``[batch_size, m]`` draw."""
        rows = self.part.stop - self.part.start
        if n != rows:
            raise ValueError(f"this rank samples recall for {rows} lists, asked for {n}")
        return self.recall.sample(self.batch_size, m)[self.part]


class ShardedTransitions(LoggedTransitions):
    """:class:`LoggedTransitions` whose batches are this rank's slice of the global batch.

    :param lists: the training lists; :param target: next-slot candidates; :param n_recall:
        recalled items per list; :param generator: seeded alike on every rank.
    :param world: this process's rank and the world size.
    :param batch_size: lists in the global batch (a multiple of the world size).
    """

    def __init__(
        self,
        lists: LoggedLists,
        target: Literal["double", "logged"],
        n_recall: int,
        generator: torch.Generator,
        world: World,
        batch_size: int,
    ) -> None:
        super().__init__(lists, target, n_recall, generator)
        self.part, self.batch_size = world.shard(batch_size), batch_size
        self.recall = ShardedRecall(self.recall, self.part, batch_size)

    def sample(self, batch_size: int) -> TDBatch:
        """This rank's ``batch_size / world_size`` lists of a global batch drawn uniformly
        with replacement."""
        if batch_size != self.batch_size:
            raise ValueError(f"built for global batches of {self.batch_size}, asked {batch_size}")
        rows = torch.randint(len(self.data), (batch_size,), generator=self.generator)
        return self.batch(rows[self.part])
