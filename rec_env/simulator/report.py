"""`fit_report`: how well a user model predicts the held-out test split's clicks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rec_env.data.lists import LoggedLists
from rec_env.simulator.base import UserModel
from rec_env.simulator.ground_truth import GroundTruthModel
from rec_env.simulator.metrics import ReliabilityCurve, auc, log_loss, reliability_curve

if TYPE_CHECKING:
    from rec_env.scenario import Scenario

N_BINS = 10


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
class FitReport:
    """Held-out quality of a click model, on the shown slots of the test split.

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

    def metrics(self) -> dict[str, float]:
        """The scalar fields (NaN for the synthetic-only ones when absent), for tables."""
        names = ("n_rows", "click_rate", "auc", "log_loss", "ece")
        names += ("true_auc", "true_log_loss", "true_ece", "true_mae")
        values = {name: getattr(self, name) for name in names}
        return {name: np.nan if value is None else value for name, value in values.items()}


def fit_report(model: UserModel, scenario: Scenario, n_bins: int = N_BINS) -> FitReport:
    """AUC, log-loss and calibration of ``model`` on the scenario's test lists.

    On synthetic data (a dataset with ``extras["world"]``) the ground truth is scored on the
    same rows too.

    :param n_bins: equal-width bins of the calibration error.
    """
    dataset, test = scenario.dataset, scenario.splits.test
    labels = test.clicks[test.mask]
    proba = logged_proba(model, test)[test.mask]
    report = {
        "n_rows": int(labels.size),
        "click_rate": float(labels.mean()),
        "auc": auc(labels, proba),
        "log_loss": log_loss(labels, proba),
        "curve": reliability_curve(labels, proba, n_bins),
    }
    if "world" in dataset.extras:
        truth = logged_proba(GroundTruthModel(dataset.extras["world"]), test)[test.mask]
        true_curve = reliability_curve(labels, truth, n_bins)
        report.update(
            true_auc=auc(labels, truth),
            true_log_loss=log_loss(labels, truth),
            true_ece=true_curve.ece,
            true_mae=float(np.mean(np.abs(proba - truth))),
            true_curve=true_curve,
        )
    return FitReport(ece=report["curve"].ece, **report)


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
