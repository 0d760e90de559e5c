"""Train an agent and evaluate it on held-out logged lists.

    python -m agents.train --agent teacher --dataset ml-100k --mode offline --seed 0 --steps 3000
    python -m agents.train --agent student --dataset synthetic --mode online --steps 2000
    python -m agents.train --agent teacher --mode online --init-from runs/<offline run folder>
    python -m agents.train --resume runs/ml-100k__teacher__0__1700000000 [--steps 6000]
    torchrun --nproc_per_node=2 -m agents.train --agent teacher --steps 3000 --distributed

A run folder ``{out}/{dataset}__{agent}__{seed}__{time}/`` holds ``config.json``,
``scalars.csv`` (+ TensorBoard events), ``checkpoint.pt`` (+ ``checkpoint.prev.pt``, the one
before) and ``metrics.json``: valid and test AUC, GAUC, NDCG@10 on logged lists (agents
that score them), and ``online``: clicks per list of the greedy agent on ``--eval-lists``
test requests of ListwiseFeed-v0 (fixed seeds, the same lists for every agent; 0 skips it).
``--resume`` continues a run folder from its checkpoint with its saved config (``--steps``
may raise the budget); the result equals an uninterrupted run. ``--init-from`` starts an
online run from a finished offline run's selected networks (:mod:`agents.training.warm_start`).
The agents are the
registry's (:mod:`agents.training.registry`); a package that registers its own
(``distill``) calls :func:`main` after importing itself. ``--distributed`` (under
``torchrun``, offline runs) trains data-parallel: each process learns on its slice of every
global batch, gradients are averaged, process 0 writes the run folder
(:mod:`agents.training.distributed`).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, replace
from pathlib import Path

from agents.learners.ddqn import DDQNConfig
from agents.training.config import OnlineConfig, TrainConfig, load_config
from agents.training.distributed import SINGLE, close_world, init_world
from agents.training.flags import add_arguments, overrides
from agents.training.registry import agent_names, spec_of
from agents.training.runner import load_agent, run
from rec_env.cli import run_cli
from rec_env.envs import FeedConfig

__all__ = ["Command", "load_agent", "main", "parse_args", "run"]

ENV_FLAGS_SKIPPED = ("user_split", "recall", "invalid_action", "invalid_penalty")
"""FeedConfig fields without a flag: set per use (user_split) or not for training."""


@dataclass(frozen=True)
class Command:
    """A training command line: ``agents.train``'s, or that of a package whose agents it
    names with its own flag (``distill.train --method``)."""

    prog: str = "python -m agents.train"
    """the program name in the usage line"""
    description: str = __doc__
    """the text ``--help`` prints above the flags"""
    agent_flag: str = "--agent"
    """the flag that picks the agent (TrainConfig.agent); its name without dashes is the noun
    its help uses"""
    agents: tuple[str, ...] | None = None
    """the flag's choices; None: every registered agent"""
    default_agent: str = "teacher"
    """the agent without the flag"""


def parse_args(
    argv: list[str] | None = None, command: Command = Command()
) -> tuple[TrainConfig, Path | None]:
    """The run's config (or the saved config of ``--resume``) from the command line
    (``--distributed`` is accepted here and read by :func:`main`)."""
    parser = argparse.ArgumentParser(  # --help is added last, once the agent's flags are known
        prog=command.prog,
        description=command.description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    parser.add_argument("--resume", type=Path, default=None, help="run folder to continue")
    parser.add_argument(
        command.agent_flag,
        dest="agent",
        choices=command.agents or agent_names(),
        default=command.default_agent,
        help=f"{command.agent_flag.lstrip('-')} (default: {command.default_agent})",
    )
    add_distributed_flag(parser)
    known, _ = parser.parse_known_args(argv)
    options_type = spec_of(known.agent).options
    add_arguments(parser, TrainConfig, skip=("agent",))
    add_arguments(parser, DDQNConfig)
    add_arguments(parser, OnlineConfig)
    add_arguments(parser, FeedConfig, skip=ENV_FLAGS_SKIPPED)
    if options_type is not None:
        add_arguments(parser, options_type)
    parser.add_argument("-h", "--help", action="help", help="show this message and exit")
    args = parser.parse_args(argv)
    if args.resume is not None:
        config = load_config(args.resume)
        return replace(config, steps=args.steps or config.steps), args.resume
    env = replace(OnlineConfig().env, **overrides(args, FeedConfig))
    online = OnlineConfig(**overrides(args, OnlineConfig), env=env)
    learner = DDQNConfig(**overrides(args, DDQNConfig))
    extra = {"options": options_type(**overrides(args, options_type))} if options_type else {}
    given = {**overrides(args, TrainConfig), "agent": args.agent}
    return TrainConfig(**given, learner=learner, online=online, **extra), None


def add_distributed_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel offline training, one process per rank, launched by torchrun "
        "(--batch-size is the global batch, a multiple of the number of processes)",
    )


def distributed_requested(argv: list[str] | None) -> bool:
    """True if the command line has ``--distributed``."""
    parser = argparse.ArgumentParser(add_help=False)
    add_distributed_flag(parser)
    return parser.parse_known_args(argv)[0].distributed


def main(argv: list[str] | None = None, command: Command = Command()) -> None:
    config, resume_dir = parse_args(argv, command)
    world = init_world() if distributed_requested(argv) else SINGLE
    try:
        result = run(config, resume_dir, world)
    finally:
        close_world(world)
    if world.is_main:
        print(json.dumps({"run_dir": str(result.dir), **result.metrics}, indent=2))


if __name__ == "__main__":
    run_cli(main)
