"""`PopularityRecall`: item ids drawn with probability proportional to their popularity.

The one popularity sampler of the project: the logged transitions draw their double-DQN
recall items from it (:mod:`agents.data.logged`), DRL-Rec its exploration pools
(:mod:`distill.explore`). The environment's ``recall="popular"``
(:class:`rec_env.envs.PopularRecall`) is not a sampler: it offers the C most shown items.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


class PopularityRecall:
    """Draws item ids with replacement, item i with probability ``counts[i] / counts.sum()``.

    Inverse-CDF sampling: one float64 uniform per draw, located in the cumulative
    distribution by binary search (``torch.multinomial(probs, n * m, replacement=True)``
    makes the same draws from the same generator, but allows at most 2^24 items).

    :param counts: ``[n_items]`` finite, non-negative popularity (e.g. train impressions,
        :func:`rec_env.data.item_counts`), at least one positive.
    :param generator: the seeded source of every draw.
    :raises ValueError: naming ``counts`` when it is not such an array.
    """

    def __init__(self, counts: np.ndarray, generator: torch.Generator) -> None:
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 1 or not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError(
                f"popularity recall: counts must be a 1-d array of finite non-negative "
                f"numbers, got shape {counts.shape}"
            )
        if not np.any(counts > 0):
            raise ValueError("popularity recall: counts needs at least one positive item")
        cumulative = np.cumsum(counts / counts.sum())
        self.cdf = torch.as_tensor(cumulative / cumulative[-1])
        self.generator = generator

    def sample(self, n: int, m: int) -> Tensor:
        """``[n, m]`` int64 item ids (an item of count 0 is never drawn)."""
        uniforms = torch.rand(n, m, generator=self.generator, dtype=torch.float64)
        return torch.searchsorted(self.cdf, uniforms, right=True).clamp_(max=len(self.cdf) - 1)
