"""The same tuning budget for every distiller: 3 values of its main setting, one training seed,
the value of best validation AUC of the student kept.

The settings tuned are the ones each method's authors expose: the softmax temperature of the
KL methods (both sides for DRL-Rec and KD; the teacher's for policy distillation) and the loss
weight of the others. Every run is a main-table cell (``benchmarks.main_table``'s settings)
with the method's options replaced; the summary ends with the ``--method-options`` value to
give ``benchmarks.main_table``.

    python -m benchmarks.distill_tuning                 # synthetic-gap, seed 0
    python -m benchmarks.distill_tuning --smoke
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import partial

import pandas as pd

from agents.train import run
from benchmarks import main_table
from benchmarks.harness.cli import RunSettings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import parallel_map, publish

GRIDS: dict[str, list[dict[str, float]]] = {
    "drl-rec": [{"teacher_temperature": t, "student_temperature": t} for t in (1.0, 0.1, 0.03)],
    "kd": [{"teacher_temperature": t, "student_temperature": t} for t in (2.0, 0.1, 0.03)],
    "hint": [{"hint_weight": w} for w in (0.3, 1.0, 3.0)],
    "policy-distill": [{"teacher_temperature": t} for t in (0.01, 0.1, 1.0)],
    "ranking-distill": [{"ranking_weight": w} for w in (0.3, 0.1, 1.0)],
    "q-regression": [{"q_regression_weight": w} for w in (0.3, 1.0, 3.0)],
}
"""Per method, the 3 settings tried (the first is its default)."""


@dataclass
class Config(RunSettings):
    name = "distill_tuning"

    dataset: str = "synthetic-gap"
    """dataset to tune on"""
    methods: tuple[str, ...] = tuple(GRIDS)
    """distillers to tune"""
    seed: int = 0
    """the one training seed of the tuning runs"""


SMOKE = {
    "dataset": "synthetic-tiny",
    "methods": ("drl-rec", "hint"),
    "jobs": 1,
}


def table_config(config: Config) -> main_table.Config:
    """The main table's training settings (its smoke settings for a smoke run)."""
    smoke = main_table.SMOKE if config.smoke else {}
    return replace(main_table.Config(**smoke), runs_dir=config.runs_dir, datasets=(config.dataset,))


def one_row(config: Config, method: str, setting: dict[str, float]) -> dict:
    cells = replace(table_config(config), method_options={method: setting})
    result = run(main_table.train_config(cells, config.dataset, method, config.seed))
    return {
        "dataset": config.dataset,
        "method": method,
        "seed": config.seed,
        "setting": json.dumps(setting, sort_keys=True),
        "valid_auc": result.metrics["valid"]["auc"],
        "test_auc": result.metrics["test"]["auc"],
        "expected_clicks_per_list": result.metrics["online"]["expected_clicks_per_list"],
        "run_dir": str(result.dir),
    }


def chosen(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per method, the setting of best validation AUC (ties: the earlier, i.e. the default)."""
    best = table.loc[table.groupby("method", sort=False)["valid_auc"].idxmax()]
    return {row.method: json.loads(row.setting) for row in best.itertuples()}


def main(config: Config) -> pd.DataFrame:
    cells = [(m, setting) for m in config.methods for setting in GRIDS[m]]
    table = pd.DataFrame(parallel_map(partial(one_row, config), cells, config.jobs))
    picks = chosen(table)
    summary = (
        "# Tuning of the distillers\n\n"
        + __doc__.split("\n\n")[0].replace("\n", " ")
        + f" Dataset {config.dataset}, training seed {config.seed}, main-table settings.\n\n"
        + markdown_table(table.drop(columns="run_dir"), floatfmt=".4f")
        + "\nChosen (best validation AUC):\n\n"
        + f"    python -m benchmarks.main_table --method-options '{json.dumps(picks)}'\n"
    )
    publish(config, table, summary)
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
