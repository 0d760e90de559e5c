"""How well does the click model fitted on logs predict held-out clicks?

For each dataset: split the logged lists by request (seed ``--seed``), fit the full
:class:`~rec_env.simulator.LogClickModel` and three ablations (no position term, no in-list
context term, no item popularity feature) on the training split, and score each on the test
split: AUC, log-loss and expected calibration error, plus a reliability diagram. On synthetic
data the ground-truth model is scored on the same rows, with each fit's mean ``|p - p_true|``,
and two oracle fits split the AUC gap to it: the full model with the true user tastes
(``given_users``) or the true item factors and biases (``given_items``) planted and frozen,
so only the other side is estimated from the logs.

    python -m benchmarks.simulator_fit [--datasets synthetic ml-100k obd] [--seed 0] [--smoke]
    python -m benchmarks.simulator_fit --datasets synthetic --models full --oracles given_users

Writes ``table.csv`` (one row per dataset, model and seed), ``summary.md``, ``config.json``,
``command.txt`` and ``reliability_<dataset>.png`` into ``--out-dir``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import numpy as np
import pandas as pd
import torch

from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import publish
from rec_env.checks import check_choice, check_range
from rec_env.data import DATASETS, load_dataset
from rec_env.data.synthetic import SyntheticWorld
from rec_env.scenario import Scenario
from rec_env.simulator import (
    FitReport,
    LogClickConfig,
    fit_log_model,
    fit_report,
    plot_reliability,
)
from rec_env.simulator.baselines import ConstantModel
from rec_env.simulator.click_net import ClickNet

MODELS = {
    "full": {},
    "no_position": {"use_position": False},
    "no_context": {"use_context": False},
    "no_popularity": {"use_popularity": False},
}
"""Fitted variants: name -> :class:`LogClickConfig` overrides."""
ORACLES = {"given_users": "user", "given_items": "item"}
"""Synthetic only: the full model with this side's representation planted from the truth."""
SMOKE_SYNTHETIC = {"n_users": 100, "n_items": 200, "n_requests": 2_000}
TARGET_AUC_GAP = 0.01
"""Issue target: on synthetic, |AUC(fitted) - AUC(ground truth)| on the same rows."""
SUMMARY_COLUMNS = [
    *("dataset", "model", "n_rows", "clicks"),
    *("auc", "log_loss", "ece", "true_mae", "best_epoch", "fit_s"),
]
METRICS = ["auc", "log_loss", "ece", "true_mae", "n_rows", "click_rate", "best_epoch", "fit_s"]


@dataclass
class Config(Settings):
    name = "simulator"

    datasets: tuple[str, ...] = DATASETS
    """datasets to fit"""
    models: tuple[str, ...] = tuple(MODELS)
    """fitted variants to compare (keys of MODELS)"""
    oracles: tuple[str, ...] = tuple(ORACLES)
    """synthetic only: full-model fits with one side planted from the ground truth"""
    seed: int = 0
    """split seed and training seed"""
    synthetic_requests: int | None = None
    """lists in the synthetic log (None: the embedded default, 50,000)"""
    threads: int = 1
    """torch CPU threads (these small batches gain little from more)"""
    model: LogClickConfig = field(default_factory=LogClickConfig)
    """the full model's config (variants override the switches)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming an unknown variant or oracle, or threads below 1."""
        super().__post_init__()
        check_range(self, ("threads",), low=1)
        for name in self.models:
            check_choice("Config.models", name, MODELS)
        for name in self.oracles:
            check_choice("Config.oracles", name, ORACLES)


SMOKE = {"model": LogClickConfig(epochs=2)}
"""the tiny synthetic world (``SMOKE_SYNTHETIC``) fitted for 2 epochs"""


def load(name: str, config: Config):
    """The dataset ``name`` at the size the run asks for."""
    if name != "synthetic":
        return load_dataset(name)
    size = dict(SMOKE_SYNTHETIC) if config.smoke else {}
    if config.synthetic_requests is not None:
        size["n_requests"] = config.synthetic_requests
    return load_dataset("synthetic", progress=False, **size)


def plant_truth(world: SyntheticWorld, side: str) -> Callable[[ClickNet], None]:
    """A ``fit_log_model(prepare=...)`` hook that sets one side's representation to the
    ground truth's and freezes it, the true affinity ``a <taste_u, factor_i>`` split evenly
    (``a = affinity_scale``): ``"user"``: ``[sqrt(a) taste_u, 0]``; ``"item"``:
    ``[sqrt(a) factor_i, item_bias_i]`` (see :mod:`rec_env.data.synthetic`)."""
    scale = np.sqrt(world.config.affinity_scale)
    if side == "user":
        factor = scale * world.user_tastes
        bias = np.zeros(len(factor))
    else:
        factor, bias = scale * world.item_factors, world.item_bias
    truth = torch.from_numpy(np.column_stack([factor, bias]).astype(np.float32))

    def prepare(net: ClickNet) -> None:
        embedding, feature_map = getattr(net, f"{side}_embedding"), getattr(net, f"{side}_map")
        with torch.no_grad():
            embedding.weight.copy_(truth)
            feature_map.weight.zero_()
        embedding.weight.requires_grad_(False)
        feature_map.weight.requires_grad_(False)

    return prepare


def fit_and_score(
    label: str, model_config: LogClickConfig, scenario: Scenario, prepare=None
) -> tuple[dict, FitReport]:
    """Fit one variant on the scenario's train lists and score it on its test lists: its row."""
    splits = scenario.splits
    start = time.perf_counter()
    model = fit_log_model(splits.train, splits.valid, model_config, prepare=prepare)
    fit_s = time.perf_counter() - start
    report = fit_report(model, scenario)
    print(
        f"{scenario.name} {label}: auc {report.auc:.4f}, log-loss {report.log_loss:.4f}, "
        f"ece {report.ece:.4f} ({fit_s:.0f} s)"
    )
    fit_info = {"best_epoch": model.info["best_epoch"], "fit_s": fit_s}
    return {"model": label, **report.metrics(), **fit_info}, report


def run_dataset(name: str, config: Config) -> list[dict]:
    """Fit every variant on one dataset; one result row per model (+ the ground truth and,
    on synthetic, the oracle fits)."""
    dataset = load(name, config)
    scenario = Scenario.from_dataset(dataset, split="request", split_seed=config.seed)
    constant = fit_report(ConstantModel.fit(scenario.splits.train), scenario)
    rows = [{"model": "constant", **constant.metrics()}]
    curves = {}
    fit = partial(fit_and_score, scenario=scenario)
    for model_name in config.models:
        model_config = replace(config.model, seed=config.seed, **MODELS[model_name])
        row, report = fit(model_name, model_config)
        rows.append(row)
        curves[model_name] = report.curve
    world = dataset.extras.get("world")
    if world is not None:
        full = replace(config.model, seed=config.seed)
        for oracle in config.oracles:
            rows.append(fit(oracle, full, prepare=plant_truth(world, ORACLES[oracle]))[0])
        truth = {"auc": report.true_auc, "log_loss": report.true_log_loss, "ece": report.true_ece}
        same_rows = {"n_rows": report.n_rows, "click_rate": report.click_rate}
        rows.append({"model": "ground_truth", **truth, **same_rows})
        curves["ground truth"] = report.true_curve
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
        oracles = [name for name in ORACLES if name in synthetic.index]
        gaps = ", ".join(
            f"{name} {synthetic.loc['ground_truth', 'auc'] - synthetic.loc[name, 'auc']:.4f}"
            for name in oracles
        )
        if oracles:
            text += (
                f"AUC gap to ground truth with one side planted from the truth: {gaps} "
                "(given_users: what estimating the items costs; given_items: what "
                "estimating the users costs).\n"
            )
    return text


def _as_int(value):
    return value if value == "-" else round(value)


def main(config: Config) -> pd.DataFrame:
    torch.set_num_threads(config.threads)
    rows = [row for name in config.datasets for row in run_dataset(name, config)]
    table = pd.DataFrame(rows).reindex(columns=["dataset", "model", "seed", *METRICS])
    summary = summarise(table, config)
    out = publish(config, table, summary)
    print(f"written to {out}/")
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
