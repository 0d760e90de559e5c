"""Filters on hand-built score matrices: ties, masked items, k larger than the pool."""

import pytest
import torch

from distill.filters import FILTERS, top_k

TEACHER = torch.tensor([[5.0, 4.0, 4.0, 1.0, 0.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
STUDENT = torch.tensor([[0.0, 4.0, 5.0, 3.0, 1.0], [5.0, 4.0, 3.0, 2.0, 1.0]])
VALID = torch.tensor([[True] * 5, [True, True, False, True, True]])


def picks(name: str, k: int, generator=None) -> list[list[int]]:
    """The picked pool indices of each row, in the filter's order (-1 where nothing)."""
    index, picked = FILTERS[name](TEACHER, STUDENT, VALID, k, generator)
    return torch.where(picked, index, -1).tolist()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # row 0: teacher top 2 = 0, then the tie 1/2 -> 1; the student's 1 is already taken.
        # row 1: item 2 is masked, so the teacher's top 2 are 4 and 3.
        ("dual_led", [[0, 1, 2, -1], [4, 3, 0, 1]]),
        ("teacher_led", [[0, 1], [4, 3]]),
        ("student_led", [[2, 1], [0, 1]]),
        # 2k = 4 items of largest |Q_T - Q_S|: row 0 = [5, 0, 1, 2, 1], row 1 = [4, 2, masked,
        # 2, 4]; ties -> lower index first
        ("disagreement", [[0, 3, 2, 4], [0, 4, 1, 3]]),
        ("none", [[0, 1, 2, 3, 4], [0, 1, -1, 3, 4]]),
    ],
)
def test_filter_picks_by_hand(name, expected):
    assert picks(name, 2) == expected


def test_top_k_larger_than_the_pool_pads_with_invalid_picks():
    index, picked = top_k(TEACHER, VALID, 9)
    assert index.shape == (2, 5)
    assert index[1].tolist()[:4] == [4, 3, 1, 0] and picked[1].tolist() == [True] * 4 + [False]
    assert sorted(index[0].tolist()) == [0, 1, 2, 3, 4] and picked[0].all()


def test_top_k_of_a_row_with_nothing_valid_picks_nothing():
    _, picked = top_k(TEACHER, torch.zeros_like(VALID), 2)
    assert not picked.any()


def test_top_k_rejects_nan_and_k_below_one():
    with pytest.raises(ValueError, match="NaN"):
        top_k(torch.tensor([[float("nan"), 1.0]]), torch.ones(1, 2, dtype=torch.bool), 1)
    with pytest.raises(ValueError, match="k must be >= 1"):
        top_k(TEACHER, VALID, 0)


def test_random_picks_distinct_valid_items_reproducibly():
    draws = [picks("random", 2, torch.Generator().manual_seed(3)) for _ in range(2)]
    assert draws[0] == draws[1]
    for row, valid in zip(draws[0], VALID, strict=True):
        chosen = [i for i in row if i >= 0]
        assert len(chosen) == len(set(chosen)) == 4 and all(valid[i] for i in chosen)


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("k", [1, 3, 50])
def test_every_pick_is_a_valid_item(name, k):
    generator = torch.Generator().manual_seed(k)
    scores = torch.randn(2, 16, 40, generator=generator).round(decimals=1)  # many ties
    valid = torch.rand(16, 40, generator=generator) < 0.3
    index, picked = FILTERS[name](scores[0], scores[1], valid, k, generator)
    assert index.shape == picked.shape and index.shape[0] == 16
    assert valid.gather(-1, index)[picked].all()
    for row, row_picked in zip(index, picked, strict=True):  # no item picked twice in a row
        chosen = row[row_picked].tolist()
        assert len(chosen) == len(set(chosen))


def sorted_top_k(scores, valid, k):
    """Reference: a full stable sort, highest first (ties keep the lower index first)."""
    masked = scores.masked_fill(~valid, float("-inf"))
    index = torch.sort(masked, dim=-1, descending=True, stable=True).indices[:, :k]
    return index, valid.gather(-1, index)


@pytest.mark.parametrize("k", [1, 3, 6, 40])
@pytest.mark.parametrize("decimals", [0, 1, 6])  # 0: ties everywhere, 6: nearly none
@pytest.mark.parametrize("share_valid", [0.05, 0.5, 1.0])
def test_top_k_equals_a_full_stable_sort(k, decimals, share_valid):
    generator = torch.Generator().manual_seed(k + decimals)
    scores = torch.randn(64, 40, generator=generator).round(decimals=decimals)
    valid = torch.rand(64, 40, generator=generator) < share_valid
    index, picked = top_k(scores, valid, k)
    expected_index, expected_picked = sorted_top_k(scores, valid, k)
    assert torch.equal(index, expected_index) and torch.equal(picked, expected_picked)


@pytest.mark.parametrize("at", [0, 3, 7])
def test_top_k_finds_a_nan_anywhere_in_the_row(at):
    scores = torch.arange(8.0).repeat(2, 1)
    scores[1, at] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        top_k(scores, torch.ones(2, 8, dtype=torch.bool), 2)
