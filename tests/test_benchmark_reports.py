"""Each committed summary is what its script's report makes of the committed table and config:
re-formatting ``results/<name>/table.csv`` with ``config.json`` gives ``summary.md`` to the
character (the harness moved the formatting, not the format)."""

import importlib
import json
from dataclasses import fields, replace
from pathlib import Path

import pandas as pd
import pytest

from agents.learners.ddqn import DDQNConfig
from agents.training.flags import from_dict

RESULTS = Path(__file__).resolve().parents[1] / "results"
SCRIPTS = (
    "main_table", "offline_agents", "online_agents", "ablations", "k_sweep", "compression",
    "distill_cost", "efficiency",
)  # fmt: skip


def committed_config(script, folder: Path):
    """The script's config as ``config.json`` saved it (keys of older versions dropped)."""
    saved = json.loads((folder / "config.json").read_text())
    names = {f.name for f in fields(script.Config)}
    learners = saved.pop("learner_by_dataset", None)
    config = from_dict(script.Config, {k: v for k, v in saved.items() if k in names})
    if learners is None:
        return config
    by_dataset = {name: from_dict(DDQNConfig, learner) for name, learner in learners.items()}
    return replace(config, learner_by_dataset=by_dataset)


@pytest.mark.parametrize("name", SCRIPTS)
def test_committed_summary_is_the_report_of_the_committed_table(name):
    script = importlib.import_module(f"benchmarks.{name}")
    folder = RESULTS / name
    table = pd.read_csv(folder / "table.csv")
    text = script.summary_text(committed_config(script, folder), table)
    assert text == (folder / "summary.md").read_text()
