"""Train a teacher and a student with a distillation method and evaluate the student.

    python -m distill.train --method drl-rec --dataset synthetic-gap --seed 0
    python -m distill.train --method drl-rec --no-explore --filter random --no-hint ...
    python -m distill.train --method kd --teacher-from runs/synthetic-gap__teacher__0__1700000000
    python -m distill.train --resume runs/synthetic-gap__drl-rec__0__1700000000
    torchrun --nproc_per_node=2 -m distill.train --method drl-rec --distributed

Methods: drl-rec (default), kd, hint, policy-distill, ranking-distill. Every other flag is
``python -m agents.train``'s (data, steps, learner, online settings) or the method's
options (``--method M --help`` lists them); runs are the same folders (progress bar, CSV +
TensorBoard scalars, atomic checkpoints, resume, best-validation selection of the student,
``--distributed`` data-parallel training under torchrun), and
``agents.train.load_agent(folder)`` loads the student, ``name="teacher"`` the teacher.
"""

from __future__ import annotations

import distill  # noqa: F401  (registers the methods)
from agents.train import Command
from agents.train import main as train_main
from distill.options import METHODS
from rec_env.cli import run_cli

COMMAND = Command(
    prog="python -m distill.train",
    description=__doc__,
    agent_flag="--method",
    agents=tuple(METHODS),
    default_agent="drl-rec",
)
"""``agents.train``'s command line with this help text and ``--method`` for ``--agent``."""


def main(argv: list[str] | None = None) -> None:
    train_main(argv, COMMAND)


if __name__ == "__main__":
    run_cli(main)
