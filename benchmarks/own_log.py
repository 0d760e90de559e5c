"""Bring your own log: load a log as a production system hands it over and fit its simulator.

The log is the synthetic world's (default 2,500 users, 500 items, 20,000 lists of 10),
rewritten with what real logs carry: user ids drawn among 11,000,000, item ids among
1,000,000, request ids as strings, timestamps as ISO date-times (strings in the CSV),
categorical features as strings (``u_segment``, ``i_genre``) and a numeric feature with
missing values (``i_price``, NaN for 5% of the items). Each file is loaded and its click
simulator fitted (as ``gym.make("ListwiseFeed-v0", dataset=path)`` does, with an empty model
cache) in a fresh process: wall time of each step, peak memory of the process, and the fit
report (test AUC, log loss, calibration next to the constant, position and position x item
baselines).

    python -m benchmarks.own_log
    python -m benchmarks.own_log --smoke
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import peak_rss_mib, publish, run_worker


@dataclass
class Config(Settings):
    name = "own_log"

    users: int = 2500
    """users of the synthetic world behind the log"""
    items: int = 500
    """items of the world"""
    requests: int = 20_000
    """lists of 10 in the log"""
    user_id_space: int = 11_000_000
    """user ids are distinct draws from 0..user_id_space-1"""
    item_id_space: int = 1_000_000
    """item ids are distinct draws from 0..item_id_space-1"""
    formats: tuple[str, ...] = ("csv", "parquet")
    """file formats the log is written in, each loaded and fitted on its own"""
    seed: int = 0
    """seed of the world and of the ids"""


SMOKE = {"users": 60, "items": 40, "requests": 300}


def own_log(config: Config) -> pd.DataFrame:
    """The synthetic world's log with sparse and string ids, date-times, string categories
    and missing prices (one row per shown slot)."""
    from rec_env.data import load_dataset

    world = load_dataset(
        "synthetic",
        n_users=config.users,
        n_items=config.items,
        n_requests=config.requests,
        seed=config.seed,
        progress=False,
    )
    frame = world.to_frame()
    rng = np.random.default_rng(config.seed)
    users = rng.choice(config.user_id_space, config.users, replace=False)
    items = rng.choice(config.item_id_space, config.items, replace=False)
    price = np.round(rng.lognormal(2.0, 0.5, config.items), 2)
    price[rng.random(config.items) < 0.05] = np.nan
    user_groups = [c for c in frame if c.startswith("u_group_")]
    item_groups = [c for c in frame if c.startswith("i_group_")]
    item = frame["item_id"].to_numpy()
    return pd.DataFrame(
        {
            "user_id": users[frame["user_id"].to_numpy()],
            "request_id": "req-" + frame["request_id"].astype(str),
            "position": frame["position"],
            "item_id": items[item],
            "click": frame["click"],
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(frame["timestamp"], "min"),
            "u_segment": "segment-" + frame[user_groups].to_numpy().argmax(1).astype(str),
            "i_genre": "genre-" + frame[item_groups].to_numpy().argmax(1).astype(str),
            "i_price": price[item],
        }
    )


def measure(path: str) -> dict:
    """Load ``path`` and fit its simulator in this process (empty model cache)."""
    from rec_env.data import LogDataWarning, load_dataset
    from rec_env.scenario import Scenario
    from rec_env.simulator import fit_report

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogDataWarning)  # the missing prices, by design
        dataset = load_dataset(path)
    loaded = time.perf_counter()
    scenario = Scenario.from_dataset(dataset, progress=False)
    model = scenario.user_model
    fitted = time.perf_counter()
    report = fit_report(model, scenario)
    return {
        "format": Path(path).suffix[1:],
        "rows": len(dataset.log),
        "n_users": dataset.n_users,
        "n_items": dataset.n_items,
        "max_user_id": int(dataset.vocabularies.users.decode(dataset.n_users - 1)),
        "max_item_id": int(dataset.vocabularies.items.decode(dataset.n_items - 1)),
        "load_s": loaded - start,
        "fit_s": fitted - loaded,
        "peak_mib": peak_rss_mib(),
        "report": report.table().to_dict("records"),
    }


def main(config: Config) -> pd.DataFrame:
    log = own_log(config)
    rows, reports = [], {}
    with tempfile.TemporaryDirectory() as folder:
        for suffix in config.formats:
            path = Path(folder) / f"own_log.{suffix}"
            log.to_csv(path, index=False) if suffix == "csv" else log.to_parquet(path)
            cache = {"REC_ENV_DATA": str(Path(folder) / f"cache-{suffix}")}  # a fresh fit
            result = run_worker("benchmarks.own_log", [str(path)], {**os.environ, **cache})
            reports[suffix] = pd.DataFrame(result.pop("report"))
            rows.append(result)
    table = pd.DataFrame(rows)
    first = config.formats[0]
    summary = (
        "# Bring your own log: load and fit\n\n"
        + __doc__.split("\n\n")[1].replace("\n", " ")
        + "\n\n"
        + markdown_table(table)
        + f"\n\nFit report of the {first} log (test split of 10% of the requests; `auc_gain` ="
        " AUC minus the best baseline's):\n\n" + markdown_table(reports[first], floatfmt=".4f")
    )
    publish(config, table, summary)
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args, measure)
