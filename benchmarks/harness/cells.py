"""A table of training cells: each cell's run, reused where an identical run finished, the rest
trained ``jobs`` at a time (:func:`run_table`).

A run is identified by its whole :class:`~agents.training.config.TrainConfig` but the runs
folder (:func:`run_key`); it has finished when its folder holds ``metrics.json``, which
:func:`agents.training.runner.run` writes last and atomically. The code version is not part of
the key: remove the runs folder to retrain after a code change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

from agents.train import run
from agents.training.config import CONFIG_NAME, TrainConfig, load_config
from agents.training.registry import spec_of
from agents.training.runner import METRICS_NAME
from benchmarks.harness.results import parallel_map


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


def offline_run(settings, dataset: str, agent: str, seed: int, **fields) -> TrainConfig:
    """The offline run of one cell of a table: ``settings``' steps (one checkpoint, at the
    end), runs folder and validation cadence, its learner for ``dataset``
    (``learner_by_dataset``, else ``learner``), an MF warm start on the datasets of
    ``mf_warm_start``, with ``--converged`` early stopping if the agent trains in steps (a
    fitted agent's run, MF or popularity, keeps its key and is reused); ``fields`` set the
    rest of the :class:`TrainConfig`."""
    rule = settings.early_stopping() if spec_of(agent).trained_by_loop else None
    return TrainConfig(
        agent=agent,
        dataset=dataset,
        seed=seed,
        steps=settings.steps,
        out=settings.runs_dir,
        eval_every=settings.eval_every,
        checkpoint_every=settings.steps,
        mf_warm_start=dataset in settings.mf_warm_start,
        learner=settings.learner_by_dataset.get(dataset, settings.learner),
        early_stopping=rule,
        **fields,
    )


def train_cell(train_config: Callable[..., TrainConfig], row_of_run: Callable, *cell) -> dict:
    """Train the run of one cell and return its row: ``row_of_run(run(train_config(*cell)).dir)``."""
    return row_of_run(run(train_config(*cell)).dir)


def run_table(
    settings,
    cells: list[tuple],
    train_config: Callable[..., TrainConfig],
    row_of_run: Callable[[Path], dict],
    earlier: dict[str, dict] | None = None,
    source: str = "",
) -> list[dict]:
    """The row of every cell, in order: cells -> their runs -> reuse -> train the missing ones.

    A cell's row is ``earlier[key]`` where an earlier table holds its run, else (with
    ``settings.reuse``) that of a run in ``settings.runs_dir`` that finished with its very
    config, else the row of its run trained here, ``settings.jobs`` at a time (each run is
    seeded on its own, so rows do not depend on ``jobs``); prints how many were reused.

    :param train_config: ``train_config(*cell)``, the cell's run (picklable: a module-level
        function or a ``partial`` of one).
    :param row_of_run: a finished run folder -> its row.
    :param earlier: ``{run_key: row}`` of earlier tables (rows reused first).
    :param source: a column to add saying where each row came from (``trained``, the runs
        folder, or the earlier row's own); empty: none.
    """
    keys = [run_key(train_config(*cell)) for cell in cells]
    found = dict(earlier or {})
    if settings.reuse:
        missing = [key for key in keys if key not in found]
        tag = {source: settings.runs_dir} if source else {}
        finished = reused_rows(missing, settings.runs_dir, row_of_run)
        found |= {key: row | tag for key, row in finished.items()}
    to_train = [cell for cell, key in zip(cells, keys, strict=True) if key not in found]
    print(
        f"{len(cells) - len(to_train)} of {len(cells)} runs finished before, {len(to_train)} to train"
    )
    train = partial(train_cell, train_config, row_of_run)
    trained = iter(parallel_map(train, to_train, settings.jobs))
    tag = {source: "trained"} if source else {}
    return [found[key] if key in found else next(trained) | tag for key in keys]
