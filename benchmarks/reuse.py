"""Finished training runs that a benchmark takes instead of training a cell again.

A run is identified by its whole :class:`~agents.training.config.TrainConfig` but the runs
folder (:func:`run_key`); it has finished when its folder holds ``metrics.json``, which
:func:`agents.training.runner.run` writes last and atomically. The code version is not part of
the key: remove the runs folder to retrain after a code change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from agents.training.config import CONFIG_NAME, TrainConfig, load_config
from agents.training.runner import METRICS_NAME


def run_key(train: TrainConfig) -> str:
    """What makes two runs the same run: every field of the config but the runs folder."""
    return json.dumps(asdict(replace(train, out="")), sort_keys=True)


def finished_runs(runs_dir: str | Path) -> dict[str, Path]:
    """``{run_key: folder}`` of the runs in ``runs_dir`` that finished: a stopped benchmark
    resumes from the cells it had trained. The last to finish wins a tie."""
    finished = {}
    by_time = sorted(Path(runs_dir).glob(f"*/{METRICS_NAME}"), key=lambda p: p.stat().st_mtime)
    for metrics in by_time:
        if (metrics.parent / CONFIG_NAME).is_file():
            finished[run_key(load_config(metrics.parent))] = metrics.parent
    return finished


def announce(reused: int, cells: int) -> None:
    """Print how many of a benchmark's ``cells`` runs it takes from earlier runs."""
    print(f"{reused} of {cells} runs finished before, {cells - reused} to train")
