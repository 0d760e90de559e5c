"""Offline-then-online: an online run that starts from a finished offline run's networks.

``TrainConfig.init_from`` names the offline run folder. The online run checks it before its
own folder exists (:func:`check_init_from` when the config is built, :func:`check_source`
once the source's config is read: same agent, data, split and width), then :func:`warm_start`
puts into its fresh trainable:

* **the networks**: the source's selected networks (``best.pt``) if it ended with them, else
  its last ones (what ``load_agent(source)`` serves);
* **a DDQN's target network**: a copy of the loaded online network, as in a fresh DDQN (the
  source's target at its selected step is not kept);
* **not the optimiser**: Adam starts fresh at this run's learning rates and its update count
  at 0 (the source's moments are those of logged-list gradients, and of its last step, not of
  the selected one).

The replay starts empty and fills from the environment (``learning_starts``); exploration
follows this run's schedule (lower ``exploration_start`` to act on the warm network at
once). A resumed run reads everything from its own checkpoint, never the source folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agents.learners.base import Learner, polyak_update
from agents.learners.ddqn import DDQN
from rec_env.checks import InputError

if TYPE_CHECKING:
    from agents.training.config import TrainConfig
    from agents.training.loop import Trainable

SAME_FIELDS = ("agent", "dataset", "split", "split_seed", "synthetic", "width")
"""TrainConfig fields the source run must share: its networks' architecture and data"""


def check_init_from(config: TrainConfig) -> None:
    """What a config alone says against ``init_from`` (no file is read).

    :raises InputError: naming ``TrainConfig.init_from`` and the conflicting field.
    """
    name = config.init_from
    if name is None:
        return
    if not name:
        raise InputError("TrainConfig.init_from must name an offline run folder, got ''")
    if config.mode != "online":
        raise InputError(
            f"TrainConfig.init_from={name} warm-starts an online run from an offline one: "
            f"mode='online' only, got mode={config.mode!r}"
        )
    if not config.spec.trained_by_loop:
        raise InputError(
            f"TrainConfig.init_from={name}: agent {config.agent!r} is fitted, not trained in "
            "steps: there is no network to warm-start"
        )
    if config.mf_warm_start:
        raise InputError(
            f"TrainConfig.init_from={name} and TrainConfig.mf_warm_start both set the starting "
            "weights: drop mf_warm_start (the offline run's MF tables are loaded)"
        )


def check_source(config: TrainConfig, source: TrainConfig, folder: str | Path) -> None:
    """:raises InputError: the source run (config ``source``, in ``folder``) is not an offline
    run of this run's agent, dataset, split and width; the message names the field and both
    values."""
    for field in SAME_FIELDS:
        theirs, ours = getattr(source, field), getattr(config, field)
        if theirs != ours:
            raise InputError(
                f"TrainConfig.init_from={folder}: its {field} {theirs!r} differs from this "
                f"run's {ours!r}"
            )
    if source.mode != "offline":
        raise InputError(
            f"TrainConfig.init_from={folder} is an {source.mode} run; init_from starts from an "
            "offline run (to continue an online run, --resume it)"
        )


def check_learner(folder: str | Path, source: Trainable) -> None:
    """:raises InputError: the source's trainable is not one learner (a distillation run's
    trainer holds several, each with its own target)."""
    if not isinstance(source, Learner):
        raise InputError(
            f"TrainConfig.init_from={folder}: warm-starts one learner (teacher, student, "
            f"supervised), not a {type(source).__name__}"
        )


def warm_start(trainable: Learner, source: Learner, folder: str | Path) -> None:
    """Load ``source``'s networks into ``trainable`` (by name) and, for a DDQN, copy the
    online network into the target; the optimiser is left fresh.

    :raises InputError: a network's architecture (``QNetworkConfig``) differs from the
        source's (its preset changed since the source was trained).
    """
    theirs = source.networks()
    for name, network in trainable.networks().items():
        if network.config != theirs[name].config:
            raise InputError(
                f"TrainConfig.init_from={folder}: its {name} {theirs[name].config} differs "
                f"from the one this run builds ({network.config})"
            )
        network.load_state_dict(theirs[name].state_dict())
    if isinstance(trainable, DDQN):
        polyak_update(trainable.network, trainable.target_network, 1.0)
