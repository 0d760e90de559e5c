"""A seeded share of the train lists: the data-limited runs of a positive control.

Only the train lists are cut; valid, test, the catalogue and the environment's requests stay
whole, so runs with any share are scored on the same requests.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rec_env.checks import InputError
from rec_env.data import Splits

SHARE_STREAM = 2
"""the share's draw is seed stream [seed, 2] (the distiller's own draws are [seed, 1])"""


def kept_rows(n_lists: int, share: float, seed: int) -> np.ndarray:
    """``[round(share * n_lists)]`` sorted row indices of the kept lists, a seeded draw
    without replacement (the same rows for the same seed, in any process).

    :raises InputError: the share keeps no list.
    """
    n_kept = round(share * n_lists)
    if n_kept < 1:
        raise InputError(
            f"TrainConfig.train_share={share} keeps no list of the {n_lists} train lists"
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, SHARE_STREAM]))
    return np.sort(rng.choice(n_lists, size=n_kept, replace=False))


def keep_share(splits: Splits, share: float, seed: int) -> Splits:
    """``splits`` with the train lists cut to ``share`` of them (:func:`kept_rows`); valid and
    test untouched. A share of 1 returns ``splits`` itself."""
    if share == 1.0:
        return splits
    return replace(splits, train=splits.train.subset(kept_rows(len(splits.train), share, seed)))
