"""Environment throughput: slots/s of ListwiseFeed-v0 (single and native vector) next to SARDINE.

A *slot* is one item placed in a list: one step of ``ListwiseFeed-v0`` (per sub-env), a tenth
of a step of SARDINE's ``SlateTopK-Bored-v0`` (one step shows a whole slate of 10). Actions
are random and valid, drawn before the clock starts; resets (and the vector env's autoreset
steps) are inside the timed loop. Each row is the median of ``repeats`` timed runs.

The ``[constant user model]`` rows swap the user model for one returning a constant: the
difference to the plain rows is what the user model costs, the rest is the environment.

    python -m benchmarks.env_throughput            # full run, writes results/env_throughput/
    python -m benchmarks.env_throughput --smoke    # seconds, writes results/env_throughput_smoke/
"""

from __future__ import annotations

import itertools
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

import gymnasium as gym
import numpy as np
import pandas as pd

import rec_env  # noqa: F401  (registers ListwiseFeed-v0)
from benchmarks.harness.cli import Settings, parser, run_script
from benchmarks.harness.report import markdown_table
from benchmarks.harness.results import publish
from rec_env.checks import InputError, check_range

ENV_ID = "ListwiseFeed-v0"
SARDINE_ID = "sardine/SlateTopK-Bored-v0"
ACTION_POOL = 8
"""episodes of pre-drawn random actions, cycled through"""


@dataclass
class Config(Settings):
    name = "env_throughput"

    seed: int = 0
    """seed of the environments and of the random actions"""
    num_envs: tuple[int, ...] = (64, 1024, 8192)
    """sub-envs of the native vector env, one row each"""
    seconds: float = 3.0
    """minimum timed wall-clock seconds per run"""
    repeats: int = 3
    """timed runs per row; the table reports the median"""
    num_candidates: int = 100
    """C, candidates per request"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong value."""
        super().__post_init__()
        check_range(self, ("repeats", "num_candidates"), low=1)
        check_range(self, ("seconds",), low=0.0, low_open=True)
        if not self.num_envs or min(self.num_envs) < 1:
            raise InputError(f"Config.num_envs must be counts >= 1, got {self.num_envs}")


SMOKE = {"num_envs": (8, 64), "seconds": 0.2, "repeats": 1}
"""tiny and fast (CI): 0.2 s per run, one repeat"""


class ConstantUserModel:
    """Clicks with probability 0.1 whatever happens: isolates the environment's own cost."""

    slate_size = 10

    def click_proba(self, users, slate_items, slate_clicks, candidates, position) -> np.ndarray:
        return np.full(candidates.shape, 0.1, dtype=np.float32)


def random_lists(rng: np.random.Generator, shape: tuple[int, ...], n: int, k: int) -> np.ndarray:
    """``shape + (k,)`` distinct random candidate indices in ``[0, n)`` per list."""
    return np.argsort(rng.random((*shape, n)), axis=-1)[..., :k]


def rate(run_once: Callable[[], int], seconds: float) -> float:
    """Slots/s of calling ``run_once() -> slots`` for at least ``seconds``."""
    slots, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        slots += run_once()
    return slots / (time.perf_counter() - start)


def single_env(cfg: Config, user_model=None) -> Callable[[], int]:
    """One episode of one ``gym.make`` env (reset, then K steps) per call."""
    env = gym.make(
        ENV_ID, dataset="synthetic", num_candidates=cfg.num_candidates, user_model=user_model
    )
    k = env.unwrapped.config.slate_size
    env.reset(seed=cfg.seed)
    pool = random_lists(np.random.default_rng(cfg.seed), (ACTION_POOL,), cfg.num_candidates, k)
    actions = pool.tolist()
    episode = itertools.count()

    def run_once() -> int:
        env.reset()
        for action in actions[next(episode) % ACTION_POOL]:
            env.step(action)
        return k

    return run_once


def vector_env(
    num_envs: int, num_candidates: int, seed: int, user_model=None, **env_kwargs
) -> Callable[[], int]:
    """One episode of the native vector env (K steps, then the autoreset step) per call.

    :param env_kwargs: more ``ListwiseFeed-v0`` arguments (e.g. ``scenario=``; without one,
        the ``synthetic`` world the committed results measured).
    """
    if "scenario" not in env_kwargs:
        env_kwargs = {"dataset": "synthetic", **env_kwargs}
    envs = gym.make_vec(
        ENV_ID,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        num_candidates=num_candidates,
        user_model=user_model,
        **env_kwargs,
    )
    k = envs.unwrapped.config.slate_size
    envs.reset(seed=seed)
    rng = np.random.default_rng(seed)
    pool = random_lists(rng, (ACTION_POOL, num_envs), num_candidates, k)
    pool = np.ascontiguousarray(pool.transpose(0, 2, 1))  # [episode, slot, env]
    episode = itertools.count()

    def run_once() -> int:
        actions = pool[next(episode) % ACTION_POOL]
        for slot in range(k):
            envs.step(actions[slot])
        envs.step(actions[0])  # the autoreset step: resets every sub-env, places nothing
        return k * num_envs

    return run_once


def sardine_env(cfg: Config) -> tuple[Callable[[], int] | None, str]:
    """One step of SARDINE's SlateTopK-Bored-v0 (a random slate) per call, or None and why not."""
    try:
        import sardine  # noqa: F401  (registers the sardine/ envs)

        env = gym.make(SARDINE_ID)
        env.reset(seed=cfg.seed)
        slate_size, n_items = len(env.action_space.nvec), int(env.action_space.nvec[0])
        slates = np.random.default_rng(cfg.seed).integers(0, n_items, (1000, slate_size))
        env.step(slates[0])
    except Exception as error:  # not installed, or broken here: say so in the table
        return None, f"not measured ({type(error).__name__}: {error})"
    steps = itertools.count()

    def run_once() -> int:
        _, _, terminated, truncated, _ = env.step(slates[next(steps) % len(slates)])
        if terminated or truncated:
            env.reset()
        return slate_size

    return run_once, f"sardine-rec {version('sardine-rec')}"


def measure(cfg: Config) -> tuple[pd.DataFrame, str]:
    """The table and a note on SARDINE. Rows are timed in turn, ``repeats`` rounds, so that
    load from other processes hits every row alike; each row reports its median."""
    constant, label = ConstantUserModel(), f"{ENV_ID} [constant user model]"
    runs = [(ENV_ID, 1, single_env(cfg))]
    runs += [(ENV_ID, n, vector_env(n, cfg.num_candidates, cfg.seed)) for n in cfg.num_envs]
    runs += [(label, 1, single_env(cfg, constant))]
    runs += [
        (label, n, vector_env(n, cfg.num_candidates, cfg.seed, constant)) for n in cfg.num_envs
    ]
    sardine_run, note = sardine_env(cfg)
    if sardine_run is not None:
        runs.append((SARDINE_ID, 1, sardine_run))
    for _, _, run_once in runs:
        run_once()  # warm-up
    rates = [[rate(run_once, cfg.seconds) for _, _, run_once in runs] for _ in range(cfg.repeats)]
    medians = np.median(np.array(rates), axis=0)
    rows = [(env, n, float(r)) for (env, n, _), r in zip(runs, medians, strict=True)]
    if sardine_run is None:
        rows.append((SARDINE_ID, 1, float("nan")))
    table = pd.DataFrame(rows, columns=["env", "num_envs", "slots_per_s"])
    table["us_per_slot"] = 1e6 / table["slots_per_s"]
    table["ratio_vs_sardine"] = table["slots_per_s"] / rows[-1][2]
    return table, note


def summary(table: pd.DataFrame, note: str, cfg: Config, load: tuple[float, float]) -> str:
    """Markdown: the table, the two targets, the machine and its load (1-min average)."""

    def ratio(env: str, n: int) -> float:
        match = table[(table["env"] == env) & (table["num_envs"] == n)]["ratio_vs_sardine"]
        return float(match.iloc[0]) if len(match) else float("nan")

    targets = [("single env >= SARDINE", ratio(ENV_ID, 1), 1.0)]
    if 1024 in cfg.num_envs:
        targets.append(("vector env, N=1024 >= 100x SARDINE", ratio(ENV_ID, 1024), 100.0))
    lines = [
        "# Environment throughput",
        "",
        "Slots (items placed) per second; SARDINE fills 10 slots per step.",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}, gymnasium {gym.__version__}.",
        f"Load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}.",
        f"SARDINE: {note}.",
        "",
        markdown_table(table, ".4g"),
        "| target | ratio vs SARDINE | met |",
        "|---|---|---|",
    ]
    for name, value, goal in targets:
        met = "n/a (no SARDINE)" if np.isnan(value) else ("yes" if value >= goal else "no")
        lines.append(f"| {name} | {value:.3g} | {met} |")
    lines += ["", "Where the time goes (us per slot; user model = plain - constant-model row):", ""]
    return "\n".join(lines) + "\n" + markdown_table(time_split(table), ".4g")


def time_split(table: pd.DataFrame) -> pd.DataFrame:
    """Per num_envs: us/slot in all, in the user model, and in the environment itself."""
    us = table.set_index(["env", "num_envs"])["us_per_slot"]
    plain, constant = us[ENV_ID], us[f"{ENV_ID} [constant user model]"]
    split = pd.DataFrame({"us_per_slot": plain, "user_model_us": plain - constant})
    split["env_us"] = constant
    split["user_model_share"] = split["user_model_us"] / plain
    return split.reset_index()


def main(config: Config) -> pd.DataFrame:
    load_before = os.getloadavg()[0]
    table, note = measure(config)
    publish(config, table, summary(table, note, config, (load_before, os.getloadavg()[0])))
    return table


parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

if __name__ == "__main__":
    run_script(main, parse_args)
