"""How well does the click model fitted on logs predict held-out clicks?

For each dataset: split the logged lists by request (seed ``--seed``), fit the full
:class:`~rec_env.simulator.LogClickModel` and two ablations (no position term, no in-list
context term) on the training split, and score each on the test split: AUC, log-loss and
expected calibration error, plus a reliability diagram. On synthetic data the ground-truth
model is scored on the same rows, with each fit's mean ``|p - p_true|``.

    python -m benchmarks.simulator_fit [--datasets synthetic ml-100k obd] [--seed 0] [--smoke]

Writes ``table.csv`` (one row per dataset, model and seed), ``summary.md``, ``config.json``,
``command.txt`` and ``reliability_<dataset>.png`` into ``--out-dir``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

from benchmarks.common import markdown_table, write_results
from rec_env.data import DATASETS, LoggedLists, load_dataset, split_lists
from rec_env.simulator import LogClickConfig, fit_log_model, fit_report, plot_reliability
from rec_env.simulator.fit import SPLIT_BY

MODELS = {
    "full": {},
    "no_position": {"use_position": False},
    "no_context": {"use_context": False},
}
"""Fitted variants: name -> :class:`LogClickConfig` overrides."""
SMOKE_SYNTHETIC = {"n_users": 100, "n_items": 200, "n_requests": 2_000}
TARGET_AUC_GAP = 0.01
"""Issue target: on synthetic, |AUC(fitted) - AUC(ground truth)| on the same rows."""
SUMMARY_COLUMNS = [
    *("dataset", "model", "n_rows", "clicks"),
    *("auc", "log_loss", "ece", "true_mae", "best_epoch", "fit_s"),
]
METRICS = ["auc", "log_loss", "ece", "true_mae", "n_rows", "click_rate", "best_epoch", "fit_s"]


@dataclass
class Config:
    out_dir: str = "results/simulator"
    """where the table, summary and plots go"""
    datasets: list[str] = field(default_factory=lambda: list(DATASETS))
    """datasets to fit"""
    models: list[str] = field(default_factory=lambda: list(MODELS))
    """fitted variants to compare (keys of MODELS)"""
    seed: int = 0
    """split seed and training seed"""
    synthetic_requests: int | None = None
    """lists in the synthetic log (None: the embedded default, 50,000)"""
    smoke: bool = False
    """tiny synthetic world and 2 epochs, for CI"""
    threads: int = 1
    """torch CPU threads (these small batches gain little from more)"""
    model: LogClickConfig = field(default_factory=LogClickConfig)
    """the full model's config (variants override the switches)"""


class ConstantModel:
    """Reference: every slot gets the training click rate (AUC 0.5 by construction)."""

    def __init__(self, rate: float, slate_size: int):
        self.rate, self.slate_size = rate, slate_size

    def click_proba(self, users, slate_items, slate_clicks, candidates, position) -> np.ndarray:
        return np.full(np.shape(candidates), self.rate, dtype=np.float32)


def load(name: str, config: Config):
    """The dataset ``name`` at the size the run asks for."""
    if name != "synthetic":
        return load_dataset(name)
    size = dict(SMOKE_SYNTHETIC) if config.smoke else {}
    if config.synthetic_requests is not None:
        size["n_requests"] = config.synthetic_requests
    return load_dataset("synthetic", progress=False, **size)


def run_dataset(name: str, config: Config) -> list[dict]:
    """Fit every variant on one dataset; one result row per model (+ the ground truth)."""
    dataset = load(name, config)
    lists = LoggedLists.from_dataset(dataset)
    splits = split_lists(lists, by=SPLIT_BY, seed=config.seed)
    train_rate = float(splits.train.clicks[splits.train.mask].mean())
    constant = fit_report(ConstantModel(train_rate, lists.slate_size), dataset, lists, config.seed)
    rows = [{"model": "constant", **constant.metrics()}]
    curves = {}
    for model_name in config.models:
        model_config = replace(config.model, seed=config.seed, **MODELS[model_name])
        start = time.perf_counter()
        model = fit_log_model(splits.train, splits.valid, model_config)
        fit_s = time.perf_counter() - start
        report = fit_report(model, dataset, lists, split_seed=config.seed)
        curves[model_name] = report.curve
        fit_info = {"best_epoch": model.info["best_epoch"], "fit_s": fit_s}
        rows.append({"model": model_name, **report.metrics(), **fit_info})
        print(
            f"{name} {model_name}: auc {report.auc:.4f}, log-loss {report.log_loss:.4f}, "
            f"ece {report.ece:.4f} ({fit_s:.0f} s)"
        )
    if report.true_curve is not None:
        curves["ground truth"] = report.true_curve
        truth = {"auc": report.true_auc, "log_loss": report.true_log_loss, "ece": report.true_ece}
        same_rows = {"n_rows": report.n_rows, "click_rate": report.click_rate}
        rows.append({"model": "ground_truth", **truth, **same_rows})
    plot_reliability(curves, f"{config.out_dir}/reliability_{name}.png", title=name)
    return [{"dataset": name, "seed": config.seed, **row} for row in rows]


def summarise(table: pd.DataFrame, config: Config) -> str:
    """Markdown: the metrics table and, on synthetic, the gap to the ground truth's AUC."""
    table = table.assign(clicks=table["n_rows"] * table["click_rate"])
    shown = table[SUMMARY_COLUMNS].astype(object).where(table[SUMMARY_COLUMNS].notna(), "-")
    integers = ["n_rows", "clicks", "best_epoch"]
    shown[integers] = shown[integers].map(_as_int)
    shown["fit_s"] = shown["fit_s"].map(lambda s: s if s == "-" else f"{s:.1f}")
    text = f"# Click model fitted on logs: held-out test split (seed {config.seed})\n\n"
    text += markdown_table(shown, ".4f")
    text += (
        "\nn_rows, clicks: shown test slots and their clicks; auc, log_loss (nats) and ece "
        "(10 equal-width bins) on them; true_mae = mean |p - p_true| (synthetic only); constant = the training click rate; "
        "fit_s in seconds. Where every list has one shown slot (obd), the context terms see "
        "no data, so no_context equals full.\n"
    )
    synthetic = table[table["dataset"] == "synthetic"].set_index("model")
    if "ground_truth" in synthetic.index and "full" in synthetic.index:
        gap = synthetic.loc["ground_truth", "auc"] - synthetic.loc["full", "auc"]
        verdict = "met" if abs(gap) <= TARGET_AUC_GAP else "NOT met"
        text += (
            f"\nSynthetic target (|AUC gap to ground truth| <= {TARGET_AUC_GAP}): {verdict}, "
            f"gap = {gap:.4f}.\n"
        )
    return text


def _as_int(value):
    return value if value == "-" else round(value)


def main(config: Config) -> pd.DataFrame:
    torch.set_num_threads(config.threads)
    if config.smoke:
        config.model = replace(config.model, epochs=2)
    rows = [row for name in config.datasets for row in run_dataset(name, config)]
    table = pd.DataFrame(rows).reindex(columns=["dataset", "model", "seed", *METRICS])
    summary = summarise(table, config)
    out = write_results(config.out_dir, table, summary, config)
    print(summary + f"\nwritten to {out}/")
    return table


def parse_args() -> Config:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out-dir", default=Config.out_dir, help="results folder")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), help="datasets to fit")
    parser.add_argument(
        "--models", nargs="+", default=list(MODELS), choices=list(MODELS), help="fitted variants"
    )
    parser.add_argument("--seed", type=int, default=0, help="split and training seed")
    parser.add_argument(
        "--synthetic-requests", type=int, help="lists in the synthetic log (default 50,000)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny synthetic world, 2 epochs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    return Config(**vars(args))


if __name__ == "__main__":
    main(parse_args())
