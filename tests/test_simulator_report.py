"""The fit report's reference models, their rows in the report, and the report's command line."""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rec_env import Scenario
from rec_env.data import LoggedLists, load_dataset
from rec_env.simulator import (
    ConstantModel,
    LogClickConfig,
    PositionItemModel,
    PositionModel,
    fit_log_model,
    fit_report,
    logged_proba,
)
from rec_env.simulator.__main__ import main
from rec_env.simulator.baselines import BASELINES
from rec_env.simulator.metrics import auc

POSITION_ONLY = {"popularity_scale": 0.0, "affinity_scale": 0.0, "fatigue": 0.0, "click_shift": 0.0}
"""A synthetic world whose click probability depends on the slot only."""


def hand_built_log() -> LoggedLists:
    """Four lists of K = 2 over items 0..2; the last one shows one item."""
    items = np.array([[0, 1], [1, 0], [0, 2], [2, -1]])
    clicks = np.array([[1, 0], [1, 1], [0, 0], [1, 0]], dtype=np.int8)
    return LoggedLists(
        items=items,
        clicks=clicks,
        mask=items >= 0,
        user_ids=np.array([0, 1, 0, 1]),
        request_ids=np.arange(4),
        timestamps=np.full(4, np.nan),
        item_features=np.zeros((3, 1), dtype=np.float32),
        user_features=np.zeros((2, 1), dtype=np.float32),
    )


# By hand: slot 0 shows 4 items, 3 clicked; slot 1 shows 3, 1 clicked; 4 clicks in 7 slots.
RATES = np.array([3 / 4, 1 / 3])
OVERALL = 4 / 7
CLICKS = np.array([2.0, 1.0, 1.0])  # per item
EXPECTED = np.array([3 / 4 + 1 / 3 + 3 / 4, 1 / 3 + 3 / 4, 1 / 3 + 3 / 4])  # sum of slot rates


def _proba(model, candidates, position) -> np.ndarray:
    b = len(position)
    empty = np.full((b, 2), -1)
    return model.click_proba(np.zeros(b, int), empty, empty * 0, candidates, position)


def test_constant_and_position_baselines_match_hand_counts():
    log = hand_built_log()
    position = np.array([0, 1, 1])
    constant = _proba(ConstantModel.fit(log), np.array([0, 1, 2]), position)
    np.testing.assert_allclose(constant, OVERALL, rtol=1e-6)
    by_slot = _proba(PositionModel.fit(log), np.array([[0, 1], [2, 0], [1, 1]]), position)
    np.testing.assert_allclose(by_slot, RATES[position][:, None].repeat(2, 1), rtol=1e-6)
    assert by_slot.shape == (3, 2) and by_slot.dtype == np.float32


@pytest.mark.parametrize("prior_impressions", [0.0, 1.0, 10.0])
def test_position_item_baseline_is_smoothed_coec(prior_impressions):
    model = PositionItemModel.fit(hand_built_log(), prior_impressions)
    prior = prior_impressions * OVERALL
    factors = (CLICKS + prior) / (EXPECTED + prior)
    np.testing.assert_allclose(model.factors, factors)
    candidates, position = np.array([0, 1, 2, 2]), np.array([0, 1, 0, 1])
    expected = np.minimum(1.0, RATES[position] * factors[candidates])
    np.testing.assert_allclose(_proba(model, candidates, position), expected, rtol=1e-6)


def test_an_item_never_shown_gets_its_slots_rate():
    log = hand_built_log()
    wider = LoggedLists(**{**log.__dict__, "item_features": np.zeros((4, 1), np.float32)})
    model = PositionItemModel.fit(wider, prior_impressions=0.0)
    assert model.factors[3] == 1.0
    np.testing.assert_allclose(_proba(model, np.array([3, 3]), np.array([0, 1])), RATES, 1e-6)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda log: PositionItemModel.fit(log, -1.0), ValueError, "prior_impressions"),
        (lambda log: ConstantModel.fit(log.subset(np.array([], int))), ValueError, "no shown"),
    ],
)
def test_baselines_reject_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call(hand_built_log())


@pytest.fixture(scope="module")
def scenario(dataset):
    return Scenario.from_dataset(dataset, split="request", split_seed=1)


@pytest.fixture(scope="module")
def fitted(scenario):
    splits = scenario.splits
    return fit_log_model(splits.train, splits.valid, LogClickConfig(seed=1), progress=False)


def test_report_scores_every_baseline_on_the_same_test_rows(fitted, scenario):
    report = fit_report(fitted, scenario)
    table = report.table()
    assert list(table["model"]) == [
        "constant",
        "position",
        "position_item",
        "fitted",
        "ground_truth",
    ]
    test = scenario.splits.test
    labels = test.clicks[test.mask]
    for name, fit in BASELINES.items():
        proba = logged_proba(fit(scenario.splits.train), test)[test.mask]
        assert report.baselines[name].auc == pytest.approx(auc(labels, proba))
    assert table.set_index("model").loc["constant", "auc"] == 0.5
    best = max(report.baselines[name].auc for name in BASELINES)
    gains = table.set_index("model")["auc_gain"]
    assert gains["fitted"] == pytest.approx(report.auc - best)
    assert "fitted AUC - best baseline AUC" in report.to_text()


def test_fitted_model_beats_the_position_baseline_where_users_have_tastes(fitted, scenario):
    report = fit_report(fitted, scenario)
    assert report.auc > report.baselines["position"].auc + 0.01
    assert report.true_auc > report.baselines["position_item"].auc + 0.05  # taste to learn


def test_fitted_model_gains_nothing_over_position_where_clicks_depend_on_position_only():
    dataset = load_dataset(
        "synthetic", n_users=200, n_items=300, n_requests=2000, progress=False, **POSITION_ONLY
    )
    scenario = Scenario.from_dataset(dataset, split="request", split_seed=0)
    splits = scenario.splits
    model = fit_log_model(splits.train, splits.valid, LogClickConfig(), progress=False)
    report = fit_report(model, scenario)
    position = report.baselines["position"].auc
    assert report.auc < position + 0.02
    assert report.true_auc == pytest.approx(position, abs=0.01)  # the position rate is the truth
    assert "learned little" in report.to_text()


@pytest.mark.parametrize(
    ("model", "n_bins", "error", "message"),
    [
        (ConstantModel(0.1, 10), 0, ValueError, "n_bins"),
        (ConstantModel(0.1, 3), 10, ValueError, "built for 3 slots"),
        ("a model", 10, TypeError, "UserModel"),
    ],
)
def test_report_rejects_bad_input(scenario, model, n_bins, error, message):
    with pytest.raises(error, match=message):
        fit_report(model, scenario, n_bins)


def test_cli_reports_a_log_file(tiny_dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REC_ENV_DATA", str(tmp_path / "cache"))
    log = tiny_dataset.log[["user_id", "request_id", "position", "item_id", "click"]]
    log.to_csv(tmp_path / "mylog.csv", index=False)
    main(["report", str(tmp_path / "mylog.csv"), "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "position_item" in printed and "fitted AUC - best baseline AUC" in printed
    table = pd.read_csv(tmp_path / "out" / "table.csv")
    assert list(table["model"]) == ["constant", "position", "position_item", "fitted"]
    assert (tmp_path / "out" / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    assert list((tmp_path / "cache" / "models").glob("mylog-*.pt"))  # the env's cached model


def test_cli_fits_the_model_options_given_and_prints_its_configuration(
    tiny_dataset, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("REC_ENV_DATA", str(tmp_path / "cache"))
    tiny_dataset.save(tmp_path / "mylog.parquet")
    flags = ["--dim", "3", "--epochs", "2", "--no-use-context", "--embedding-l2", "0.5"]
    main(["report", str(tmp_path / "mylog.parquet"), "--out", str(tmp_path / "out"), *flags])
    printed = capsys.readouterr().out
    assert "fitted LogClickConfig(dim=3, epochs=2," in printed
    assert "embedding_l2=0.5," in printed and "use_context=False," in printed
    written = json.loads((tmp_path / "out" / "config.json").read_text())
    expected = LogClickConfig(dim=3, epochs=2, use_context=False, embedding_l2=0.5)
    assert written == dataclasses.asdict(expected)


def test_every_click_model_field_is_a_report_flag(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    shown = capsys.readouterr().out
    for field in dataclasses.fields(LogClickConfig):
        flag = "--" + field.name.replace("_", "-")
        assert flag in shown, flag


@pytest.mark.parametrize("field", dataclasses.fields(LogClickConfig), ids=lambda f: f.name)
def test_readme_documents_every_report_flag_with_its_default(field):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    row = f"| `--{field.name.replace('_', '-')}` | `{field.default}` | "
    assert row in readme


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "no-such-dataset"], "unknown dataset 'no-such-dataset'"),
        (["report", "synthetic-tiny", "--dim", "0"], "LogClickConfig.dim must be >= 1"),
        (["report", "synthetic-tiny", "--lr", "x"], "--lr: invalid float value"),
        (["report", "missing.csv"], "not found"),
        (["report", "synthetic-tiny", "--bins", "0"], "--bins must be >= 1"),
    ],
)
def test_cli_rejects_bad_input_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow  # a fresh interpreter imports torch: about 10 s on a busy CPU
def test_cli_runs_as_a_module(tmp_path):
    command = [sys.executable, "-m", "rec_env.simulator", "report", "synthetic-tiny"]
    env = {**os.environ, "REC_ENV_DATA": str(tmp_path / "cache")}
    done = subprocess.run(
        [*command, "--out", str(tmp_path)], env=env, capture_output=True, text=True, check=True
    )
    assert "ground_truth" in done.stdout
    assert (tmp_path / "reliability.png").stat().st_size > 0
