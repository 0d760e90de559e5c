"""`fit_report`: how well a user model predicts the held-out test split's clicks, next to
reference models that know no user (:mod:`rec_env.simulator.baselines`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rec_env.data.lists import LoggedLists
from rec_env.simulator.base import UserModel
from rec_env.simulator.baselines import BASELINES
from rec_env.simulator.ground_truth import GroundTruthModel
from rec_env.simulator.metrics import ReliabilityCurve, auc, log_loss, reliability_curve

if TYPE_CHECKING:
    from rec_env.scenario import Scenario

N_BINS = 10
FITTED, TRUTH = "fitted", "ground_truth"
"""Row names of the scored model and of a synthetic world's ground truth in the table."""
LEARNED_LITTLE = 0.01
"""AUC gain over the best baseline under which :meth:`FitReport.to_text` says a model learned
little about the users."""


def logged_proba(model: UserModel, lists: LoggedLists) -> np.ndarray:
    """``[N, K]`` float32: each shown slot's click probability given its logged list so far.

    One batched :meth:`~UserModel.click_proba` call per slot (over the lists that show an
    item there); NaN in slots that were not shown.
    """
    proba = np.full(lists.items.shape, np.nan, dtype=np.float32)
    for slot in range(lists.slate_size):
        rows = np.flatnonzero(lists.mask[:, slot])
        proba[rows, slot] = model.click_proba(
            lists.user_ids[rows],
            lists.items[rows],
            lists.clicks[rows],
            lists.items[rows, slot],
            np.full(len(rows), slot),
        )
    return proba


@dataclass(frozen=True)
class ModelScores:
    """One model's held-out scores on the report's rows.

    :param auc: ROC AUC of its probabilities.
    :param log_loss: mean binary cross-entropy, nats.
    :param curve: its reliability curve (``curve.ece``: expected calibration error).
    """

    auc: float
    log_loss: float
    curve: ReliabilityCurve

    @classmethod
    def of(cls, labels: np.ndarray, proba: np.ndarray, n_bins: int) -> ModelScores:
        """Scores of ``proba [n]`` against ``labels [n]`` (0/1), ``n_bins`` calibration bins."""
        return cls(
            auc(labels, proba), log_loss(labels, proba), reliability_curve(labels, proba, n_bins)
        )

    @property
    def ece(self) -> float:
        return self.curve.ece


@dataclass(frozen=True)
class FitReport:
    """Held-out quality of a click model, on the shown slots of the test split, next to
    reference models (:mod:`rec_env.simulator.baselines`) scored on the same rows.

    :param n_rows: shown test slots scored.
    :param click_rate: their observed click rate.
    :param auc: ROC AUC of the model's probabilities.
    :param log_loss: mean binary cross-entropy, nats.
    :param ece: expected calibration error over equal-width bins.
    :param curve: the reliability curve behind ``ece``.
    :param true_auc: synthetic only: AUC of the ground-truth probabilities on the same rows.
    :param true_log_loss: synthetic only: their log-loss.
    :param true_ece: synthetic only: their calibration error.
    :param true_mae: synthetic only: mean ``|p_model - p_true|`` over the rows.
    :param true_curve: synthetic only: the ground truth's reliability curve.
    :param baselines: name -> scores of each reference model (``constant``, ``position``,
        ``position_item``), fitted on the training split.
    """

    n_rows: int
    click_rate: float
    auc: float
    log_loss: float
    ece: float
    curve: ReliabilityCurve
    true_auc: float | None = None
    true_log_loss: float | None = None
    true_ece: float | None = None
    true_mae: float | None = None
    true_curve: ReliabilityCurve | None = None
    baselines: Mapping[str, ModelScores] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """The scalar fields (NaN for the synthetic-only ones when absent), for tables."""
        names = ("n_rows", "click_rate", "auc", "log_loss", "ece")
        names += ("true_auc", "true_log_loss", "true_ece", "true_mae")
        values = {name: getattr(self, name) for name in names}
        return {name: np.nan if value is None else value for name, value in values.items()}

    def scores(self) -> dict[str, ModelScores]:
        """Every scored model, in table order: the baselines, ``fitted``, ``ground_truth``."""
        scores = {**self.baselines, FITTED: ModelScores(self.auc, self.log_loss, self.curve)}
        if self.true_curve is not None:
            scores[TRUTH] = ModelScores(self.true_auc, self.true_log_loss, self.true_curve)
        return scores

    def table(self) -> pd.DataFrame:
        """One row per model: ``model, auc, log_loss, ece, auc_gain`` (AUC minus the best
        baseline's AUC: what a model learned beyond position and item popularity)."""
        scores = self.scores()
        best = max((s.auc for s in self.baselines.values()), default=np.nan)
        rows = [
            {
                "model": name,
                "auc": s.auc,
                "log_loss": s.log_loss,
                "ece": s.ece,
                "auc_gain": s.auc - best,
            }
            for name, s in scores.items()
        ]
        return pd.DataFrame(rows)

    def to_text(self, title: str = "") -> str:
        """The report as plain text: the table and one line on what the model learned."""
        table = self.table()
        gain = table.set_index("model").loc[FITTED, "auc_gain"]
        if gain < LEARNED_LITTLE:
            verdict = "it learned little about the users beyond position and item click rates"
        else:
            verdict = "it ranks clicks better than position and item click rates"
        return (
            f"{title}{self.n_rows} shown test slots, click rate {self.click_rate:.4f}\n"
            f"{table.to_string(index=False, float_format='{:.4f}'.format)}\n"
            f"fitted AUC - best baseline AUC = {gain:+.4f}: {verdict}.\n"
        )


def fit_report(model: UserModel, scenario: Scenario, n_bins: int = N_BINS) -> FitReport:
    """AUC, log-loss and calibration of ``model`` on the scenario's test lists, next to the
    reference models of :data:`~rec_env.simulator.baselines.BASELINES` fitted on its
    training lists and scored on the same rows.

    On synthetic data (a dataset with ``extras["world"]``) the ground truth is scored on the
    same rows too.

    :param model: a :class:`UserModel` built for at least the test lists' K slots.
    :param n_bins: equal-width bins of the calibration error, ``>= 1``.
    :raises TypeError: ``model`` is no :class:`UserModel`.
    :raises ValueError: ``n_bins < 1``, a model built for fewer slots than the lists have,
        an empty test or training split, or probabilities outside ``[0, 1]`` / not finite.
    """
    dataset, train, test = scenario.dataset, scenario.splits.train, scenario.splits.test
    _check_inputs(model, scenario, n_bins)
    labels = test.clicks[test.mask]
    proba = logged_proba(model, test)[test.mask]
    scores = ModelScores.of(labels, proba, n_bins)
    baselines = {
        name: ModelScores.of(labels, logged_proba(fit(train), test)[test.mask], n_bins)
        for name, fit in BASELINES.items()
    }
    report = {
        "n_rows": int(labels.size),
        "click_rate": float(labels.mean()),
        "baselines": baselines,
    }
    if "world" in dataset.extras:
        truth = logged_proba(GroundTruthModel(dataset.extras["world"]), test)[test.mask]
        true_scores = ModelScores.of(labels, truth, n_bins)
        report.update(
            true_auc=true_scores.auc,
            true_log_loss=true_scores.log_loss,
            true_ece=true_scores.ece,
            true_mae=float(np.mean(np.abs(proba - truth))),
            true_curve=true_scores.curve,
        )
    return FitReport(
        auc=scores.auc, log_loss=scores.log_loss, ece=scores.ece, curve=scores.curve, **report
    )


def _check_inputs(model: UserModel, scenario: Scenario, n_bins: int) -> None:
    """The errors :func:`fit_report` raises before any scoring."""
    if not isinstance(model, UserModel):
        raise TypeError(f"model must be a UserModel (click_proba, slate_size), got {model!r}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    test = scenario.splits.test
    if model.slate_size < test.slate_size:
        raise ValueError(
            f"the model was built for {model.slate_size} slots, the lists of "
            f"{scenario.name!r} have {test.slate_size}"
        )
    for name in ("train", "test"):
        if not getattr(scenario.splits, name).mask.any():
            raise ValueError(f"the {name} split of {scenario.name!r} has no shown slot to score")


def plot_reliability(
    curves: Mapping[str, ReliabilityCurve], path: str | Path, title: str = ""
) -> Path:
    """Write a reliability diagram (observed click rate vs mean predicted probability) as PNG.

    :param curves: one curve per label, e.g. ``{"fitted": report.curve, "true": ...}``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.5, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    top = 0.0
    for label, curve in curves.items():
        filled = curve.counts > 0
        axes.plot(curve.mean_proba[filled], curve.click_rate[filled], "o-", label=label)
        top = max(top, curve.mean_proba[filled].max(), curve.click_rate[filled].max())
    top = min(1.0, 1.05 * top)
    axes.plot([0, top], [0, top], "k--", lw=1, label="perfect")
    axes.set(xlabel="mean predicted click probability", ylabel="observed click rate", title=title)
    axes.set(xlim=(0, top), ylim=(0, top))
    axes.legend(fontsize="small")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path
