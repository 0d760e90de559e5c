"""`load_dataset(name)`: one entry point for the built-in datasets and users' own files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rec_env.checks import InputError
from rec_env.data.dataset import LogDataset, load_log
from rec_env.data.movielens import load_ml100k
from rec_env.data.obd import load_obd
from rec_env.data.synthetic import SyntheticConfig, generate_synthetic

SYNTHETIC_PRESETS: dict[str, SyntheticConfig] = {
    "synthetic": SyntheticConfig(),
    "synthetic-tiny": SyntheticConfig(n_users=100, n_items=150, n_requests=500),
    "synthetic-gap": SyntheticConfig(
        n_users=500, n_requests=100_000, latent_dim=16, affinity_scale=6.0
    ),
    "synthetic-feed": SyntheticConfig(
        interest_shift=-2.5, click_shift=-1.5, exit_after_skip=0.03
    ),
}
"""Named synthetic worlds:

* ``synthetic``: the embedded default (2,000 users, 25 lists each, 8 latent dimensions);
* ``synthetic-tiny``: 100 users, 150 items, 500 lists, for smoke runs and tests;
* ``synthetic-gap``: a world where a wider model has something to teach a narrower one, for
  distillation. On ``synthetic`` a logistic MF scores the same test AUC at width 2 as at 32:
  25 lists per user cannot support a wide model, and the DDQN student matches the teacher.
  Here each of 500 users has 200 lists and tastes in 16 dimensions with twice the weight, so
  width pays. As an indication (offline, 400 steps, lr 1e-3, MF tables lr 3e-4, MF warm start
  for both, seeds 0-2): test AUC teacher 0.763 vs student 0.746 (gap +0.016 +- 0.001), and
  2.75 vs 2.46 expected clicks per list online (x1.12); the teacher about ties the logistic
  MF online (x0.998) (results/main_table has the measured gap over seeds);
* ``synthetic-feed``: the default world of ``ListwiseFeed-v0``, ``synthetic`` with feed
  dynamics: a click moves the user's in-list taste away from the clicked item's factors
  (satiation, ``interest_shift=-2.5``) and lowers the appetite more (``click_shift=-1.5``),
  and after a slot without a click the user leaves with probability 0.03. Here a planned
  list beats greedy and re-planning after clicks beats the planned list; on ``synthetic`` a
  click shifts every candidate alike, so neither pays (``results/world_gaps`` measures both
  gaps for every preset). The log stays feed-shaped: 15% clicks per shown slot, falling from
  53% at slot 0 to 4% at slot 9, and 82% of the lists with a click shown in full."""
PUBLIC_DATASETS = ("ml-100k", "obd")
"""The public datasets, fetched on first use."""
FEW_CLICKS = ("obd",)
"""Public datasets whose test splits hold too few clicks for an AUC (obd: 39): scored by
expected clicks alone."""
PUBLIC_WITH_AUC = tuple(name for name in PUBLIC_DATASETS if name not in FEW_CLICKS)
"""Public datasets with clicks enough for an AUC."""
DATASETS = ("synthetic", *PUBLIC_DATASETS)
"""The datasets of the benchmarks (every name in SYNTHETIC_PRESETS loads too)."""
NAMES = (*SYNTHETIC_PRESETS, *PUBLIC_DATASETS)
"""Every name :func:`load_dataset` knows (besides paths to log files)."""


def load_dataset(name: str = "synthetic", **kwargs) -> LogDataset:
    """Load a dataset by name, or a user's log file by path.

    :param name: ``"synthetic"`` or another name in :data:`SYNTHETIC_PRESETS` (embedded,
        offline; kwargs are :class:`SyntheticConfig` fields replacing the preset's, or
        ``config=SyntheticConfig(...)``, plus ``progress``), ``"ml-100k"`` (kwargs: ``slate_size``, ``folder``),
        ``"obd"`` (kwargs: ``folder``), or a path to a ``.csv`` / ``.parquet`` log
        (kwargs: ``slate_size``, ``max_levels``; see :func:`~rec_env.data.load_log`).
    :raises LogFileError: a path with another extension (``.json``, ``.tsv``...), or a
        missing or unreadable file.
    :raises InputError: (a ``ValueError``) a name that is neither a dataset nor a path.
    """
    if name in SYNTHETIC_PRESETS:
        progress = kwargs.pop("progress", True)
        config = kwargs.pop("config", None)
        if config is not None and kwargs:
            raise InputError(f"pass either config= or SyntheticConfig fields, not both: {kwargs}")
        config = config or replace(SYNTHETIC_PRESETS[name], **kwargs)
        return replace(generate_synthetic(config, progress=progress), name=name)
    if name == "ml-100k":
        return load_ml100k(**kwargs)
    if name == "obd":
        return load_obd(**kwargs)
    if Path(name).suffix or Path(name).is_file():
        return load_log(name, **kwargs)  # LogFileError for extensions other than .csv/.parquet
    raise InputError(
        f"unknown dataset {name!r}: use one of {', '.join(NAMES)} or a path to a .csv/.parquet log"
    )


def is_synthetic(name: str) -> bool:
    """True for the names of generated worlds (:data:`SYNTHETIC_PRESETS`)."""
    return name in SYNTHETIC_PRESETS
