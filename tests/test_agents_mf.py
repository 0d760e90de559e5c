"""The logistic MF baseline: fit, L2 choice on validation, ranker interface, disk cache."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from agents_testing import TINY, tiny_config, tiny_lists, tiny_network

from agents.baselines import mf as mf_module
from agents.baselines.mf import MFLogits, fit_mf, fit_one, fit_or_load_mf, mf_cache_path, shown_rows
from agents.metrics import auc
from agents.nn.qnetwork import TEACHER
from agents.training import networks
from agents.training.config import Run, load_scenario
from agents.training.logger import ScalarLogger
from agents.training.networks import make_network, warm_start_mf
from rec_env.data import split_lists

SMALL_FIT = {"dim": 4, "l2_grid": (1e-3, 1e-1), "seed": 0, "max_iter": 50}
"""a fit of a fraction of a second on the tiny lists"""


@pytest.fixture(scope="module")
def splits():
    return split_lists(tiny_lists(), by="request", seed=0)


def _auc(agent, lists) -> float:
    return auc(lists.clicks[lists.mask], agent.score_logged(lists)[lists.mask])


def _no_refit(*args, **kwargs):
    raise AssertionError("refitted a cached MF")


def _assert_same_fit(agent, other) -> None:
    for name in ("user_table", "item_table"):
        assert torch.equal(
            torch.from_numpy(getattr(agent, name)), torch.from_numpy(getattr(other, name))
        )
    assert agent.l2 == other.l2


def test_fit_learns_the_training_clicks_and_shrinks_with_l2(splits):
    weak, strong = (fit_one(splits.train, dim=4, l2=l2, seed=0) for l2 in (1e-5, 1e-1))
    train = splits.train
    assert _auc(weak, train) > 0.75  # a flexible fit separates its own clicks
    assert np.abs(strong.user_table).max() < np.abs(weak.user_table).max()
    assert _auc(strong, train) < _auc(weak, train)


@pytest.mark.parametrize("dim", [0, 4])
def test_mf_logits_equal_the_indexing_expression_bit_for_bit(splits, dim):
    users, items, clicks = shown_rows(splits.train)
    generator = torch.Generator().manual_seed(0)
    tables = [torch.randn(n, dim + 1, generator=generator) for n in (100, 150)]
    results = []
    for fast in (True, False):
        bias = torch.tensor([-1.5], requires_grad=True)
        user_table, item_table = (table.clone().requires_grad_() for table in tables)
        if fast:
            logits = MFLogits.apply(bias, user_table, item_table, users, items)
        else:
            user, item = user_table[users], item_table[items]
            logits = bias + (user[:, :-1] * item[:, :-1]).sum(-1) + user[:, -1] + item[:, -1]
        torch.nn.functional.binary_cross_entropy_with_logits(logits, clicks).backward()
        results.append([logits.detach(), bias.grad, user_table.grad, item_table.grad])
    for fast, plain in zip(*results, strict=True):
        assert torch.equal(fast, plain)


def test_fit_mf_keeps_the_penalty_of_best_validation_auc(splits):
    grid = (1e-5, 1e-3, 1e-1)
    scores = {l2: _auc(fit_one(splits.train, 4, l2, seed=0), splits.valid) for l2 in grid}
    chosen = fit_mf(splits.train, splits.valid, dim=4, l2_grid=grid, seed=0)
    assert chosen.l2 == max(scores, key=scores.get)
    again = fit_mf(splits.train, splits.valid, dim=4, l2_grid=grid, seed=0)
    assert np.array_equal(chosen.item_table, again.item_table)  # seeded


def test_fit_mf_rejects_validation_lists_without_both_classes(splits):
    valid = splits.valid
    no_clicks = replace(valid, clicks=np.zeros_like(valid.clicks))
    with pytest.raises(ValueError, match="all 0 or all 1"):
        fit_mf(splits.train, no_clicks, dim=4, l2_grid=(1e-3,))


def test_recommend_and_act_rank_by_the_logit(splits):
    agent = fit_one(splits.train, dim=4, l2=1e-3, seed=0)
    candidates = np.arange(20, 40)
    logits = agent.scores(np.array([3]), candidates[None])[0]
    assert agent.recommend(3, candidates, k=5) == candidates[np.argsort(-logits)[:5]].tolist()
    valid = np.ones((1, 20), dtype=bool)
    valid[0, np.argmax(logits)] = False  # the best is already placed
    observation = {
        "user": np.array([3]),
        "candidates": candidates[None],
        "action_mask": valid.astype(np.int8),
    }
    assert agent.act(observation)[0] == np.argsort(-logits)[1]


def test_fit_or_load_mf_reads_back_a_fresh_fit_bit_for_bit(splits, tmp_path, monkeypatch):
    cached = fit_or_load_mf(
        splits.train, splits.valid, **SMALL_FIT, cache_dir=tmp_path, progress=False
    )
    assert [p.name for p in tmp_path.iterdir()] == [
        mf_cache_path(splits.train, splits.valid, **SMALL_FIT, cache_dir=tmp_path).name
    ]
    _assert_same_fit(cached, fit_mf(splits.train, splits.valid, **SMALL_FIT, progress=False))
    monkeypatch.setattr(mf_module, "fit_one", _no_refit)
    _assert_same_fit(
        fit_or_load_mf(splits.train, splits.valid, **SMALL_FIT, cache_dir=tmp_path), cached
    )


def test_mf_cache_key_covers_the_lists_and_the_fit_settings(splits, tmp_path, monkeypatch):
    train, valid = splits.train, splits.valid
    path = mf_cache_path(train, valid, **SMALL_FIT, cache_dir=tmp_path)
    copies = (replace(lists, clicks=lists.clicks.copy()) for lists in (train, valid))
    assert mf_cache_path(*copies, **SMALL_FIT, cache_dir=tmp_path) == path  # content, not identity
    clicks = train.clicks.copy()
    clicks[0, 0] = 1 - clicks[0, 0]
    other_lists = [(replace(train, clicks=clicks), valid), (train, train), (valid, valid)]
    others = [mf_cache_path(*lists, **SMALL_FIT, cache_dir=tmp_path) for lists in other_lists]
    changes = [{"dim": 5}, {"l2_grid": (1e-3,)}, {"seed": 1}, {"max_iter": 51}]
    others += [
        mf_cache_path(train, valid, **{**SMALL_FIT, **c}, cache_dir=tmp_path) for c in changes
    ]
    monkeypatch.setattr(mf_module, "MF_VERSION", mf_module.MF_VERSION + 1)
    others.append(mf_cache_path(train, valid, **SMALL_FIT, cache_dir=tmp_path))
    assert len({path, *others}) == len(others) + 1


def test_an_unreadable_mf_cache_file_is_refitted_with_a_warning(splits, tmp_path):
    fit = fit_or_load_mf(
        splits.train, splits.valid, **SMALL_FIT, cache_dir=tmp_path, progress=False
    )
    (path,) = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(UserWarning, match="unreadable cache file .*refitting and overwriting"):
        refit = fit_or_load_mf(
            splits.train, splits.valid, **SMALL_FIT, cache_dir=tmp_path, progress=False
        )
    _assert_same_fit(refit, fit)
    _assert_same_fit(mf_module.MFAgent.load(path), fit)  # overwritten with a whole file


@pytest.mark.parametrize(
    ("agent", "scale"),
    [pytest.param("supervised", 1.0, marks=pytest.mark.slow), ("teacher", 0.25)],
)
def test_warm_start_puts_the_fitted_mf_into_the_network_at_the_q_scale(
    tmp_path, monkeypatch, agent, scale
):
    monkeypatch.setenv("REC_ENV_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(networks, "_MF_FITS", {})
    config = tiny_config(tmp_path, agent=agent, mf_warm_start=True)
    run = Run(config, tmp_path, load_scenario(config), ScalarLogger(tmp_path))
    network = make_network(run, TEACHER, mf_scale=scale)
    splits = run.splits
    mf = fit_mf(splits.train, splits.valid, dim=network.config.factor_dim, seed=config.seed)
    assert len(list((tmp_path / "cache" / "mf").glob("*.pt"))) == 1
    monkeypatch.setattr(networks, "_MF_FITS", {})  # as in a new process: read from the disk
    monkeypatch.setattr(mf_module, "fit_one", _no_refit)
    _assert_same_fit(warm_start_mf(run, network.config.factor_dim), mf)
    users, items = np.array([1, 2, 3]), np.array([[4, 5], [6, 7], [8, 9]])
    with torch.no_grad():
        user_row = network.user_factor(torch.as_tensor(users))  # [p_u; b_u]
        _, item_bias, item_factor = network.candidates(torch.as_tensor(items))
        match = (user_row[:, None, :-1] * item_factor).sum(-1) + item_bias + user_row[:, -1:]
    np.testing.assert_allclose(match.numpy(), scale * mf.scores(users, items), rtol=1e-4, atol=1e-5)


def test_set_factors_rejects_a_table_of_the_wrong_width():
    network = tiny_network()
    n_users, n_items = len(tiny_lists().user_features), len(tiny_lists().item_features)
    with pytest.raises(ValueError, match="item_table has shape"):
        network.set_factors(np.zeros((n_users, TINY.factor_dim + 1)), np.zeros((n_items, 2)))
