"""TrainConfig.train_share: a seeded share of the train lists, the rest of the data untouched;
runs with another share are other runs; the data-limited positive control trains."""

import json
from dataclasses import asdict, replace

import numpy as np
import pytest
from agents_testing import tiny_config

from agents.data.share import kept_rows
from agents.train import parse_args, run
from agents.training.config import Run, TrainConfig, load_config, load_scenario
from benchmarks.harness.cells import run_key
from distill.options import DistillOptions
from rec_env.checks import InputError


def splits_of(config: TrainConfig):
    return Run(config, None, load_scenario(config), logger=None).splits


def rows_of(lists) -> set[int]:
    return set(lists.request_ids.tolist())


@pytest.mark.parametrize("share", [0.05, 0.5, 0.9])
def test_the_kept_lists_are_a_seeded_subset_of_round_share_n(tmp_path, share):
    whole = splits_of(tiny_config(tmp_path))
    kept = [splits_of(tiny_config(tmp_path, train_share=share, seed=s)) for s in (0, 0, 1)]
    n = len(whole.train)
    assert [len(k.train) for k in kept] == [round(share * n)] * 3
    assert all(rows_of(k.train) <= rows_of(whole.train) for k in kept)
    assert rows_of(kept[0].train) == rows_of(kept[1].train) != rows_of(kept[2].train)
    for name in ("valid", "test"):
        assert all(rows_of(getattr(k, name)) == rows_of(getattr(whole, name)) for k in kept)
    assert kept[0].train.item_features is whole.train.item_features


def test_a_share_of_one_keeps_every_list(tmp_path):
    config = tiny_config(tmp_path)
    assert splits_of(config) is load_scenario(config).splits


def test_the_kept_rows_are_sorted_and_distinct():
    rows = kept_rows(1000, 0.3, seed=4)
    assert len(rows) == 300 and np.all(np.diff(rows) > 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"train_share": 0.0}, r"TrainConfig.train_share must be in \(0, 1\], got 0.0"),
        ({"train_share": 1.5}, r"TrainConfig.train_share must be in \(0, 1\], got 1.5"),
        ({"train_share": "0.5"}, r"TrainConfig.train_share must be a number"),
        ({"train_share": 0.5, "mode": "online"}, r"TrainConfig.train_share \(0.5\) .* offline"),
    ],
)
def test_a_bad_share_fails_naming_the_field(changes, message):
    with pytest.raises(InputError, match=message):
        TrainConfig(**changes)


def test_a_share_that_keeps_no_list_fails_naming_the_field(tmp_path):
    with pytest.raises(InputError, match=r"train_share=0.0001 keeps no list of the 400"):
        splits_of(tiny_config(tmp_path, train_share=1e-4))


def test_the_share_is_a_flag_and_part_of_the_run_key():
    config, _ = parse_args(["--agent", "teacher", "--train-share", "0.05"])
    assert config.train_share == 0.05
    assert run_key(config) != run_key(replace(config, train_share=1.0))


def test_a_config_saved_before_the_new_fields_keeps_its_run_key(tmp_path):
    """A run folder written before train_share and the Q-regression options existed loads
    with their defaults: the same key as the same config built today (committed runs reuse)."""
    config = TrainConfig(agent="drl-rec", out=str(tmp_path))
    train = asdict(config)
    train.pop("train_share")
    for name in ("q_regression_weight", "lesson_mode"):
        train["options"].pop(name)
    (tmp_path / "config.json").write_text(json.dumps({"train": train, "agent_module": None}))
    assert run_key(load_config(tmp_path)) == run_key(config)


def test_a_data_limited_student_of_the_teachers_width_distils_from_a_frozen_teacher(tmp_path):
    """The positive control: a teacher on all the lists, frozen; a student of its architecture
    on a share of them."""
    teacher = run(tiny_config(tmp_path, agent="teacher", steps=2, select_best=False))
    options = DistillOptions(pool_size=30, student_width=1.0, teacher_from=str(teacher.dir))
    result = run(tiny_config(tmp_path, agent="drl-rec", options=options, train_share=0.2))
    assert load_config(result.dir).train_share == 0.2
    assert set(result.metrics["train"]) == set(result.metrics["test"])  # scored on kept lists
    assert "train" not in teacher.metrics
    assert 0.0 <= result.metrics["test"]["auc"] <= 1.0
    assert result.metrics["params"] == teacher.metrics["params"]
