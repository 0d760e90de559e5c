"""The click model fitted on logs: interface, fitting, caching, report and metrics."""

import copy
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import torch

from rec_env import Scenario
from rec_env.data import PAD_ITEM, load_dataset
from rec_env.simulator import (
    GroundTruthModel,
    LogClickConfig,
    LogClickModel,
    UserModel,
    fit_log_model,
    fit_or_load,
    fit_report,
    logged_proba,
    plot_reliability,
)
from rec_env.simulator import fit as fit_module
from rec_env.simulator.list_tensors import ListTensors, LogCounts, log1mexp
from rec_env.simulator.metrics import auc, expected_calibration_error, log_loss

TINY = {"n_users": 60, "n_items": 80, "n_requests": 800, "progress": False}
FAST = LogClickConfig(dim=4, epochs=4, batch_size=64)
LAYOUT = ("table.csv", "summary.md", "config.json", "command.txt")


@pytest.fixture(scope="module")
def dataset():
    return load_dataset("synthetic", **TINY)


@pytest.fixture(scope="module")
def scenario(dataset):
    return Scenario.from_dataset(dataset, split="request", split_seed=0)


@pytest.fixture(scope="module")
def splits(scenario):
    return scenario.splits


@pytest.fixture(scope="module")
def model(splits):
    return fit_log_model(splits.train, splits.valid, FAST, progress=False)


def _requests(model: LogClickModel, b: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Random ``click_proba`` arguments: B requests with full slates of valid ids."""
    rng = np.random.default_rng(seed)
    k = model.slate_size
    return {
        "users": rng.integers(0, model.n_users, b),
        "slate_items": rng.integers(0, model.n_items, (b, k)),
        "slate_clicks": rng.integers(0, 2, (b, k)),
        "position": rng.integers(1, k, b),
    }


@pytest.mark.parametrize("candidate_shape", [(16,), (16, 5)])
def test_click_proba_shape_dtype_range(model, candidate_shape):
    assert isinstance(model, UserModel)
    candidates = np.random.default_rng(1).integers(0, model.n_items, candidate_shape)
    proba = model.click_proba(candidates=candidates, **_requests(model))
    assert proba.shape == candidate_shape and proba.dtype == np.float32
    assert ((proba > 0) & (proba < 1)).all()


def test_scalar_candidates_match_a_one_column_matrix(model):
    candidates = np.arange(16) % model.n_items
    vector = model.click_proba(candidates=candidates, **_requests(model))
    matrix = model.click_proba(candidates=candidates[:, None], **_requests(model))
    np.testing.assert_array_equal(vector, matrix[:, 0])


def test_only_slots_before_position_are_read(model):
    request = _requests(model)
    candidates = np.arange(16 * 3).reshape(16, 3) % model.n_items
    before = model.click_proba(candidates=candidates, **request)
    later = np.arange(model.slate_size)[None, :] >= request["position"][:, None]
    garbage = dict(request)
    garbage["slate_items"] = np.where(later, 10**9, request["slate_items"])  # out of range
    garbage["slate_clicks"] = np.where(later, 1 - request["slate_clicks"], request["slate_clicks"])
    np.testing.assert_array_equal(model.click_proba(candidates=candidates, **garbage), before)
    earlier = dict(request)  # the context is read: flipping the clicks before position matters
    earlier["slate_clicks"] = np.where(later, request["slate_clicks"], 1 - request["slate_clicks"])
    assert not np.allclose(model.click_proba(candidates=candidates, **earlier), before)


def test_serving_context_matches_training_context(model, splits):
    """click_proba slot by slot gives the probabilities the model was trained on."""
    lists = splits.test
    tensors = ListTensors.from_lists(lists)
    trained = model.net.list_log_proba(tensors.users, tensors.items, tensors.clicks, tensors.shown)
    trained = np.exp(trained.detach().numpy()[lists.mask])
    np.testing.assert_allclose(logged_proba(model, lists)[lists.mask], trained, atol=1e-6)


def _empty_slates(model: LogClickModel, position: int, b: int = 16) -> dict[str, np.ndarray]:
    """``click_proba`` arguments at ``position`` with no item shown before (all ``PAD_ITEM``)."""
    return {
        "users": np.arange(b) % model.n_users,
        "slate_items": np.full((b, model.slate_size), PAD_ITEM),
        "slate_clicks": np.zeros((b, model.slate_size), dtype=int),
        "candidates": np.arange(b * 3).reshape(b, 3) % model.n_items,
        "position": np.full(b, position),
    }


def test_examination_scales_every_candidate_by_the_same_factor(model):
    """PBM: with the same (empty) context, slot k's probabilities are exam_k * attraction."""
    exam = torch.sigmoid(model.net.exam_logit).detach().numpy()
    assert ((exam > 0) & (exam < 1)).all()
    top, low = (
        model.click_proba(**_empty_slates(model, 0)),
        model.click_proba(**_empty_slates(model, 5)),
    )
    np.testing.assert_allclose(low / top, exam[5] / exam[0], rtol=1e-5)


def test_click_proba_is_monotone_in_examination(model):
    higher = copy.deepcopy(model)
    with torch.no_grad():
        higher.net.exam_logit[2] += 1.0
    before = model.click_proba(**_empty_slates(model, 2))
    after = higher.click_proba(**_empty_slates(model, 2))
    assert (after > before).all() and (after < 1).all()


def test_without_position_every_slot_is_examined(splits):
    config = dataclasses.replace(FAST, epochs=1, use_position=False)
    plain = fit_log_model(splits.train, splits.valid, config, progress=False)
    assert plain.net.exam_logit is None
    assert torch.equal(plain.net.log_examination(torch.arange(3)), torch.zeros(3))


def _item_width(train, use_popularity: bool) -> int:
    """Columns of the item feature table of a fresh net."""
    config = dataclasses.replace(FAST, use_popularity=use_popularity)
    return fit_module._new_net(fit_module.InMemoryLists(train, train), config).item_features.shape[
        1
    ]


def test_sparse_ids_fit_as_well_as_dense_adam(model, splits, scenario):
    sparse = fit_log_model(
        splits.train, splits.valid, dataclasses.replace(FAST, sparse_ids=True), progress=False
    )
    assert sparse.net.item_embedding.sparse and not model.net.item_embedding.sparse
    auc_sparse, auc_dense = (fit_report(m, scenario).auc for m in (sparse, model))
    assert auc_sparse == pytest.approx(auc_dense, abs=0.02)
    assert not torch.equal(sparse.net.item_embedding.weight, model.net.item_embedding.weight)


def test_improvements_under_min_delta_do_not_count(splits):
    config = dataclasses.replace(FAST, epochs=10, patience=2, min_delta=10.0)
    fitted = fit_log_model(splits.train, splits.valid, config, progress=False)
    assert fitted.info["best_epoch"] == 1 and fitted.info["epochs_run"] == 3


def test_item_features_end_with_the_log_exposure_in_train(splits):
    train = splits.train
    shown = np.bincount(train.items[train.mask], minlength=len(train.item_features))
    counts = LogCounts.from_lists(train).item_slots
    table = fit_module.item_feature_table(train.item_features, counts, use_popularity=True)
    np.testing.assert_array_equal(table[:, :-1], train.item_features)
    np.testing.assert_allclose(table[:, -1], np.log1p(shown))
    plain = fit_module.item_feature_table(train.item_features, counts, use_popularity=False)
    assert plain is train.item_features
    assert _item_width(train, True) == _item_width(train, False) + 1


def test_prepare_hook_weights_stay_frozen(splits):
    planted = torch.linspace(-1.0, 1.0, splits.train.user_features.shape[0] * (FAST.dim + 1))
    items_before = []

    def plant(net):
        with torch.no_grad():
            net.user_embedding.weight.copy_(planted.reshape(net.user_embedding.weight.shape))
        net.user_embedding.weight.requires_grad_(False)
        items_before.append(net.item_embedding.weight.detach().clone())

    fitted = fit_log_model(splits.train, splits.valid, FAST, progress=False, prepare=plant)
    assert torch.equal(fitted.net.user_embedding.weight.flatten(), planted)
    assert not torch.equal(fitted.net.item_embedding.weight, items_before[0])  # these trained


def test_planted_truth_gives_the_true_probabilities(dataset, splits):
    """Both sides planted, the true logit's remaining scalars set by hand: p = p_true."""
    from benchmarks.simulator_fit import plant_truth

    world = dataset.extras["world"]
    config = dataclasses.replace(FAST, dim=world.config.latent_dim)
    net = fit_module._new_net(fit_module.InMemoryLists(splits.train, splits.valid), config)
    plant_truth(world, "user")(net)
    plant_truth(world, "item")(net)
    with torch.no_grad():
        net.bias.fill_(world.intercept)
        net.exam_logit.copy_(torch.from_numpy(world.examination).logit())
        scale = world.config.fatigue / world.config.affinity_scale  # factors * sqrt(a)
        net.context_map.copy_(-scale * torch.eye(config.dim))
        net.click_weight.fill_(world.config.click_shift)
    lists = splits.test
    fitted = logged_proba(LogClickModel(net, config), lists)[lists.mask]
    truth = logged_proba(GroundTruthModel(world), lists)[lists.mask]
    np.testing.assert_allclose(fitted, truth, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("log_p", [-1e-6, -0.1, -np.log(2.0), -3.0, -40.0])
def test_log1mexp_matches_the_definition(log_p):
    value = log1mexp(torch.tensor(log_p, dtype=torch.float64))
    assert float(value) == pytest.approx(np.log(-np.expm1(log_p)), rel=1e-9)


def test_log1mexp_gradient_is_finite_at_p_one():
    log_p = torch.tensor([0.0, -1e-9, -50.0], requires_grad=True)
    log1mexp(log_p).sum().backward()
    assert torch.isfinite(log_p.grad).all()


def test_weight_average_horizon_and_switch(splits):
    n_lists = len(splits.train)
    assert (
        fit_module._weight_average(None, dataclasses.replace(FAST, average_epochs=0), n_lists)
        is None
    )
    net = fit_module._new_net(fit_module.InMemoryLists(splits.train, splits.valid), FAST)
    average = fit_module._weight_average(net, FAST, n_lists)
    steps = FAST.average_epochs * np.ceil(n_lists / FAST.batch_size)
    for name, value in net.state_dict().items():  # a copy of the weights to start from
        torch.testing.assert_close(average.module.state_dict()[name], value)
    with torch.no_grad():
        net.bias += 1.0
    before = float(average.module.bias.detach())
    average.update_parameters(net)  # the first update copies, later ones move by 1 / steps
    average.update_parameters(net)
    assert float(average.module.bias.detach()) == pytest.approx(before + 1.0, abs=1e-5)
    with torch.no_grad():
        net.bias += steps
    average.update_parameters(net)
    assert float(average.module.bias.detach()) == pytest.approx(before + 2.0, abs=1e-3)


def test_fitted_model_beats_a_constant_predictor(model, scenario):
    report = fit_report(model, scenario)
    constant = auc(np.r_[0, 1], np.r_[0.5, 0.5])
    assert constant == 0.5
    assert report.auc > constant + 0.1
    assert report.true_auc > 0.5 and 0.0 <= report.true_mae < 0.5
    assert 0.0 <= report.ece < 0.2 and np.isfinite(report.log_loss)


def test_report_without_ground_truth_leaves_true_metrics_empty(model, dataset):
    report = fit_report(model, Scenario.from_dataset(dataclasses.replace(dataset, extras={})))
    assert report.true_auc is None and report.true_curve is None
    assert np.isnan(report.metrics()["true_mae"])


def test_same_seed_same_model_other_seed_other_model(model, splits):
    request = {"candidates": np.arange(16) % model.n_items, **_requests(model)}
    again = fit_log_model(splits.train, splits.valid, FAST, progress=False)
    np.testing.assert_array_equal(again.click_proba(**request), model.click_proba(**request))
    seed_1 = dataclasses.replace(FAST, seed=1)
    other = fit_log_model(splits.train, splits.valid, seed_1, progress=False)
    assert not np.allclose(other.click_proba(**request), model.click_proba(**request))


def test_save_load_round_trip(model, tmp_path):
    path = model.save(tmp_path / "sub" / "model.pt")
    loaded = LogClickModel.load(path)
    request = {"candidates": np.arange(32).reshape(16, 2) % model.n_items, **_requests(model)}
    np.testing.assert_array_equal(loaded.click_proba(**request), model.click_proba(**request))
    assert loaded.config == model.config and loaded.info["best_epoch"] == model.info["best_epoch"]
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp file left


def test_fit_or_load_caches_under_rec_env_data(dataset, scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("REC_ENV_DATA", str(tmp_path))
    config = dataclasses.replace(FAST, epochs=1)
    first = fit_or_load(scenario, config, progress=False)
    cached = list((tmp_path / "models").glob("synthetic-*.pt"))
    assert len(cached) == 1 and first.info["fingerprint"] == dataset.fingerprint()

    def no_refit(*args, **kwargs):
        raise AssertionError("fit_or_load refitted a cached model")

    monkeypatch.setattr(fit_module, "fit_log_model", no_refit)
    second = fit_or_load(scenario, config, progress=False)
    request = {"candidates": np.arange(16) % first.n_items, **_requests(first)}
    np.testing.assert_array_equal(second.click_proba(**request), first.click_proba(**request))
    for split, seed in (("request", 1), ("time", 0)):  # another split is another model
        with pytest.raises(AssertionError, match="refitted"):
            fit_or_load(Scenario.from_dataset(dataset, split, seed), config, progress=False)


def test_scenario_user_model_choice(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("REC_ENV_DATA", str(tmp_path))
    assert isinstance(Scenario.from_dataset(dataset).user_model, GroundTruthModel)
    fitted = Scenario.from_dataset(dataset, user_model="fitted", progress=False)
    assert isinstance(fitted.user_model, LogClickModel) and fitted.user_model.config.seed == 0
    assert len(list((tmp_path / "models").glob("*.pt"))) == 1
    no_truth = Scenario.from_dataset(
        dataclasses.replace(dataset, extras={}), user_model="ground_truth"
    )
    with pytest.raises(ValueError, match="no ground truth"):
        _ = no_truth.user_model


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"candidates": np.full(16, 10**6)}, "candidates out of range"),
        ({"candidates": np.full((16, 2), -1)}, "candidates out of range"),
        ({"users": np.full(16, 10**6)}, "users out of range"),
        ({"position": np.full(16, 99)}, "position out of range"),
        ({"slate_items": np.full((16, 10), -5)}, r"slate_items \(slots < position\) out of range"),
        ({"slate_items": np.zeros((16, 4), dtype=int)}, r"\[B, K=10\]"),
        ({"slate_clicks": np.full((16, 10), 2)}, r"slate_clicks \(slots < position\) out of range"),
        ({"users": np.int64(3)}, "users must be"),
        ({"candidates": np.zeros(3, dtype=int)}, "candidates must be"),
    ],
)
def test_bad_input_raises_value_error(model, change, message):
    request = {"candidates": np.zeros(16, dtype=int), **_requests(model)}
    with pytest.raises(ValueError, match=message):
        model.click_proba(**{**request, **change})


def test_pad_before_position_counts_as_not_shown(model):
    request = _requests(model)
    request["slate_items"][:, 0] = PAD_ITEM
    padded = model.click_proba(candidates=np.zeros(16, dtype=int), **request)
    assert padded.shape == (16,) and np.isfinite(padded).all()


@pytest.mark.parametrize("field", ["dim", "epochs", "batch_size", "patience", "lr"])
def test_config_rejects_non_positive_values(field):
    with pytest.raises(ValueError, match=f"LogClickConfig.{field}"):
        LogClickConfig(**{field: 0})


@pytest.mark.parametrize("field", ["weight_decay", "embedding_l2", "min_delta", "average_epochs"])
def test_config_rejects_negative_values(field):
    with pytest.raises(ValueError, match=f"LogClickConfig.{field}"):
        LogClickConfig(**{field: -1.0})


def test_sparse_ids_rule_out_weight_decay():
    with pytest.raises(ValueError, match="LogClickConfig.weight_decay must be 0 with sparse_ids"):
        LogClickConfig(sparse_ids=True, weight_decay=1e-4)


def test_cache_key_changes_with_the_model_version(monkeypatch, tmp_path):
    before = fit_module.cache_path("synthetic", "abc", FAST, ("request", 0), tmp_path)
    monkeypatch.setattr(fit_module, "MODEL_VERSION", fit_module.MODEL_VERSION + 1)
    assert fit_module.cache_path("synthetic", "abc", FAST, ("request", 0), tmp_path) != before


@pytest.mark.parametrize(
    ("labels", "scores", "expected"),
    [
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
        ([0, 1, 0, 1], [1.0, 1.0, 2.0, 3.0], 0.625),  # one click/non-click tie counts 1/2
        ([0, 1, 1, 0], [0.5, 0.5, 0.5, 0.5], 0.5),
        ([1, 1, 0], [0.0, 0.1, 0.9], 0.0),
        ([0, 1], [-3.0, 7.0], 1.0),
    ],
)
def test_auc_hand_computed(labels, scores, expected):
    assert auc(np.array(labels), np.array(scores)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("labels", "proba", "expected"),
    [
        ([1, 0], [0.8, 0.4], -(np.log(0.8) + np.log(0.6)) / 2),
        ([1, 1], [0.5, 0.5], np.log(2.0)),
        ([1, 0], [0.0, 0.0], -np.log(1e-7) / 2),  # clipped, not infinite
    ],
)
def test_log_loss_hand_computed(labels, proba, expected):
    assert log_loss(np.array(labels), np.array(proba)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("labels", "proba", "expected"),
    [
        ([0, 1, 1, 0], [0.1, 0.15, 0.8, 0.9], 0.5 * 0.375 + 0.25 * 0.2 + 0.25 * 0.9),
        ([0, 1], [0.5, 0.5], 0.0),
        ([1, 1, 1], [1.0, 1.0, 1.0], 0.0),  # p = 1 falls in the last bin
        ([0, 0], [0.3, 0.3], 0.3),
    ],
)
def test_ece_hand_computed(labels, proba, expected):
    assert expected_calibration_error(np.array(labels), np.array(proba)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: auc(np.r_[0, 1], np.r_[0.2]), "differ in size"),
        (lambda: auc(np.r_[0, 2], np.r_[0.2, 0.3]), "0 or 1"),
        (lambda: log_loss(np.r_[0, 1], np.r_[0.2, 1.3]), r"\[0, 1\]"),
        (lambda: expected_calibration_error(np.r_[0, 1], np.r_[0.2, np.nan]), "finite"),
    ],
)
def test_metrics_reject_bad_input(call, message):  # one class is no error: auc gives NaN
    with pytest.raises(ValueError, match=message):
        call()


def test_reliability_plot_writes_png(model, scenario, tmp_path):
    report = fit_report(model, scenario)
    path = plot_reliability({"fitted": report.curve, "true": report.true_curve}, tmp_path / "r.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow  # a subprocess fitting simulators; the report CLI is smoke-tested by default
def test_benchmark_script_smoke(tmp_path):
    script = [sys.executable, "-m", "benchmarks.simulator_fit", "--smoke"]
    subprocess.run([*script, "--datasets", "synthetic", "--out-dir", str(tmp_path)], check=True)
    for name in (*LAYOUT, "reliability_synthetic.png"):
        assert (tmp_path / name).stat().st_size > 0
    table = (tmp_path / "table.csv").read_text()
    assert all(name in table for name in ("ground_truth", "given_users", "no_popularity"))
