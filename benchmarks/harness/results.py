"""The results layout of every benchmark (``table.csv``, ``summary.md``, ``config.json``,
``command.txt``), merged tables, cells run in parallel or in fresh processes, peak memory."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shlex
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import pandas as pd


def write_results(
    out_dir: str | Path, table: pd.DataFrame, summary: str, config, merged: bool = False
) -> Path:
    """Write ``table.csv``, ``summary.md``, ``config.json`` and ``command.txt`` into ``out_dir``.

    :param table: tidy results, one row per measurement, units in the column names.
    :param summary: markdown shown to humans (aggregates, notes).
    :param config: the run's dataclass config.
    :param merged: ``table`` holds rows of earlier runs: this command is appended to
        ``command.txt`` (which then lists every command behind the table) instead of
        replacing it.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "table.csv", index=False)
    (out / "summary.md").write_text(summary)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    append_command(out, keep_earlier=merged)
    return out


def publish(config, table: pd.DataFrame, summary: str) -> Path:
    """:func:`write_results` into ``config.out_dir`` (merged where ``config.merge`` is set) and
    print the summary: the tail of every benchmark's ``main``."""
    out = write_results(config.out_dir, table, summary, config, getattr(config, "merge", False))
    print(summary)
    return out


def append_command(out_dir: str | Path, keep_earlier: bool = True) -> None:
    """Add this process's command line to ``out_dir/command.txt`` (or start it afresh), with
    a shell comment saying when it finished and how long it ran on how many CPUs."""
    command = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, "-m", *_module_argv()])
    finished = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())
    took = process_seconds()
    wall = f"{took:.0f} s wall, " if took is not None else ""
    commands = Path(out_dir) / "command.txt"
    earlier = commands.read_text() if keep_earlier and commands.exists() else ""
    commands.write_text(f"{earlier}{command}  # {wall}{os.cpu_count()} CPUs, finished {finished}\n")


def process_seconds() -> float | None:
    """Wall seconds since this process started (Linux ``/proc``; None where it is missing)."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def _module_argv() -> list[str]:
    main = sys.modules["__main__"]
    module = getattr(main.__spec__, "name", None) if getattr(main, "__spec__", None) else None
    return [module or sys.argv[0], *sys.argv[1:]]


def parallel_map(function, cells: list[tuple], jobs: int) -> list:
    """``[function(*cell) for cell in cells]`` in ``jobs`` spawned processes (in order).

    Each cell must be seeded on its own, so results do not depend on ``jobs``.
    """
    if jobs == 1:
        return [function(*cell) for cell in cells]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        return list(pool.map(function, *zip(*cells, strict=True)))


def run_worker(module: str, args: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``python -m module --worker *args`` in a fresh process (so its peak memory is its
    own) and return the JSON object its last line of output holds."""
    command = [sys.executable, "-m", module, "--worker", *args]
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def learner_changes(default, by_dataset: dict) -> dict[str, dict]:
    """Per dataset, the fields of its learner config that differ from ``default``'s."""
    base = asdict(default)
    return {
        dataset: {k: v for k, v in asdict(learner).items() if v != base[k]}
        for dataset, learner in by_dataset.items()
    }


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux ``ru_maxrss`` is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def merged(settings, table: pd.DataFrame, keys: list[str], order: list[str]) -> pd.DataFrame:
    """``table``; with ``settings.merge`` also the rows of ``out_dir/table.csv`` it does not
    redo (:func:`merge_rows`)."""
    if not settings.merge:
        return table
    return merge_rows(table, Path(settings.out_dir) / "table.csv", keys, order)


def merge_rows(
    table: pd.DataFrame, previous: Path, keys: list[str], order: list[str]
) -> pd.DataFrame:
    """``table`` plus the rows of a previous ``table.csv`` that it does not redo.

    Rows are sorted by ``keys``; the ``method`` or ``variant`` column (if a key) follows
    ``order``.
    """
    if not previous.exists():
        return table
    old = pd.read_csv(previous)
    redone = old.set_index(keys).index.isin(table.set_index(keys).index)
    return sorted_rows(pd.concat([old[~redone], table], ignore_index=True), keys, order)


def sorted_rows(table: pd.DataFrame, keys: list[str], order: list[str]) -> pd.DataFrame:
    """``table`` sorted by ``keys`` (stable), its ``method`` or ``variant`` column in ``order``."""
    rank = {m: i for i, m in enumerate(order)}
    return table.sort_values(
        keys, key=lambda c: c.map(rank) if c.name in ("method", "variant") else c, kind="stable"
    )
