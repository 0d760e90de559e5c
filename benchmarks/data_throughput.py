"""Data-layer throughput: synthetic generation rate and peak memory, public dataset load times.

Each measurement runs in a fresh subprocess so its peak memory is its own.

    python -m benchmarks.data_throughput            # 1M and 10M rows, ml-100k, obd
    python -m benchmarks.data_throughput --smoke    # tiny sizes, seconds
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pandas as pd

from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import peak_rss_mib, publish, run_worker
from rec_env.data import PUBLIC_DATASETS


@dataclass
class Config(Settings):
    name = "data_throughput"

    synthetic_rows: tuple[int, ...] = (1_000_000, 10_000_000)
    """log sizes to generate (rows = requests * 10)"""
    catalogues: tuple[int, ...] = (10_000, 1_000_000)
    """item (and user) counts of the synthetic worlds"""
    public: tuple[str, ...] = PUBLIC_DATASETS
    """public datasets whose load time (from the local cache) is measured"""
    seed: int = 0
    """synthetic world seed"""


SMOKE = {
    "synthetic_rows": (100_000,),
    "catalogues": (1_000,),
    "public": (),
}


def measure(dataset: str, rows: str, catalogue: str, seed: str) -> dict:
    """Load or generate one dataset in this process (``--worker``: the counts as text); time
    and peak memory."""
    from rec_env.data import load_dataset

    rows, catalogue, seed = int(rows), int(catalogue), int(seed)
    kwargs = {}
    if dataset == "synthetic":
        kwargs = dict(n_requests=rows // 10, n_items=catalogue, n_users=catalogue, seed=seed)
        kwargs["progress"] = False
    start = time.perf_counter()
    loaded = load_dataset(dataset, **kwargs)
    seconds = time.perf_counter() - start
    return {
        "dataset": dataset,
        "catalogue_items": loaded.n_items,
        "rows": len(loaded.log),
        "seconds": seconds,
        "rows_per_s": len(loaded.log) / seconds,
        "peak_mib": peak_rss_mib(),
    }


def main(config: Config) -> pd.DataFrame:
    jobs = [("synthetic", r, c) for c in config.catalogues for r in config.synthetic_rows]
    jobs += [(name, 0, 0) for name in config.public]
    results = []
    for dataset, rows, catalogue in jobs:
        args = [dataset, str(rows), str(catalogue), str(config.seed)]
        result = run_worker("benchmarks.data_throughput", args)
        print(json.dumps(result), flush=True)
        results.append(result)
    table = pd.DataFrame(results)
    summary = (
        "# Data throughput\n\nSynthetic generation (world, calibration, lists, clicks, validation) "
        "and public-dataset loading from the local cache, each in a fresh process; "
        "`peak_mib` is that process's peak RSS, Python and numpy included.\n\n"
        + markdown_table(table)
    )
    publish(config, table, summary)
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args, measure)
