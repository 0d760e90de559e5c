"""`DistillTrainer`: a teacher and a student DDQN trained with one backward pass.

One update, on a TD batch of lists (offline: logged lists; online: the replay)::

    1. RL forward passes: each network's Q(s_t, a_t), TD target, states [B, K, H], hint
    2. confidence c of each transition from the teacher's TD error (no gradient)
    3. explore: score a pool of M items per list at every state with both networks
       (no gradient, eval mode, the states of step 1); filter: k per side (dual-led)
    4. lesson per state: [a_t] + the filtered items; the teacher scores it (no gradient),
       the student with gradient; by ``lesson_mode``: mixed (default), the teacher in eval
       mode and the student in train mode (a_t's score and hint are step 1's); train, both in
       their step-1 modes; eval, both in eval mode
    5. L = L_RL(T) + 0.4 L_RL(S) + 0.3 KL(T || S) + 0.3 hint + ranking + Q regression;
       one backward
    6. each network's gradients clipped to norm 5, one Adam step each

The teacher receives only its RL gradient: every distillation term detaches it. In two-stage
mode (``teacher_from``) the teacher is a trained run's network, frozen in eval mode. The
hint projection trains with the student and is not counted in its parameters; it is kept
with the selected networks (``best.pt``, :meth:`DistillTrainer.selected_modules`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from agents.data.batch import TDBatch
from agents.data.recall import PopularityRecall
from agents.learners.base import LearnerOutput, eval_mode, polyak_update, scalars
from agents.learners.ddqn import DDQN
from agents.nn.qnetwork import TEACHER
from agents.training.config import Run, load_config
from agents.training.networks import make_network
from agents.training.runner import check_same_items, load_agent
from distill.confidence import CONFIDENCES, lesson_confidence
from distill.explore import Explorer, UniformRecall
from distill.filters import FILTERS
from distill.losses import hint_loss, listwise_kl, q_regression, ranking_loss
from distill.options import DistillOptions
from distill.scoring import q_of_items
from rec_env.data import item_counts


@dataclass(frozen=True)
class Lesson:
    """What each transition is taught: its logged action a_t (column 0), then the filtered
    explored items.

    :param valid: ``[N, L]`` bool (a filter may leave slots empty).
    :param confidence: ``[N, L]`` c of a_t, then the batch mean of c.
    :param teacher_q: ``[N, L]`` no gradient (dropout per ``lesson_mode``); :param teacher_hint:
        ``[N, L, D_T]``.
    :param student_q: ``[N, L]`` with gradient; :param student_hint: ``[N, L, D_S]``.
    """

    valid: Tensor
    confidence: Tensor
    teacher_q: Tensor
    teacher_hint: Tensor
    student_q: Tensor
    student_hint: Tensor


def per_list(values: Tensor, rows: Tensor, slots: Tensor, shape: torch.Size) -> Tensor:
    """``[N]`` per-transition values laid out as ``[B, K]`` lists (0 where no transition)."""
    return torch.zeros(shape, dtype=values.dtype).index_put((rows, slots), values)


def distill_seed(seed: int) -> int:
    """Seed of the trainer's own draws (pool, random filter), independent of the sampler's."""
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


class DistillTrainer:
    """Teacher + student DDQN with DRL-Rec (or a baseline's) distillation terms.

    :param run: the run; ``run.config.options`` is a :class:`DistillOptions`.
    """

    def __init__(self, run: Run) -> None:
        options: DistillOptions = run.config.options
        self.options = options
        learner = run.config.learner
        self.teacher = DDQN(make_network(run, TEACHER, mf_scale=0.25), learner)
        student = TEACHER.scaled(options.student_width)
        self.student = DDQN(make_network(run, student, mf_scale=0.25), learner)
        self.projection = nn.Linear(self.student.network.hint_dim, self.teacher.network.hint_dim)
        self.student.train_with(self.projection)
        self.frozen_teacher = bool(options.teacher_from)
        if self.frozen_teacher:
            if not run.resume:
                load_teacher(run, self.teacher)
            self.teacher.network.requires_grad_(False)
        self.generator = torch.Generator().manual_seed(distill_seed(run.config.seed))
        self.explorer = make_explorer(run, options, self.generator) if options.explore else None
        self.filter = FILTERS[options.filter]
        self.confidence = CONFIDENCES[options.confidence]

    def networks(self) -> dict[str, nn.Module]:
        return {"teacher": self.teacher.network, "student": self.student.network}

    def selected_modules(self) -> dict[str, nn.Module]:
        """What best-network selection keeps: the networks and the student's hint
        projection."""
        return {**self.networks(), "hint_projection": self.projection}

    def update(self, batch: TDBatch) -> dict[str, float]:
        o = self.options
        trained = ("student",) if self.frozen_teacher else ("teacher", "student")
        self.teacher.network.train(not self.frozen_teacher)
        self.student.network.train()
        for name in trained:
            getattr(self, name).zero_grad()
        # 1. RL forward passes (the frozen teacher's without gradient).
        with torch.set_grad_enabled(not self.frozen_teacher):
            teacher = self.teacher.compute(batch)
        student = self.student.compute(batch)
        # 2-4. Confidence, exploration and filtering, lesson scores.
        lesson = self.lesson(batch, teacher, student)
        # 5. One joint loss, one backward pass.
        terms = {"student_rl": o.student_rl_weight * student.loss}
        if not self.frozen_teacher:
            terms["teacher_rl"] = teacher.loss
        if o.kl:
            terms["kl"] = o.kl_weight * self.kl(batch, teacher, student, lesson)
        if o.hint:
            projected = self.projection(lesson.student_hint)
            terms["hint"] = o.hint_weight * hint_loss(
                projected, lesson.teacher_hint, lesson.valid, lesson.confidence
            )
        if o.ranking_weight > 0:  # the explored items are the teacher's top k, best first
            terms["ranking"] = o.ranking_weight * ranking_loss(
                lesson.student_q[:, 1:], lesson.valid[:, 1:], o.ranking_decay
            )
        if o.q_regression_weight > 0:
            terms["q_regression"] = o.q_regression_weight * q_regression(
                lesson.teacher_q, lesson.student_q, lesson.valid, lesson.confidence
            )
        loss = sum(terms.values())
        loss.backward()
        # 6. Each network clipped and stepped on its own optimiser.
        norms = {f"losses/{name}_grad_norm": getattr(self, name).apply() for name in trained}
        return {
            "losses/loss": loss.item(),
            **{f"losses/{name}": value.item() for name, value in terms.items()},
            **scalars(teacher, "losses/teacher_"),
            **scalars(student, "losses/student_"),
            **norms,
            "distill/confidence_mean": lesson.confidence[:, 0].mean().item(),
            "distill/explored_per_state": lesson.valid[:, 1:].sum(-1).float().mean().item(),
        }

    def lesson(self, batch: TDBatch, teacher: LearnerOutput, student: LearnerOutput) -> Lesson:
        """Per transition, the lesson [a_t] + filtered items, scored by both networks."""
        rows, slots = student.rows, student.slots
        actions = batch.lists.items[rows, slots].unsqueeze(-1)  # [N, 1]
        explored = actions[:, :0]
        picked = torch.ones_like(explored, dtype=torch.bool)
        if self.explorer is not None:
            exploration = self.explorer.explore(
                batch.lists,
                rows,
                slots,
                (self.teacher.network, teacher.states),
                (self.student.network, student.states),
            )
            index, picked = self.filter(
                exploration.teacher,
                exploration.student,
                exploration.valid,
                self.options.top_k,
                self.generator,
            )
            explored = exploration.pool[rows.unsqueeze(-1), index]  # [N, F]
        items = torch.cat([actions, explored], dim=-1)
        valid = torch.cat([torch.ones_like(actions, dtype=torch.bool), picked], dim=-1)
        mode = self.options.lesson_mode
        with torch.no_grad(), scoring_mode(self.teacher.network, mode != "train") as network:
            teacher_q, teacher_hint = q_of_items(
                network, teacher.states.detach()[rows, slots], items
            )
        if mode == "eval":  # a_t rescored too: step 1's score of it has dropout on
            with eval_mode(self.student.network) as network:
                student_q, student_hint = q_of_items(network, student.states[rows, slots], items)
        else:
            explored_q, explored_hint = q_of_items(
                self.student.network, student.states[rows, slots], explored
            )
            student_q = torch.cat([student.q.unsqueeze(-1), explored_q], dim=-1)
            student_hint = torch.cat([student.hint.unsqueeze(1), explored_hint], dim=1)
        confidence = self.confidence(teacher.q, teacher.target)
        return Lesson(
            valid=valid,
            confidence=lesson_confidence(confidence, explored.shape[1]),
            teacher_q=teacher_q,
            teacher_hint=teacher_hint,
            student_q=student_q,
            student_hint=student_hint,
        )

    def kl(
        self, batch: TDBatch, teacher: LearnerOutput, student: LearnerOutput, lesson: Lesson
    ) -> Tensor:
        """The KL term over each lesson, or over each list's logged slots (``positions``)."""
        o = self.options
        if o.kl_over == "lesson":
            return listwise_kl(
                lesson.teacher_q,
                lesson.student_q,
                lesson.valid,
                lesson.confidence,
                o.teacher_temperature,
                o.student_temperature,
            )
        shape = batch.weights.shape
        return listwise_kl(
            per_list(teacher.q.detach(), teacher.rows, teacher.slots, shape),
            per_list(student.q, student.rows, student.slots, shape),
            batch.weights > 0,
            teacher_temperature=o.teacher_temperature,
            student_temperature=o.student_temperature,
        )

    def state_dict(self) -> dict:
        return {
            "teacher": self.teacher.state_dict(),
            "student": self.student.state_dict(),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.teacher.load_state_dict(state["teacher"])
        self.student.load_state_dict(state["student"])
        self.generator.set_state(state["generator"])


def scoring_mode(network: nn.Module, evaluate: bool) -> AbstractContextManager[nn.Module]:
    """``network`` in eval mode inside the block if ``evaluate``, else in the mode it has."""
    return eval_mode(network) if evaluate else nullcontext(network)


def make_explorer(run: Run, options: DistillOptions, generator: torch.Generator) -> Explorer:
    """The run's explorer: popularity on train impressions, or uniform over the catalogue."""
    train = run.splits.train
    if options.pool_recall == "popular":
        recall = PopularityRecall(item_counts(train), generator)
    else:
        recall = UniformRecall(len(train.item_features), generator)
    return Explorer(recall, options.pool_size)


def load_teacher(run: Run, teacher: DDQN) -> None:
    """Load a trained teacher run's network (and target) into ``teacher``, checking that it
    was trained on the same data and split."""
    folder = run.config.options.teacher_from
    theirs, ours = load_config(folder), run.config
    for field in ("dataset", "split", "split_seed", "synthetic"):
        if getattr(theirs, field) != getattr(ours, field):
            raise ValueError(
                f"teacher_from={folder}: its {field} {getattr(theirs, field)!r} differs from "
                f"this run's {getattr(ours, field)!r}"
            )
    check_same_items("DistillOptions.teacher_from", Path(folder), run.scenario)
    trained = load_agent(folder, scenario=run.scenario).network
    if trained.config != teacher.network.config:
        raise ValueError(
            f"teacher_from={folder}: its network {trained.config} differs from the teacher "
            f"this run builds ({teacher.network.config}); use the same --width"
        )
    teacher.network.load_state_dict(trained.state_dict())
    polyak_update(teacher.network, teacher.target_network, 1.0)
