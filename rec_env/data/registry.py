"""`load_dataset(name)`: one entry point for the built-in datasets and users' own files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rec_env.data.dataset import LogDataset, load_log
from rec_env.data.movielens import load_ml100k
from rec_env.data.obd import load_obd
from rec_env.data.synthetic import SyntheticConfig, generate_synthetic

SYNTHETIC_PRESETS: dict[str, SyntheticConfig] = {
    "synthetic": SyntheticConfig(),
    "synthetic-tiny": SyntheticConfig(n_users=100, n_items=150, n_requests=500),
}
"""Named synthetic worlds: the embedded default, and a tiny one for smoke runs and tests."""
DATASETS = ("synthetic", "ml-100k", "obd")
"""The datasets of the benchmarks (every name in SYNTHETIC_PRESETS loads too)."""


def load_dataset(name: str = "synthetic", **kwargs) -> LogDataset:
    """Load a dataset by name, or a user's log file by path.

    :param name: ``"synthetic"`` or another name in :data:`SYNTHETIC_PRESETS` (embedded,
        offline; kwargs are :class:`SyntheticConfig` fields replacing the preset's, or
        ``config=SyntheticConfig(...)``, plus ``progress``), ``"ml-100k"`` (kwargs: ``slate_size``, ``folder``),
        ``"obd"`` (kwargs: ``folder``), or a path to a ``.csv`` / ``.parquet`` log
        (kwargs: ``slate_size``).
    """
    if name in SYNTHETIC_PRESETS:
        progress = kwargs.pop("progress", True)
        config = kwargs.pop("config", None)
        if config is not None and kwargs:
            raise ValueError(f"pass either config= or SyntheticConfig fields, not both: {kwargs}")
        config = config or replace(SYNTHETIC_PRESETS[name], **kwargs)
        return replace(generate_synthetic(config, progress=progress), name=name)
    if name == "ml-100k":
        return load_ml100k(**kwargs)
    if name == "obd":
        return load_obd(**kwargs)
    if Path(name).suffix.lower() in (".csv", ".parquet", ".pq"):
        return load_log(name, **kwargs)
    known = (*SYNTHETIC_PRESETS, *DATASETS[1:])
    raise ValueError(f"unknown dataset {name!r}: use one of {known} or a .csv/.parquet path")


def is_synthetic(name: str) -> bool:
    """True for the names of generated worlds (:data:`SYNTHETIC_PRESETS`)."""
    return name in SYNTHETIC_PRESETS
