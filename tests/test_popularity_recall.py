"""The one popularity sampler: draws in proportion to the counts, as torch.multinomial does."""

import numpy as np
import pytest
import torch

from agents.data.recall import PopularityRecall

COUNTS = {
    "zeros inside": np.array([0.0, 1.0, 3.0, 0.0]),
    "zipf": 1.0 / np.arange(1, 5001),
    "integers": np.random.default_rng(0).integers(0, 20, 3000),
}


@pytest.mark.parametrize("counts", COUNTS.values(), ids=COUNTS.keys())
def test_draws_are_torch_multinomials_from_the_same_generator(counts):
    recall = PopularityRecall(counts, torch.Generator().manual_seed(7))
    probs = torch.as_tensor(counts / counts.sum(), dtype=torch.float64)
    expected = torch.multinomial(
        probs, 40 * 300, replacement=True, generator=torch.Generator().manual_seed(7)
    )
    assert torch.equal(recall.sample(40, 300), expected.view(40, 300))


def test_draws_in_proportion_and_never_a_zero_count_item():
    recall = PopularityRecall(COUNTS["zeros inside"], torch.Generator().manual_seed(0))
    draws = recall.sample(4, 5000)
    counts = torch.bincount(draws.flatten(), minlength=4)
    assert draws.shape == (4, 5000) and counts[0] == counts[3] == 0
    assert counts[2] / counts[1] == pytest.approx(3.0, rel=0.05)


@pytest.mark.parametrize(
    "counts, match",
    [
        (np.zeros(3), "counts needs at least one positive"),
        (np.array([1.0, -1.0]), "counts must be a 1-d array"),
        (np.array([1.0, np.nan]), "counts must be a 1-d array"),
        (np.ones((2, 2)), "counts must be a 1-d array"),
    ],
)
def test_bad_counts_are_refused_naming_the_field(counts, match):
    with pytest.raises(ValueError, match=match):
        PopularityRecall(counts, torch.Generator())
