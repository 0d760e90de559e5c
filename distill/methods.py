"""Registers every distillation method in the agents' registry (imported by ``distill``).

Each name in :data:`distill.options.METHODS` becomes an agent of ``agents.train`` /
``distill.train``, trained by :class:`distill.trainer.DistillTrainer` offline or online,
serving its student (``load_agent(folder)``; ``name="teacher"`` for the teacher).
"""

from __future__ import annotations

from agents.training import AgentSpec, register
from distill.options import METHODS
from distill.trainer import DistillTrainer

for _name, _options in METHODS.items():
    register(
        _name,
        AgentSpec(
            ("offline", "online"),
            make_trainable=DistillTrainer,
            serve="student",
            options=_options,
            module=__name__,
        ),
        overwrite=True,
    )
