"""The explorer: pools, masks (never a placed or the logged item), scores equal to Q."""

from dataclasses import replace

import pytest
import torch
from agents_testing import TINY, tiny_batch, tiny_lists, tiny_network

from agents.data.batch import ListBatch
from agents.data.recall import PopularityRecall
from agents.learners.base import eval_mode
from distill.explore import Explorer, UniformRecall, distinct_first, offerable
from distill.scoring import position_in_list, q_of_items, score_pool

N_ITEMS = len(tiny_lists().item_features)


def hand_lists() -> ListBatch:
    """One list of 3 slots showing items 7, 8 and (empty) 0."""
    return ListBatch(
        user_ids=torch.tensor([0]),
        items=torch.tensor([[7, 8, 0]]),
        clicks=torch.zeros(1, 3),
        mask=torch.tensor([[True, True, False]]),
    )


def test_distinct_first_by_hand():
    pool = torch.tensor([[3, 1, 3, 2, 1], [5, 5, 5, 5, 5]])
    distinct, repeat = distinct_first(pool)
    assert distinct.tolist() == [[3, 1, 2], [5, 5, 5]]
    assert repeat.tolist() == [[False, False, False], [False, True, True]]


def reference_distinct_first(pool):
    """Per row in Python: the first draw of each item, then the repeats, in draw order."""
    rows, flags = [], []
    for row in pool.tolist():
        seen, firsts, repeats = set(), [], []
        for item in row:
            (repeats if item in seen else firsts).append(item)
            seen.add(item)
        rows.append(firsts + repeats)
        flags.append([False] * len(firsts) + [True] * len(repeats))
    width = max(flag.count(False) for flag in flags)
    return [row[:width] for row in rows], [flag[:width] for flag in flags]


@pytest.mark.parametrize("n_items", [3, 40, 50, 51, 10_000])  # ids < M = 50: a scatter
def test_distinct_first_equals_a_python_reference(n_items):
    pool = torch.randint(n_items, (16, 50), generator=torch.Generator().manual_seed(n_items))
    distinct, repeat = distinct_first(pool)
    assert (distinct.tolist(), repeat.tolist()) == reference_distinct_first(pool)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_offerable_equals_a_python_reference(seed):
    lists = tiny_batch(8)
    mask = lists.mask.clone()
    mask[:, 7:] = False  # lists shorter than K
    lists = ListBatch(lists.user_ids, lists.items, lists.clicks, mask)
    generator = torch.Generator().manual_seed(seed)
    drawn = torch.cat([lists.items, torch.randint(N_ITEMS, (8, 30), generator=generator)], 1)
    pool, repeat = distinct_first(drawn[:, torch.randperm(drawn.shape[1], generator=generator)])
    rows, slots = torch.nonzero(torch.ones_like(lists.mask), as_tuple=True)
    expected = [
        [
            not repeat[b, u]
            and int(pool[b, u]) not in lists.items[b, : t + 1][lists.mask[b, : t + 1]]
            for u in range(pool.shape[1])
        ]
        for b, t in zip(rows.tolist(), slots.tolist(), strict=True)
    ]
    assert offerable(pool, repeat, lists, rows, slots).tolist() == expected


def test_offerable_masks_placed_logged_and_repeated_items():
    pool = torch.tensor([[7, 8, 0, 10, 10]])
    repeat = torch.tensor([[False, False, False, False, True]])
    rows, slots = torch.tensor([0, 0, 0]), torch.tensor([0, 1, 2])
    offer = offerable(pool, repeat, hand_lists(), rows, slots)
    assert offer.tolist() == [
        [False, True, True, True, False],  # slot 0: 7 is the logged action
        [False, False, True, True, False],  # slot 1: 7 placed, 8 logged
        [False, False, True, True, False],  # slot 2 is empty: item 0 was never placed
    ]


def test_position_in_list():
    position, most = position_in_list(torch.tensor([0, 0, 2, 2, 2]), 3)
    assert position.tolist() == [0, 1, 0, 1, 2] and most == 3


@pytest.mark.parametrize("block_pairs", [1, 7, 10_000])
@pytest.mark.parametrize("head_dims", [(8, 4), (8, 6, 4), (4,)])
@pytest.mark.parametrize("pool_size", [12, 60])  # 4 x 60 >= 150 items: halves per catalogue item
@pytest.mark.parametrize("every_slot", [False, True])  # True: scored in place, no gather
def test_scores_are_the_networks_q_in_eval_mode(block_pairs, head_dims, pool_size, every_slot):
    network = tiny_network(config=replace(TINY, head_dims=head_dims))
    lists = tiny_batch(4)
    states = network.state(lists)  # [B, K, H], train mode: carries dropout, reused as is
    rows, slots = torch.tensor([0, 0, 2, 3]), torch.tensor([1, 4, 0, 9])
    if every_slot:
        rows, slots = torch.nonzero(lists.mask, as_tuple=True)
    pool = torch.randint(N_ITEMS, (4, pool_size), generator=torch.Generator().manual_seed(0))
    scores = score_pool(network, states[rows, slots], pool, rows, block_pairs)
    with torch.no_grad(), eval_mode(network):
        expected = network.q(states[rows, slots], pool[rows])
    torch.testing.assert_close(scores, expected)
    assert network.training


def test_explorer_never_offers_a_placed_or_logged_item():
    lists = tiny_batch(16)
    teacher, student = tiny_network(0), tiny_network(1, TINY.scaled(0.5))
    rows, slots = torch.nonzero(lists.mask, as_tuple=True)
    generator = torch.Generator().manual_seed(0)
    explorer = Explorer(PopularityRecall(torch.ones(N_ITEMS).numpy(), generator), pool_size=200)
    result = explorer.explore(
        lists, rows, slots, (teacher, teacher.state(lists)), (student, student.state(lists))
    )
    assert (
        result.teacher.shape
        == result.student.shape
        == result.valid.shape
        == (len(rows), result.pool.shape[1])
    )
    offered = result.pool[rows]
    placed = (offered.unsqueeze(-1) == lists.items[rows].unsqueeze(-2)) & lists.mask[
        rows
    ].unsqueeze(-2)
    placed &= torch.arange(lists.slate_size) <= slots.view(-1, 1, 1)  # slots <= t
    assert not (placed.any(-1) & result.valid).any()
    assert result.valid.sum(-1).min() > 0


class ShortRecall:
    """A faulty recall: one item too few per list."""

    def sample(self, n, m):
        return torch.zeros(n, m - 1, dtype=torch.int64)


def test_uniform_recall_and_pool_shape_errors():
    recall = UniformRecall(N_ITEMS, torch.Generator().manual_seed(0))
    pool = recall.sample(3, 40)
    assert pool.shape == (3, 40) and 0 <= pool.min() and pool.max() < N_ITEMS
    lists = tiny_batch(2)
    network = tiny_network()
    explorer = Explorer(ShortRecall(), 5)
    rows, slots = torch.tensor([0]), torch.tensor([0])
    pair = (network, network.state(lists))
    with pytest.raises(ValueError, match="recall returned a pool of shape"):
        explorer.explore(lists, rows, slots, pair, pair)
    with pytest.raises(ValueError, match="pool_size"):
        Explorer(recall, 0)


@pytest.mark.parametrize("n_columns", [1, 3, 60])  # 4 x 60 >= 150 items: halves per catalogue item
def test_q_of_items_is_the_networks_q_with_its_gradient(n_columns):
    network = tiny_network()  # train mode: the same dropout masks from the same seed
    states = torch.randn(4, network.state_dim, generator=torch.Generator().manual_seed(1))
    items = torch.randint(N_ITEMS, (4, n_columns), generator=torch.Generator().manual_seed(2))
    results = []
    for score in (q_of_items, lambda *args: args[0].q(*args[1:], return_hint=True)):
        torch.manual_seed(0)
        q, hint = score(network, states, items)
        gradient = torch.autograd.grad(q.sum() + hint.sum(), network.fields.item_id.weight)[0]
        results.append((q, hint, gradient))
    for ours, theirs in zip(*results, strict=True):
        torch.testing.assert_close(ours, theirs)
