"""DDQN and supervised learners: TD targets by hand, masks, terminal slots, Polyak updates."""

import pytest
import torch
import torch.nn.functional as F
from agents_testing import tiny_batch, tiny_lists, tiny_network

from agents.data.batch import ListBatch
from agents.data.logged import (
    LoggedTransitions,
    double_next,
    logged_next,
    td_batch,
    terminal_slots,
)
from agents.data.recall import PopularityRecall
from agents.learners.base import eval_mode, polyak_update
from agents.learners.ddqn import DDQN, DDQNConfig, double_dqn_target
from agents.learners.supervised import SupervisedLearner
from rec_env.data import item_counts

GAMMA = 0.4


def test_double_dqn_target_pure_function():
    rewards = torch.tensor([1.0, 0.0, 1.0, 0.0])
    done = torch.tensor([False, False, True, False])
    q_target = torch.tensor([[1.0, 2.0, 3.0], [5.0, 6.0, 7.0], [9.0, 9.0, 9.0], [1.0, 1.0, 1.0]])
    q_online = torch.tensor([[0.0, 9.0, 1.0], [3.0, 2.0, 8.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    valid = torch.tensor([[1, 1, 1], [1, 1, 0], [1, 1, 1], [0, 0, 0]], dtype=torch.bool)
    y = double_dqn_target(rewards, done, q_target, q_online, valid, GAMMA)
    # row 0: online picks 1 -> target 2; row 1: candidate 2 masked, online picks 0 -> 5;
    # row 2: terminal; row 3: no valid candidate -> terminal
    expected = torch.tensor([1.0 + GAMMA * 2.0, GAMMA * 5.0, 1.0, 0.0])
    torch.testing.assert_close(y, expected)


def _two_slot_batch() -> ListBatch:
    return ListBatch(
        user_ids=torch.tensor([3]),
        items=torch.tensor([[5, 9]]),
        clicks=torch.tensor([[1.0, 0.0]]),
        mask=torch.tensor([[True, True]]),
    )


def test_next_candidates_by_hand():
    lists = _two_slot_batch()
    items, valid = logged_next(lists)
    assert items.tolist() == [[[9], [0]]] and valid.tolist() == [[[True], [False]]]
    items, valid = double_next(lists, torch.tensor([[5, 11]]))
    assert items.tolist() == [[5, 9, 5, 11]]  # shared by both slots
    # slot 0: its own item and the recalled copy of it are placed; slot 1: nothing remains
    assert valid.tolist() == [[[False, True, False, True], [False, False, False, True]]]
    assert terminal_slots(torch.tensor([[True, True, False], [True, True, True]])).tolist() == [
        [False, True, True],
        [False, False, True],
    ]


def _learner_with_distinct_target(target: str) -> DDQN:
    learner = DDQN(tiny_network(seed=0), DDQNConfig(gamma=GAMMA, target=target))
    learner.target_network.load_state_dict(tiny_network(seed=1).state_dict())
    return learner


@pytest.mark.parametrize("target", ["logged", "double"])
def test_td_target_two_slot_example(target):
    learner = _learner_with_distinct_target(target)
    lists = _two_slot_batch()
    recall = torch.tensor([[5, 11]])
    next_items, next_valid = (
        logged_next(lists) if target == "logged" else double_next(lists, recall)
    )
    batch = td_batch(lists, next_items, next_valid)
    online, frozen = learner.network.eval(), learner.target_network
    with torch.no_grad():
        if target == "logged":
            best = 9
        else:
            scores = online.q(online.state(lists, 1), torch.tensor([[9, 11]]))
            best = [9, 11][int(scores.argmax())]
        next_value = frozen.q(frozen.state(lists, 1), torch.tensor([[best]]))[0, 0]
        learner.network.train()  # dropout on: the target must not depend on it
        rows, slots = batch.transitions()
        y = learner.td_target(batch, rows, slots)
        assert torch.equal(y, learner.td_target(batch, rows, slots))
    # slot 0: click 1 plus the discounted next value; slot 1 is terminal with no click
    torch.testing.assert_close(y, torch.stack([1.0 + GAMMA * next_value, torch.tensor(0.0)]))


def _straightforward_td_target(learner: DDQN, batch, rows, slots) -> torch.Tensor:
    """The TD target transition by transition: each one's candidates scored on its own."""
    online, frozen = learner.network, learner.target_network
    next_slots = (slots + 1).clamp(max=batch.lists.slate_size - 1)
    candidates = batch.next_candidates(rows, slots)
    with eval_mode(online):
        q_online = online.q(online.state(batch.lists)[rows, next_slots], candidates)
    q_target = frozen.q(frozen.state(batch.lists)[rows, next_slots], candidates)
    valid = batch.next_valid[rows, slots]
    done = batch.done[rows, slots]
    return double_dqn_target(batch.rewards[rows, slots], done, q_target, q_online, valid, GAMMA)


@pytest.mark.parametrize("layout", ["shared", "per_slot"])
@pytest.mark.parametrize("padded", [False, True])
def test_td_target_equals_the_straightforward_one(layout, padded):
    lists = tiny_batch(12)
    if padded:  # lists of 10, 7 and 4 shown slots
        lists = ListBatch(lists.user_ids, lists.items, lists.clicks, lists.mask.clone())
        lists.mask[1::3, 7:] = False
        lists.mask[2::3, 4:] = False
    items, valid = double_next(lists, torch.randint(1, 150, (12, 6)))
    if layout == "per_slot":
        items = items[:, None].expand(-1, lists.slate_size, -1)
    batch = td_batch(lists, items, valid)
    learner = _learner_with_distinct_target("double")
    learner.network.train()  # dropout on: the target must not depend on it
    rows, slots = batch.transitions()
    with torch.no_grad():
        expected = _straightforward_td_target(learner, batch, rows, slots)
        torch.testing.assert_close(learner.td_target(batch, rows, slots), expected)


def test_padded_slots_are_out_of_the_loss():
    lists = ListBatch(
        user_ids=torch.tensor([3, 4]),
        items=torch.tensor([[5, 9, 0], [7, 8, 2]]),
        clicks=torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]),
        mask=torch.tensor([[True, True, False], [True, True, True]]),
    )
    learner = DDQN(tiny_network(), DDQNConfig(target="logged"))
    learner.network.eval()
    batch = td_batch(lists, *logged_next(lists))
    out = learner.compute(batch)
    assert list(zip(out.rows.tolist(), out.slots.tolist(), strict=True)) == [
        (0, 0), (0, 1), (1, 0), (1, 1), (1, 2)
    ]  # fmt: skip
    assert out.target[1] == 0.0  # (0, 1) is terminal: slot 2 shows nothing
    changed = ListBatch(
        lists.user_ids, lists.items.index_put((torch.tensor(0), torch.tensor(2)), torch.tensor(99)),
        lists.clicks, lists.mask,
    )  # fmt: skip
    torch.testing.assert_close(
        learner.compute(td_batch(changed, *logged_next(changed))).loss, out.loss
    )
    expected = F.huber_loss(out.q, out.target)
    torch.testing.assert_close(out.loss, expected)
    assert out.hint.shape == (5, learner.network.hint_dim)
    assert out.states.shape == (2, 3, learner.network.state_dim)


def test_supervised_loss_is_bce_on_clicks():
    learner = SupervisedLearner(tiny_network(), DDQNConfig())
    learner.network.eval()
    lists = tiny_batch(4)
    out = learner.compute(td_batch(lists, *logged_next(lists)))
    assert torch.equal(out.target, lists.clicks[lists.mask])
    torch.testing.assert_close(out.loss, F.binary_cross_entropy_with_logits(out.q, out.target))


@pytest.mark.parametrize("tau", [1.0, 0.25])
def test_polyak_update(tau):
    source, target = tiny_network(seed=0), tiny_network(seed=1)
    before = [p.clone() for p in target.parameters()]
    polyak_update(source, target, tau)
    for new, old, src in zip(target.parameters(), before, source.parameters(), strict=True):
        torch.testing.assert_close(new, tau * src + (1 - tau) * old)
    if tau == 1.0:
        assert all(
            torch.equal(a, b) for a, b in zip(source.parameters(), target.parameters(), strict=True)
        )


@pytest.mark.parametrize("learner_cls", [DDQN, SupervisedLearner])
def test_updates_lower_the_loss_and_move_the_target(learner_cls):
    torch.manual_seed(0)
    learner = learner_cls(tiny_network(), DDQNConfig(learning_rate=1e-2, tau=0.5))
    sampler = LoggedTransitions(tiny_lists(), "double", 8, torch.Generator().manual_seed(0))
    batch = sampler.sample(32)
    first = learner.update(batch)["losses/loss"]
    for _ in range(30):
        scalars = learner.update(batch)
    assert scalars["losses/loss"] < first
    assert set(scalars) == {
        "losses/loss",
        "losses/q_mean",
        "losses/target_mean",
        "losses/grad_norm",
    }
    if learner_cls is DDQN:
        online, frozen = learner.network.parameters(), learner.target_network.parameters()
        assert not all(torch.equal(a, b) for a, b in zip(online, frozen, strict=True))
        assert not any(p.requires_grad for p in learner.target_network.parameters())


def test_sampler_and_recall_are_seeded():
    lists = tiny_lists()
    draws = [
        LoggedTransitions(lists, "double", 8, torch.Generator().manual_seed(3)).sample(16)
        for _ in range(2)
    ]
    assert torch.equal(draws[0].next_items, draws[1].next_items)
    assert draws[0].next_items.shape == (16, 18) and draws[0].shared_candidates
    counts = item_counts(lists, "impressions")
    recall = PopularityRecall(counts, torch.Generator().manual_seed(0)).sample(50, 20)
    assert (counts[recall.numpy()] > 0).all()
    assert item_counts(lists, "clicks").sum() == lists.clicks.sum()
    with pytest.raises(ValueError, match="target"):
        LoggedTransitions(lists, "max", 8, torch.Generator())


def test_eval_mode_restores_every_submodule():
    net = tiny_network().eval()
    net.head.train()
    with eval_mode(net):
        assert not any(module.training for module in net.modules())
    assert net.head.training and not net.training and not net.gru.training
