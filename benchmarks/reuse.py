"""Finished training runs that a benchmark takes instead of training a cell again.

A run is identified by its whole :class:`~agents.training.config.TrainConfig` but the runs
folder (:func:`run_key`); it has finished when its folder holds ``metrics.json``, which
:func:`agents.training.runner.run` writes last and atomically. The code version is not part of
the key: remove the runs folder to retrain after a code change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from agents.training.config import CONFIG_NAME, TrainConfig, load_config
from agents.training.runner import METRICS_NAME
from benchmarks.common import parallel_map


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


def reused_rows(
    keys: list[str], runs_dir: str | Path, row_of_run: Callable[[Path], dict]
) -> dict[str, dict]:
    """``{key: row_of_run(folder)}`` for the ``keys`` that a run in ``runs_dir`` finished."""
    finished = finished_runs(runs_dir)
    return {key: row_of_run(finished[key]) for key in set(keys) & set(finished)}


def train_missing(
    cells: list[tuple], keys: list[str], reused: dict[str, dict], train: Callable, jobs: int
) -> list[dict]:
    """The row of each cell: ``reused[key]`` where an earlier run has its key, else
    ``train(*cell)``, ``jobs`` at a time; prints how many were reused.

    :param keys: the :func:`run_key` of each cell, in the order of ``cells``.
    """
    to_train = [cell for cell, key in zip(cells, keys, strict=True) if key not in reused]
    print(
        f"{len(cells) - len(to_train)} of {len(cells)} runs finished before, {len(to_train)} to train"
    )
    trained = iter(parallel_map(train, to_train, jobs))
    return [reused[key] if key in reused else next(trained) for key in keys]
