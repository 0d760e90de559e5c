"""Leakage check: test AUC per slot of trained offline runs, for all users and for users unseen
in training.

Slot 0 has no in-list context, so a model whose AUC rises only from slot 1 on draws the rise
from the earlier slots of the same list (their items and clicks), which it may read; labels of
slot t or later would lift slot 0 too. Reads finished ``agents.train`` run folders, e.g. those
of ``benchmarks.offline_agents``:

    python -m benchmarks.auc_by_slot --runs runs/offline_agents/ml-100k__teacher__0__* ...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agents.metrics import auc_by_slot
from agents.train import load_agent
from agents.training.config import load_config, load_scenario
from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import publish


@dataclass
class Config(Settings):
    name = "auc_by_slot"

    runs: tuple[str, ...] = ()
    """finished offline run folders"""


def run_rows(folder: str) -> list[dict]:
    """One row per slot of a run's test split: AUC over every user and over unseen users."""
    config = load_config(folder)
    scenario = load_scenario(config)
    splits = scenario.splits
    test = splits.test
    scores = load_agent(folder, scenario=scenario).score_logged(test)
    unseen = ~np.isin(test.user_ids, splits.train.user_ids)
    everyone = auc_by_slot(test.clicks, scores, test.mask)
    new_users = auc_by_slot(test.clicks, scores, test.mask & unseen[:, None])
    return [
        {
            "dataset": config.dataset,
            "split": config.split,
            "method": config.agent,
            "seed": config.seed,
            "slot": slot,
            "auc": everyone[slot],
            "auc_unseen_users": new_users[slot],
            "unseen_user_share": float(unseen.mean()),
            "run_dir": folder,
        }
        for slot in range(test.mask.shape[1])
    ]


def main(config: Config) -> pd.DataFrame:
    if not config.runs:
        raise ValueError("no run folders given: pass --runs FOLDER [FOLDER ...]")
    table = pd.DataFrame([row for folder in config.runs for row in run_rows(folder)])
    wide = table.pivot_table(
        index=["dataset", "split", "method", "seed"], columns="slot", values="auc"
    ).reset_index()
    wide.columns = [c if isinstance(c, str) else f"slot_{c}" for c in wide.columns]
    summary = (
        "# Test AUC by slot (leakage check)\n\nSlot 0 sees no in-list context; later slots "
        "read the items and clicks of the slots before them. table.csv also has the AUC over "
        "users unseen in training.\n\n" + markdown_table(wide.round(4)) + "\n"
    )
    publish(config, table, summary)
    return table


parse_args = parser(Config, {}, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
