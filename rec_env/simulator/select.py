"""`make_user_model`: which user model simulates a dataset (torch is imported only to fit one)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rec_env.data.dataset import LogDataset
from rec_env.simulator.base import UserModel
from rec_env.simulator.ground_truth import GroundTruthModel


def make_user_model(
    dataset: LogDataset,
    seed: int = 0,
    fitted: bool = False,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    **overrides,
) -> UserModel:
    """The user model an environment should simulate ``dataset`` with.

    Synthetic data (a dataset with ``extras["world"]``) gets its :class:`GroundTruthModel`
    unless ``fitted=True``; anything else a :class:`LogClickModel` from :func:`fit_or_load`
    (fitted on the training split once, then read from the cache).

    :param seed: split seed and training seed (``LogClickConfig.seed``).
    :param overrides: :class:`LogClickConfig` fields, e.g. ``dim=32, epochs=5``.
    """
    if not fitted and "world" in dataset.extras:
        return GroundTruthModel(dataset.extras["world"])
    from rec_env.simulator.fit import fit_or_load
    from rec_env.simulator.log_model import LogClickConfig

    config = replace(LogClickConfig(seed=seed), **overrides)
    return fit_or_load(dataset, config, cache_dir=cache_dir, split_seed=seed, progress=progress)
