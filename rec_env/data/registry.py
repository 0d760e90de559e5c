"""`load_dataset(name)`: one entry point for the built-in datasets and users' own files."""

from __future__ import annotations

from pathlib import Path

from rec_env.data.dataset import LogDataset, load_log
from rec_env.data.movielens import load_ml100k
from rec_env.data.obd import load_obd
from rec_env.data.synthetic import SyntheticConfig, generate_synthetic

DATASETS = ("synthetic", "ml-100k", "obd")


def load_dataset(name: str = "synthetic", **kwargs) -> LogDataset:
    """Load a dataset by name, or a user's log file by path.

    :param name: ``"synthetic"`` (embedded, offline; kwargs are :class:`SyntheticConfig`
        fields plus ``progress``), ``"ml-100k"`` (kwargs: ``slate_size``, ``folder``),
        ``"obd"`` (kwargs: ``folder``), or a path to a ``.csv`` / ``.parquet`` log
        (kwargs: ``slate_size``).
    """
    if name == "synthetic":
        progress = kwargs.pop("progress", True)
        return generate_synthetic(SyntheticConfig(**kwargs), progress=progress)
    if name == "ml-100k":
        return load_ml100k(**kwargs)
    if name == "obd":
        return load_obd(**kwargs)
    if Path(name).suffix.lower() in (".csv", ".parquet", ".pq"):
        return load_log(name, **kwargs)
    raise ValueError(f"unknown dataset {name!r}: use one of {DATASETS} or a .csv/.parquet path")
