"""Scale: synthetic worlds of 10k to 1M items with 10M logged slots, fitted, stepped and explored.

Per catalogue size, each stage in a fresh process (its peak resident memory is its own):

1. ``generate``: the world's log, a chunk of requests at a time
   (:func:`~rec_env.data.synthetic.synthetic_log_chunks`), written to parquet in row groups of
   whole lists (:func:`~rec_env.data.write_lists_parquet`): the log is never whole in memory.
2. ``fit``: :func:`~rec_env.simulator.fit_log_model_streaming` on that file, at most
   ``chunk_rows`` rows at a time, ``fit_epochs`` epochs (no early stopping): seconds per epoch
   (training + validation pass) and training slots per second of epoch.
3. ``env``: the native vector env (``num_envs`` sub-envs, C = ``num_candidates`` popular
   candidates) stepping the fitted click model on ``env_requests`` requests of the same
   world, random valid actions: seconds per vector step and slots (items placed) per second.
4. ``explore``: DRL-Rec's :class:`~distill.explore.Explorer` (teacher and student presets on
   the world's item features) scoring a pool of M = ``pool_size`` items, drawn by the log's
   impressions, at every slot of B = ``batch_size`` logged lists: seconds per batch (median).

    python -m benchmarks.scale            # 10k, 100k and 1M items, 10M slots each
    python -m benchmarks.scale --smoke    # tiny sizes (checks the script, numbers meaningless)
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from agents.training.flags import from_dict
from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.results import peak_rss_mib, publish, run_worker
from rec_env.checks import InputError, check_range, check_types

STAGES = ("generate", "fit", "env", "explore")
UNITS = {"generate": "log", "fit": "epoch", "env": "vector step", "explore": "batch"}
"""what each stage's ``seconds_per_unit`` times"""
SLATE_SIZE = 10


@dataclass
class Config(Settings):
    name = "scale"

    data_dir: str = "runs/scale"
    """where the parquet logs, impressions and fitted models go (large, not results)"""
    n_items: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    """catalogue sizes, one world each"""
    n_users: int = 100_000
    """users of every world (fixed, so only the catalogue grows)"""
    slots: int = 10_000_000
    """logged slots (rows) of every world's log, lists of 10"""
    group_rows: int = 100_000
    """most rows per parquet row group"""
    chunk_rows: int = 1_000_000
    """most log rows the streaming fit holds at once"""
    fit_epochs: int = 2
    """epochs of the streaming fit (all run: patience = epochs)"""
    valid_fraction: float = 0.1
    """share of the row groups held out for the fit's validation"""
    num_envs: int = 256
    """N, sub-envs of the vector env"""
    num_candidates: int = 1000
    """C, candidates per request in the env"""
    env_requests: int = 100_000
    """logged requests of the env's scenario (the requests its episodes replay)"""
    env_seconds: float = 20.0
    """timed seconds of env stepping"""
    batch_size: int = 256
    """B, lists per explored batch"""
    pool_size: int = 1000
    """M, pool items drawn per list"""
    explore_batches: int = 10
    """timed explored batches (median reported), after one warm-up"""
    memory_limit_mib: int = 2048
    """every stage's peak resident memory must stay below this"""
    seed: int = 0
    """seed of the worlds, the fit, the env and the explorer"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type or value."""
        super().__post_init__()
        check_types(self)
        positive = ("n_users", "slots", "group_rows", "chunk_rows", "fit_epochs", "num_envs")
        positive += ("num_candidates", "env_requests", "batch_size", "pool_size")
        check_range(self, (*positive, "explore_batches", "memory_limit_mib"), low=1)
        check_range(self, ("valid_fraction",), low=0.0, high=1.0, low_open=True)
        check_range(self, ("env_seconds",), low=0.0, low_open=True)
        if not self.n_items or min(self.n_items) < max(self.num_candidates, 2 * SLATE_SIZE):
            raise InputError(
                f"Config.n_items must each be >= num_candidates ({self.num_candidates}) and "
                f">= {2 * SLATE_SIZE}, got {self.n_items}"
            )
        if self.group_rows < self.batch_size * SLATE_SIZE:
            raise InputError(
                f"Config.group_rows ({self.group_rows}) must hold batch_size ({self.batch_size}) "
                "lists: the explorer takes its lists from the first row group"
            )


SMOKE = {
    "data_dir": "runs/scale_smoke",
    "n_items": (300, 3_000),
    "n_users": 200,
    "slots": 20_000,
    "group_rows": 1_000,
    "chunk_rows": 4_000,
    "fit_epochs": 1,
    "num_envs": 8,
    "num_candidates": 100,
    "env_requests": 500,
    "env_seconds": 0.2,
    "batch_size": 8,
    "pool_size": 50,
    "explore_batches": 2,
}


def world_config(config: Config, n_items: int, n_requests: int | None = None):
    """The :class:`~rec_env.data.SyntheticConfig` of the world with ``n_items`` items."""
    from rec_env.data import SyntheticConfig

    requests = n_requests or config.slots // SLATE_SIZE
    return SyntheticConfig(
        n_users=config.n_users, n_items=n_items, n_requests=requests, seed=config.seed
    )


def files(config: Config, n_items: int) -> dict[str, Path]:
    folder = Path(config.data_dir)
    names = {"log": "log.parquet", "impressions": "impressions.npy", "model": "model.pt"}
    return {key: folder / f"{n_items}_{name}" for key, name in names.items()}


def generate(config: Config, n_items: int) -> dict:
    """Write the world's log a chunk at a time, and each item's impressions in it."""
    from rec_env.data import write_lists_parquet
    from rec_env.data.synthetic import calibrated_world, synthetic_log_chunks

    paths, imports = files(config, n_items), peak_rss_mib()
    start = time.perf_counter()
    world = calibrated_world(world_config(config, n_items))
    impressions = np.zeros(n_items, dtype=np.int64)

    def counted(frames):
        for frame in frames:
            impressions[:] += np.bincount(frame["item_id"].to_numpy(), minlength=n_items)
            yield frame

    frames = counted(synthetic_log_chunks(world, progress=False))
    write_lists_parquet(frames, paths["log"], config.group_rows)
    np.save(paths["impressions"], impressions)
    seconds = time.perf_counter() - start
    return _row("generate", seconds, config.slots / seconds, imports, log_mib=_mib(paths["log"]))


def open_log(config: Config, n_items: int):
    """The written log of the world with ``n_items`` items as :class:`~rec_env.data.ParquetLists`."""
    from rec_env.data import ParquetLists
    from rec_env.data.dataset import dense_features
    from rec_env.data.synthetic import make_world

    items, users = make_world(world_config(config, n_items)).features()
    tables = dense_features(items, n_items), dense_features(users, config.n_users)
    return ParquetLists(files(config, n_items)["log"], *tables, SLATE_SIZE, config.chunk_rows)


def fit(config: Config, n_items: int) -> dict:
    """The streaming fit on the written log; the model is saved for the env stage."""
    from rec_env.simulator import LogClickConfig, fit_log_model_streaming

    imports = peak_rss_mib()
    lists = open_log(config, n_items)
    epochs = config.fit_epochs
    model_config = LogClickConfig(epochs=epochs, patience=epochs, seed=config.seed, sparse_ids=True)
    model = fit_log_model_streaming(lists, model_config, config.valid_fraction, progress=False)
    model.save(files(config, n_items)["model"])
    valid_rows = int(lists.group_rows[model.info["valid_groups"]].sum())
    epoch_s = float(np.mean(model.info["epoch_seconds"]))
    return _row(
        "fit",
        epoch_s,
        (lists.n_rows - valid_rows) / epoch_s,
        imports,
        valid_log_loss=model.info["best_valid_log_loss"],
    )


def env(config: Config, n_items: int) -> dict:
    """Vector-env stepping with the fitted model, random valid actions."""
    from benchmarks.env_throughput import rate, vector_env
    from rec_env import Scenario
    from rec_env.data import generate_synthetic
    from rec_env.simulator import LogClickModel

    torch.set_num_threads(1)  # two threads on a busy 2-core machine run many times slower
    imports = peak_rss_mib()
    world = world_config(config, n_items, config.env_requests)
    scenario = Scenario.from_dataset(generate_synthetic(world, progress=False))
    model = LogClickModel.load(files(config, n_items)["model"])
    n, c = config.num_envs, config.num_candidates
    run_once = vector_env(n, c, config.seed, model, scenario=scenario)
    run_once()  # warm-up
    slots_per_s = rate(run_once, config.env_seconds)
    step_s = SLATE_SIZE * n / slots_per_s / (SLATE_SIZE + 1)  # K placing steps + 1 autoreset
    return _row("env", step_s, slots_per_s, imports)


def explore(config: Config, n_items: int) -> dict:
    """DRL-Rec's explorer on the first B logged lists, pool drawn by log impressions."""
    from agents.data.batch import ListBatch
    from benchmarks.distill_cost import explore_inputs

    torch.set_num_threads(1)
    imports = peak_rss_mib()
    lists = next(open_log(config, n_items).chunks([0]))
    batch = ListBatch.from_lists(lists.subset(np.arange(config.batch_size)))
    impressions = np.load(files(config, n_items)["impressions"])
    inputs = explore_inputs(
        lists.item_features, lists.user_features, batch, impressions, config.pool_size, config.seed
    )
    seconds = []
    for _ in range(config.explore_batches + 1):  # a new pool each call; the first warms up
        start = time.perf_counter()
        inputs.explore()
        seconds.append(time.perf_counter() - start)
    batch_s = float(np.median(seconds[1:]))
    return _row("explore", batch_s, int(batch.mask.sum()) / batch_s, imports)


def _row(stage: str, seconds: float, slots_per_s: float, imports: float, **extra) -> dict:
    return {
        "stage": stage,
        "unit": UNITS[stage],
        "seconds_per_unit": seconds,
        "slots_per_s": slots_per_s,
        "peak_rss_mib": peak_rss_mib(),
        "imports_rss_mib": imports,
        **extra,
    }


def _mib(path: Path) -> float:
    return path.stat().st_size / 2**20


WORKERS = {"generate": generate, "fit": fit, "env": env, "explore": explore}


def measure(config: Config) -> pd.DataFrame:
    """Every stage of every size, each in a fresh ``--worker`` process, in order."""
    Path(config.data_dir).mkdir(parents=True, exist_ok=True)
    payload = json.dumps(asdict(config))
    rows = []
    for n_items in config.n_items:
        for stage in STAGES:
            row = run_worker("benchmarks.scale", [stage, str(n_items), payload])
            rows.append({"n_items": n_items, "n_users": config.n_users, **row})
            print(json.dumps(rows[-1]), flush=True)
    return pd.DataFrame(rows)


def main(config: Config) -> pd.DataFrame:
    from benchmarks.harness.scale_report import plot, summarise

    load_before = os.getloadavg()[0]
    table = measure(config)
    summary = summarise(table, config, (load_before, os.getloadavg()[0]))
    out = publish(config, table, summary)
    plot(table, config, out / "growth.png")
    return table


def worker(stage: str, n_items: str, payload: str) -> dict:
    """One stage of one size in this process (``--worker``): its table row."""
    return WORKERS[stage](from_dict(Config, json.loads(payload)), int(n_items))


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args, worker)
