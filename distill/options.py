"""Settings of a distillation run, one dataclass per method (``TrainConfig.options``).

Every method is the same trainer (:class:`distill.trainer.DistillTrainer`) with other
defaults; every field is a flag of ``python -m distill.train`` (``--no-explore``,
``--filter random``, ``--confidence uniform``, ``--no-kl``, ``--no-hint``...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agents.nn.qnetwork import STUDENT_WIDTH
from distill.confidence import CONFIDENCES
from distill.filters import FILTERS
from rec_env.checks import InputError, check_choice, check_range, check_types

FilterName = Literal["dual_led", "teacher_led", "student_led", "random", "disagreement", "none"]
ConfidenceName = Literal["td", "uniform"]
KLOver = Literal["lesson", "positions"]
LessonMode = Literal["mixed", "train", "eval"]


@dataclass(frozen=True)
class DistillOptions:
    """DRL-Rec (Xie et al., CIKM 2021): explore, dual-led filter, confidence-weighted list-wise
    KL and hint; loss weights of the official code."""

    explore: bool = True
    """score a pool of catalogue items at every state and teach on the filtered ones too
    (False: the logged action only)"""
    pool_recall: Literal["popular", "uniform"] = "popular"
    """where each list's pool comes from: train impressions, or the whole catalogue uniformly"""
    pool_size: int = 1000
    """M, pool items per list, shared by its slots"""
    filter: FilterName = "dual_led"
    """which explored items become lessons (distill.filters)"""
    top_k: int = 3
    """k, items each side of a filter picks per state"""
    confidence: ConfidenceName = "td"
    """td: trust the teacher by its TD error on the logged action; uniform: c = 1"""
    kl: bool = True
    """list-wise KL between the teacher's and the student's softmax over each lesson"""
    kl_over: KLOver = "lesson"
    """lesson: per state, the logged action + the filtered items; positions: the K logged
    slots of each list (no confidence; offline only; the official code's variant with
    teacher_temperature 10: OFFICIAL_KL)"""
    teacher_temperature: float = 1.0
    """tau_T, the teacher's scores are divided by it inside the KL"""
    student_temperature: float = 1.0
    """tau_S, the student's scores are divided by it inside the KL"""
    hint: bool = True
    """confidence-weighted MSE between the projected student hint layer and the teacher's"""
    student_rl_weight: float = 0.4
    """weight of the student's own TD loss (the teacher's weighs 1)"""
    kl_weight: float = 0.3
    """weight of the KL loss"""
    hint_weight: float = 0.3
    """weight of the hint loss"""
    q_regression_weight: float = 0.0
    """weight of the confidence-weighted MSE between the student's and the teacher's Q on
    each lesson (Q-value distillation; 0: off)"""
    lesson_mode: LessonMode = "mixed"
    """dropout of the Q head when each side scores its lesson: mixed, the teacher in eval
    mode and the student as in its RL term (dropout on); train, both as in their RL terms (a
    frozen teacher is in eval mode); eval, both in eval mode (the student still with
    gradient). The states are the RL passes' in every mode."""
    ranking_weight: float = 0.0
    """weight of the ranking-distillation loss on the teacher's top k (needs filter
    teacher_led)"""
    ranking_decay: float = 1.0
    """lambda of the rank weights exp(-rank / lambda) of ranking distillation"""
    student_width: float = STUDENT_WIDTH
    """the student's widths as a share of the teacher's (0.5: the STUDENT preset)"""
    teacher_from: str = ""
    """two-stage mode: a trained teacher run folder, frozen (its RL loss is not trained);
    empty: teacher and student trained jointly from scratch"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type, out of range or not in its
        registry (:data:`~distill.filters.FILTERS`, :data:`~distill.confidence.CONFIDENCES`)."""
        check_types(self)  # the Literal names of the flags, then the registries used at run time
        check_choice("DistillOptions.filter", self.filter, FILTERS)
        check_choice("DistillOptions.confidence", self.confidence, CONFIDENCES)
        check_range(self, ("pool_size", "top_k"), low=1)
        if self.explore and self.top_k > self.pool_size:
            raise InputError(
                f"DistillOptions.top_k ({self.top_k}) must be <= pool_size ({self.pool_size}): "
                "a filter picks top_k items per side of the explored pool"
            )
        positive = ("teacher_temperature", "student_temperature", "ranking_decay", "student_width")
        check_range(self, positive, low=0, low_open=True)
        weights = (
            "student_rl_weight",
            "kl_weight",
            "hint_weight",
            "ranking_weight",
            "q_regression_weight",
        )
        check_range(self, weights, low=0)
        if self.ranking_weight > 0 and not (self.explore and self.filter == "teacher_led"):
            raise InputError("ranking_weight > 0 needs explore and filter='teacher_led'")
        if not (self.kl or self.hint or self.ranking_weight > 0 or self.q_regression_weight > 0):
            raise InputError(
                "nothing to distill: enable kl, hint, ranking_weight or q_regression_weight"
            )


@dataclass(frozen=True)
class KDOptions(DistillOptions):
    """Knowledge distillation (Hinton et al., 2015): soft targets on the logged items, a
    softmax at temperature 2 over each list's K logged slots."""

    explore: bool = False
    kl_over: KLOver = "positions"
    teacher_temperature: float = 2.0
    student_temperature: float = 2.0
    confidence: ConfidenceName = "uniform"
    hint: bool = False


@dataclass(frozen=True)
class HintOptions(DistillOptions):
    """FitNets (Romero et al., 2015): the hint loss alone, on the logged actions."""

    explore: bool = False
    kl: bool = False
    confidence: ConfidenceName = "uniform"


@dataclass(frozen=True)
class PolicyDistillOptions(DistillOptions):
    """Policy distillation (Rusu et al., 2016): KL over the Q-softmax of candidate items, the
    teacher's sharpened by a low temperature (0.01). The candidates are 100 pool items per
    list (the environment's request size), all of them lessons."""

    pool_size: int = 100
    filter: FilterName = "none"
    teacher_temperature: float = 0.01
    confidence: ConfidenceName = "uniform"
    hint: bool = False


@dataclass(frozen=True)
class RankingDistillOptions(DistillOptions):
    """Ranking distillation (Tang and Wang, KDD 2018): the teacher's top k explored items as
    extra positives of the student, weighted by rank."""

    filter: FilterName = "teacher_led"
    kl: bool = False
    hint: bool = False
    confidence: ConfidenceName = "uniform"
    ranking_weight: float = 0.3


@dataclass(frozen=True)
class QRegressionOptions(DistillOptions):
    """Q-value distillation (Rusu et al., 2016, its MSE variant): DRL-Rec's explored,
    dual-led lessons with the confidence-weighted MSE of the student's Q onto the teacher's
    alone, at the weight of DRL-Rec's KL. Unlike the KL over a lesson's softmax it also
    passes the teacher's calibration across states."""

    kl: bool = False
    hint: bool = False
    q_regression_weight: float = 0.3


OFFICIAL_KL = {"kl_over": "positions", "teacher_temperature": 10.0}
"""the official DRL-Rec code's KL: over the K logged slots of a list, the teacher's Q divided
by 10 and the student's not (student_temperature at its default, 1), without confidence
(``--kl-over positions --teacher-temperature 10``)"""

METHODS: dict[str, type[DistillOptions]] = {
    "drl-rec": DistillOptions,
    "kd": KDOptions,
    "hint": HintOptions,
    "policy-distill": PolicyDistillOptions,
    "ranking-distill": RankingDistillOptions,
    "q-regression": QRegressionOptions,
}
"""Every distillation method by name: its options (and defaults)."""
