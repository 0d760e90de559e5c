"""Train a teacher and a student with a distillation method and evaluate the student.

    python -m distill.train --method drl-rec --dataset synthetic-gap --seed 0
    python -m distill.train --method drl-rec --no-explore --filter random --no-hint ...
    python -m distill.train --method kd --teacher-from runs/synthetic-gap__teacher__0__1700000000
    python -m distill.train --resume runs/synthetic-gap__drl-rec__0__1700000000
    torchrun --nproc_per_node=2 -m distill.train --method drl-rec --distributed

Methods: drl-rec (default), kd, hint, policy-distill, ranking-distill. Every other flag is
``python -m agents.train``'s (data, steps, learner, online settings) or the method's
options (``--help`` lists them); runs are the same folders (progress bar, CSV + TensorBoard
scalars, atomic checkpoints, resume, best-validation selection of the student,
``--distributed`` data-parallel training under torchrun), and
``agents.train.load_agent(folder)`` loads the student, ``name="teacher"`` the teacher.
"""

from __future__ import annotations

import argparse

import distill  # noqa: F401  (registers the methods)
from agents.train import main as train_main
from distill.options import METHODS
from rec_env.cli import run_cli

PROG = "python -m distill.train"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=PROG, add_help=False)
    parser.add_argument("--method", choices=list(METHODS), default="drl-rec")
    known, rest = parser.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        print(__doc__)
    resuming = any(arg == "--resume" or arg.startswith("--resume=") for arg in rest)
    train_main(rest if resuming else ["--agent", known.method, *rest], prog=PROG)


if __name__ == "__main__":
    run_cli(main)
