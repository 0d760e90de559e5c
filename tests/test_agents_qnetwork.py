"""QNetwork: shapes, presets, state reuse across candidates, and no leakage from slot t onwards."""

from dataclasses import asdict, replace

import pytest
import torch
from agents_testing import TINY, tiny_batch, tiny_lists, tiny_network

from agents.data.batch import ListBatch
from agents.nn.qnetwork import STUDENT, TEACHER, QNetwork

WIDTHS = ("embed_dim", "model_dim", "head_dims", "factor_dim")


def test_shapes_of_every_public_method():
    net = tiny_network().eval()
    batch = tiny_batch(6)
    b, k, h = 6, batch.slate_size, TINY.model_dim + TINY.factor_dim + 1
    states = net.state(batch)
    assert states.shape == (b, k, h) and net.state_dim == h
    assert net.state(batch, 3).shape == (b, h)
    assert net.state(batch, torch.tensor([0, 1, 2, 3, 4, 9])).shape == (b, h)
    assert net.encode(
        batch.user_ids, batch.items[:, :0], batch.clicks[:, :0], batch.mask[:, :0]
    ).shape == (b, 1, h)
    candidates = torch.randint(0, 150, (b, 7))
    assert net.q(states[:, 2], candidates).shape == (b, 7)
    assert net.q(states, torch.randint(0, 150, (b, k, 5))).shape == (b, k, 5)
    q, hint = net.q(states[:, 2], candidates, return_hint=True)
    assert q.shape == (b, 7) and hint.shape == (b, 7, TINY.head_dims[-1]) == (b, 7, net.hint_dim)
    assert torch.equal(net.hint(states[:, 2], candidates), hint)
    projection, bias, factors = net.candidates(candidates)
    assert projection.shape == (b, 7, TINY.head_dims[0]) and bias.shape == (b, 7)
    assert factors.shape == (b, 7, TINY.factor_dim)
    assert torch.equal(net.score(states[:, 2], (projection, bias, factors))[0], q)
    assert net.n_params() == sum(p.numel() for p in net.parameters())


def test_state_position_forms_agree():
    net = tiny_network().eval()
    batch = tiny_batch(5)
    with torch.no_grad():
        states = net.state(batch)
        for t in (0, 4, 9):
            torch.testing.assert_close(net.state(batch, t), states[:, t])
        rows = torch.tensor([9, 0, 3, 3, 7])
        assert torch.equal(net.state(batch, rows), states[torch.arange(5), rows])


def test_state_is_reused_for_all_candidates():
    net = tiny_network().eval()
    batch = tiny_batch(4)
    candidates = torch.randint(0, 150, (4, 9))
    with torch.no_grad():
        state = net.state(batch, 5)
        together = net.q(state, candidates)
        one_by_one = torch.cat([net.q(state, candidates[:, j : j + 1]) for j in range(9)], dim=1)
    torch.testing.assert_close(together, one_by_one, rtol=0, atol=1e-6)


@pytest.mark.parametrize("slot", [0, 4, 8])
@pytest.mark.parametrize("change", ["item", "click"])
def test_no_leakage_from_slot_t_or_later(slot, change):
    net = tiny_network().eval()
    batch = tiny_batch(4)
    if change == "item":
        altered = replace(batch, items=batch.items.clone().index_fill_(1, torch.tensor([slot]), 7))
    else:
        altered = replace(
            batch, clicks=batch.clicks.clone().index_fill_(1, torch.tensor([slot]), 0.5)
        )
    with torch.no_grad():
        before, after = net.state(batch), net.state(altered)
    torch.testing.assert_close(after[:, : slot + 1], before[:, : slot + 1], rtol=0, atol=1e-6)
    assert (after[:, slot + 1] - before[:, slot + 1]).abs().max() > 1e-4  # the next slot sees it


def test_empty_slots_are_ignored():
    net = tiny_network().eval()
    batch = tiny_batch(3)
    mask = batch.mask.clone()
    mask[:, 2] = False
    holes = replace(batch, mask=mask)
    other = replace(holes, items=holes.items.clone().index_fill_(1, torch.tensor([2]), 99))
    with torch.no_grad():
        torch.testing.assert_close(net.state(holes), net.state(other), rtol=0, atol=1e-6)
        assert (net.state(holes) - net.state(batch))[:, 3:].abs().max() > 1e-4


def test_presets_differ_only_in_widths_and_student_is_under_half():
    lists = tiny_lists()
    teacher = QNetwork(TEACHER, lists.item_features, lists.user_features)
    student = QNetwork(STUDENT, lists.item_features, lists.user_features)
    others = {k: v for k, v in asdict(TEACHER).items() if k not in WIDTHS}
    assert others == {k: v for k, v in asdict(STUDENT).items() if k not in WIDTHS}
    assert STUDENT.embed_dim == 8 and TEACHER.embed_dim == 16 and TEACHER.dropout == 0.3
    assert student.n_params() <= 0.5 * teacher.n_params()
    assert TEACHER.scaled(1.0) == TEACHER and TEACHER.scaled(0.5) == STUDENT


@pytest.mark.parametrize("width", [0.25, 0.75, 1.5])
def test_width_knob_orders_sizes(width):
    lists = tiny_lists()
    sizes = [
        QNetwork(TEACHER.scaled(w), lists.item_features, lists.user_features).n_params()
        for w in (width, 1.0)
    ]
    assert (sizes[0] < sizes[1]) == (width < 1.0)
    config = TEACHER.scaled(width)
    assert config.embed_dim % config.n_heads == 0 and config.model_dim % config.n_heads == 0


def test_expected_clicks_interpolate_the_click_embedding():
    net = tiny_network()
    no_click, click = net.fields.click.weight
    torch.testing.assert_close(
        net.fields.clicks(torch.tensor([0.25])), (0.75 * no_click + 0.25 * click)[None]
    )


def test_feature_tables_are_standardized_buffers():
    lists = tiny_lists()
    net = tiny_network()
    table = net.fields.item_features
    assert table.shape == lists.item_features.shape and not table.requires_grad
    torch.testing.assert_close(table.mean(0), torch.zeros(table.shape[1]), rtol=0, atol=1e-5)
    assert "fields.item_features" in net.state_dict()


def test_batch_from_lists_masks_padding():
    lists = tiny_lists().subset(slice(0, 3))
    items = lists.items.copy()
    items[0, 9] = -1
    padded = replace(lists, items=items, mask=items >= 0)
    batch = ListBatch.from_lists(padded)
    assert batch.items[0, 9] == 0 and not batch.mask[0, 9] and batch.mask[0, :9].all()
    assert batch.clicks.dtype == torch.float32 and len(batch) == 3


def test_q_is_the_mlp_plus_item_bias_plus_mf_match_and_user_bias():
    net = tiny_network().eval()
    batch = tiny_batch(2)
    items = torch.tensor([[3, 4], [5, 6]])
    f = TINY.factor_dim
    with torch.no_grad():
        net.user_factor.weight[batch.user_ids] = 0.0
        net.user_factor.weight[batch.user_ids[0], :2] = torch.tensor([1.0, 2.0])
        net.user_factor.weight[batch.user_ids[0], f] = 0.5  # b_u
        net.user_factor.weight[batch.user_ids[1], f] = -1.0
        net.item_factor.weight[items.flatten()] = 0.0
        net.item_factor.weight[items.flatten(), :2] = 1.0
        net.item_bias.weight[items.flatten()] = torch.tensor([[0.1], [0.2], [0.3], [0.4]])
        state = net.state(batch, 2)
        mlp = net.head(state[:, : TINY.model_dim], net.candidates(items)[0])[0]
        expected = mlp + torch.tensor([[0.1, 0.2], [0.3, 0.4]]) + torch.tensor([[3.5], [-1.0]])
        torch.testing.assert_close(net.q(state, items), expected)


def test_learner_gives_mf_tables_their_own_learning_rate():
    from agents.learners.ddqn import DDQN, DDQNConfig

    learner = DDQN(tiny_network(), DDQNConfig(learning_rate=1e-4, factor_learning_rate=5e-3))
    groups = learner.optimizer.param_groups
    assert [g["lr"] for g in groups] == [1e-4, 5e-3]
    assert {id(p) for p in groups[1]["params"]} == {
        id(p) for p in learner.network.factor_parameters()
    }
    n_params = sum(p.numel() for g in groups for p in g["params"])
    assert n_params == learner.network.n_params()


@pytest.mark.parametrize("decay", [0.0, 2.0])
def test_factor_weight_decay_shrinks_every_mf_row_and_nothing_else(decay):
    from agents.data.logged import LoggedTransitions
    from agents.learners.ddqn import DDQN, DDQNConfig

    config = DDQNConfig(factor_learning_rate=0.05, factor_weight_decay=decay)
    learner = DDQN(tiny_network(), config)
    net = learner.network
    batch = LoggedTransitions(tiny_lists(), "logged", 0, torch.Generator()).sample(4)
    unseen = torch.ones(net.item_factor.num_embeddings, dtype=torch.bool)
    unseen[batch.lists.items.flatten()] = False
    unseen[batch.next_items.flatten()] = False
    before = net.item_factor.weight[unseen].clone()
    id_embedding = net.fields.item_id.weight[unseen].clone()  # not an MF table
    learner.update(batch)  # unseen rows get a zero gradient: only a decay moves them
    torch.testing.assert_close(net.item_factor.weight[unseen], before * (1 - 0.05 * decay))
    assert torch.equal(net.fields.item_id.weight[unseen], id_embedding)
