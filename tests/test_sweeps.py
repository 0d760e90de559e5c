"""The DRL-Rec sweeps (ablations, compression, k): variants, reuse of earlier runs, paired
comparisons, figures, and each script at smoke size."""

import math
import os
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agents.nn.qnetwork import STUDENT, TEACHER
from agents.training.config import save_config
from agents.training.runner import METRICS_NAME
from benchmarks import ablations, compression, k_sweep, main_table
from benchmarks.harness import sections as main_table_sections
from benchmarks.harness import sweep
from benchmarks.harness.cells import finished_runs, run_key
from benchmarks.harness.sweep_plots import plot_differences, plot_lines
from rec_env.checks import InputError

SCRIPTS = {"ablations": ablations, "compression": compression, "k_sweep": k_sweep}


def options_changed(config, variant) -> dict:
    """The DRL-Rec options of ``variant``'s run that differ from full DRL-Rec's."""
    full = asdict(sweep.train_config(config, sweep.DRL_REC, 0).options)
    ours = asdict(sweep.train_config(config, variant, 0).options)
    return {name: value for name, value in ours.items() if value != full[name]}


def test_each_ablation_changes_its_one_option():
    config = ablations.Config()
    lines = ablations.variants(config)
    assert [v.label for v in lines[:3]] == ["teacher", "student", "drl-rec"]
    changed = {v.label: options_changed(config, v) for v in lines[3:]}
    assert changed == ablations.ABLATIONS
    assert {"filter=teacher_led", "filter=student_led", "filter=random"} <= set(changed)
    assert "filter=dual_led" not in changed


def test_the_ablations_report_describes_exactly_the_variants_it_ran():
    assert set(ablations.DESCRIPTIONS) == set(ablations.ABLATIONS)
    table = pd.read_csv(Path(__file__).resolve().parents[1] / "results/ablations/table.csv")
    config = ablations.Config(ablations=("no-kl", "no-hint"))
    intro = ablations.summary_text(config, table).split("\n\n")[1]
    assert "(distill.options): `no-kl`: no KL; `no-hint`: no hint. " in intro
    assert "`no-explore`" not in intro


def test_k_zero_is_drl_rec_without_exploration():
    config = k_sweep.Config()
    assert options_changed(config, k_sweep.k_variant(0)) == {"explore": False}
    assert options_changed(config, k_sweep.k_variant(3)) == {}  # the default k
    assert options_changed(config, k_sweep.k_variant(10)) == {"top_k": 10}
    assert k_sweep.k_variant(0).options == ablations.ABLATIONS["no-explore"]  # one run


@pytest.mark.parametrize("width", [*compression.Config().widths, 0.1, 0.35, 1.0])
def test_student_alone_and_drl_rec_serve_the_same_network_at_each_width(width):
    student, drl_rec = (
        sweep.train_config(compression.Config(), v, 0) for v in compression.width_variants(width)
    )
    assert (student.agent, drl_rec.agent, drl_rec.width) == ("student", "drl-rec", 1.0)
    alone = STUDENT if student.width == 1.0 else STUDENT.scaled(student.width)
    assert alone == TEACHER.scaled(drl_rec.options.student_width)  # agents.training.networks


def test_sweep_settings_reach_the_runs():
    config = k_sweep.Config(steps=7, eval_every=3, base_options={"kl_weight": 0.5})
    train = sweep.train_config(config, k_sweep.k_variant(5), 2)
    assert (train.steps, train.eval_every, train.seed, train.out) == (7, 3, 2, "runs/k_sweep")
    assert (train.options.kl_weight, train.options.top_k) == (0.5, 5)
    assert train.mf_warm_start and train.dataset == "synthetic-gap"  # the main table's


@pytest.mark.parametrize(
    ("script", "changes", "field"),
    [
        (k_sweep, {"ks": (3, -1)}, "Config.ks"),
        (compression, {"widths": (0.5, 1.5)}, "Config.widths"),
        (ablations, {"ablations": ("no-kl", "no-teacher")}, "Config.ablations"),
        (k_sweep, {"steps": 0}, "Config.steps"),
        (ablations, {"base_options": {"top_k": 0}}, "DistillOptions.top_k"),
        (compression, {"seeds": ()}, "Config.seeds"),
    ],
)
def test_bad_settings_name_their_field(script, changes, field):
    with pytest.raises(InputError, match=field):
        script.Config(**changes)


def scored(table: pd.DataFrame, metric: str, values: dict[str, list[float]]) -> pd.DataFrame:
    """``table`` rows for each label of ``values`` (one value per seed)."""
    rows = [
        {"dataset": "d", "variant": label, "method": label.split()[0], "seed": seed, metric: v}
        for label, scores in values.items()
        for seed, v in enumerate(scores)
    ]
    return pd.concat([table, pd.DataFrame(rows)], ignore_index=True)


def test_comparison_pairs_by_seed_with_its_interval_and_gap():
    table = scored(
        pd.DataFrame(),
        "auc",
        {
            "teacher": [0.80, 0.82, 0.84],
            "student": [0.70, 0.71, 0.72],
            "drl-rec": [0.72, 0.72, 0.75],  # differences 0.02, 0.01, 0.03
            "drl-rec b": [0.70, 0.70, 0.70],
        },
    )
    pairs = [("drl-rec", "student"), ("drl-rec b", "drl-rec")]
    result = sweep.comparison(table, "auc", pairs).set_index("variant")
    row = result.loc["drl-rec"]
    assert row["diff"] == pytest.approx(0.02) and row["n_seeds"] == 3
    assert row["ci95"] == pytest.approx(4.302653 * 0.01 / math.sqrt(3), rel=1e-5)  # t(0.975, 2)
    assert row["gap_closed"] == pytest.approx(0.02 / 0.11)  # (0.73 - 0.71) / (0.82 - 0.71)
    other = result.loc["drl-rec b"]
    assert other["diff"] == pytest.approx(-(0.02 + 0.02 + 0.05) / 3)
    assert math.isnan(other["gap_closed"])  # the reference is no student
    assert other["reference_method"] == "drl-rec"


def test_sections_per_metric_and_non_empty_pair_set():
    table = scored(pd.DataFrame(), "auc", {"teacher": [0.8, 0.8], "student": [0.7, 0.71]})
    table = scored(table, "auc", {"drl-rec": [0.72, 0.7]})
    for metric in main_table_sections.COMPARED:
        table[metric] = table["auc"]
    against = {"vs the student": [("drl-rec", "student")], "vs drl-rec": []}
    text = sweep.sections(table, against)
    assert text.count("## ") == len(main_table_sections.COMPARED) and "vs drl-rec" not in text
    assert "| d | drl-rec | 0.7100 +- 0.0141 | +0.0050 |" in text and "gap closed" in text


def fake_runs(tmp_path, config, variants) -> str:
    """A table of finished runs, one per cell, whose folders hold the cells' configs."""
    rows = []
    for i, (variant, seed) in enumerate((v, s) for v in variants for s in config.seeds):
        train = replace(sweep.train_config(config, variant, seed), out=str(tmp_path / "old"))
        folder = tmp_path / "old" / f"run{i}"
        folder.mkdir(parents=True)
        save_config(train, {}, folder)
        row = {name: 0.7 + 0.01 * seed for name in main_table.ROW_COLUMNS}
        params = 100 if variant.method == "teacher" else 100 * variant.width
        rows.append(
            row
            | {"dataset": train.dataset, "method": train.agent, "seed": seed, "params": params}
            | {"run_dir": str(folder)}
        )
    path = tmp_path / "old.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def test_identical_runs_are_reused_instead_of_trained(tmp_path):
    config = compression.Config(seeds=(0, 1), widths=(0.3,), jobs=1)
    lines = [sweep.TEACHER, *compression.width_variants(0.3)]
    old = fake_runs(tmp_path, config, lines)
    assert len(sweep.reusable_rows((old, str(tmp_path / "missing.csv")))) == 6
    table = sweep.train_all(replace(config, reuse_from=(old,)), lines, "width")
    assert list(table["variant"]) == ["teacher"] * 2 + ["student w=0.3"] * 2 + ["drl-rec w=0.3"] * 2
    assert (table["source"] == old).all() and table["seed"].tolist() == [0, 1] * 3
    assert np.isnan(table["width"].iloc[0]) and (table["width"].iloc[2:] == 0.3).all()
    assert "6 from" in sweep.reuse_note(table)
    other = replace(config, eval_every=config.eval_every + 1)  # another run: nothing to reuse
    keys = {run_key(sweep.train_config(other, v, s)) for v in lines for s in (0, 1)}
    assert not keys & set(sweep.reusable_rows((old,)))


def test_finished_runs_in_the_runs_folder_are_found_unfinished_ones_are_not(tmp_path):
    config = replace(compression.Config(seeds=(0, 1)), runs_dir=str(tmp_path / "runs"))
    cells = {
        name: sweep.train_config(config, sweep.TEACHER, seed) for seed, name in enumerate("ab")
    }
    for name, train in [*cells.items(), ("0", cells["a"])]:  # 0: a's cell again
        (tmp_path / "runs" / name).mkdir(parents=True)
        save_config(train, {}, tmp_path / "runs" / name)
    for name, finished_at in (("a", 1_000), ("0", 2_000)):  # b never finished; 0 finished last
        metrics = tmp_path / "runs" / name / METRICS_NAME
        metrics.write_text("{}")
        os.utime(metrics, (finished_at, finished_at))
    finished = finished_runs(config.runs_dir)
    assert finished == {run_key(cells["a"]): tmp_path / "runs" / "0"}
    assert finished_runs(str(tmp_path / "missing")) == {}


def test_a_stopped_sweep_resumes_from_its_finished_runs(tmp_path, capsys):
    config = ablations.Config(**sweep.SMOKE | {"seeds": (0,), "reuse": True})
    config = replace(config, runs_dir=str(tmp_path / "runs"), reuse_from=())
    first = sweep.train_all(config, [sweep.TEACHER])
    table = sweep.train_all(config, [sweep.TEACHER, sweep.STUDENT])
    assert "1 of 2 runs finished before, 1 to train" in capsys.readouterr().out
    assert table["source"].tolist() == [config.runs_dir, "trained"]
    resumed, trained = (t.iloc[0].drop("source") for t in (table, first))
    pd.testing.assert_series_equal(resumed, trained, check_names=False)
    assert len(list((tmp_path / "runs").iterdir())) == 2  # the teacher was not trained again


@pytest.mark.parametrize("log_x", [False, True])
def test_figures_are_written(tmp_path, log_x):
    table = scored(pd.DataFrame(), "auc", {"teacher": [0.8, 0.81], "student": [0.7, 0.72]})
    table = scored(table, "auc", {"drl-rec a": [0.71, 0.7], "drl-rec b": [0.73, 0.74]})
    table["expected_clicks_per_list"] = table["auc"] * 3
    table["k"] = table["variant"].map({"drl-rec a": 1, "drl-rec b": 3})
    levels = ("student", "teacher")
    path = plot_lines(table, "k", "k", ("drl-rec",), levels, tmp_path / "l.png", log_x=log_x)
    assert path.read_bytes()[:4] == b"\x89PNG"
    pairs = [("drl-rec a", "drl-rec b"), ("student", "drl-rec b")]
    compared = {m: sweep.comparison(table, m, pairs) for m in ("auc", "expected_clicks_per_list")}
    path = plot_differences(compared, "drl-rec b", tmp_path / "d.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_smoke_run_writes_the_results_and_the_figure(tmp_path, name):
    argv = ["--smoke", "--out-dir", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")]
    subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *argv], check=True)
    for file in ("table.csv", "summary.md", "config.json", "command.txt", f"{name}.png"):
        assert (tmp_path / "out" / file).stat().st_size > 0
    table = pd.read_csv(tmp_path / "out" / "table.csv")
    config = SCRIPTS[name].parse_args(argv)
    assert table.groupby("variant").size().eq(len(config.seeds)).all()
    assert table[list(main_table_sections.COMPARED)].notna().all().all()
    assert (table["source"] == "trained").all()
    if name == "compression":  # DRL-Rec's student and the student alone: one network
        params = table.groupby("width")["params"].nunique()
        assert (params == 1).all() and len(params) == len(config.widths)
