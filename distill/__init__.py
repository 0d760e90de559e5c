"""DRL-Rec distillation: explore a pool of items per state, filter lessons (dual-led),
weight them by the teacher's confidence, and distil with a list-wise KL and a hint loss.

Importing ``distill`` registers its methods (``drl-rec``, ``kd``, ``hint``,
``policy-distill``, ``ranking-distill``, ``q-regression``) as agents of the training
registry; train them with
``python -m distill.train --method drl-rec --dataset synthetic-gap --seed 0``.
"""

import distill.methods  # noqa: F401  (registers the methods)
from distill.confidence import CONFIDENCES, lesson_confidence, td_confidence, uniform_confidence
from distill.explore import Exploration, Explorer, Recall, UniformRecall
from distill.filters import FILTERS, top_k
from distill.losses import (
    confidence_scaled,
    hint_loss,
    listwise_kl,
    q_regression,
    ranking_loss,
)
from distill.options import METHODS, DistillOptions
from distill.trainer import DistillTrainer

__all__ = [
    "CONFIDENCES",
    "FILTERS",
    "METHODS",
    "DistillOptions",
    "DistillTrainer",
    "Exploration",
    "Explorer",
    "Recall",
    "UniformRecall",
    "confidence_scaled",
    "hint_loss",
    "lesson_confidence",
    "listwise_kl",
    "q_regression",
    "ranking_loss",
    "td_confidence",
    "top_k",
    "uniform_confidence",
]
