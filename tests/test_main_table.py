"""The main table: paired tests against the student alone, the gap closed, the script at smoke
size with both AUCs and the online score of every method."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from benchmarks.main_table import main, parse_args
from benchmarks.paired import compare, gap_closed, paired_test


def test_paired_test_by_hand():
    baseline = np.array([0.70, 0.70, 0.71, 0.69, 0.72])
    method = baseline + np.array([0.01, 0.02, 0.03, 0.02, 0.02])
    result = paired_test(method, baseline)
    # mean 0.02, sd sqrt(0.0002 / 4), t = 0.02 / (sd / sqrt 5) = 6.325 with 4 degrees of freedom
    assert result["diff"] == pytest.approx(0.02)
    assert result["p_ttest"] == pytest.approx(2 * stats.t.sf(6.3246, 4), rel=1e-3)
    assert result["p_wilcoxon"] == pytest.approx(0.0625) and result["verdict"] == "beats"
    assert paired_test(baseline, method)["verdict"] == "loses"
    assert paired_test(method[:2], baseline[:2])["verdict"] == "untested"  # 1 degree of freedom
    same = paired_test(baseline, baseline)
    assert same["verdict"] == "on par" and math.isnan(same["p_ttest"])
    with pytest.raises(ValueError, match="differ in shape"):
        paired_test(method, baseline[:2])


def test_gap_closed():
    assert gap_closed(0.75, 0.70, 0.80) == pytest.approx(0.5)
    assert gap_closed(0.65, 0.70, 0.80) == pytest.approx(-0.5)
    assert math.isnan(gap_closed(0.75, 0.80, 0.70))


def test_compare_pairs_rows_by_seed():
    table = pd.DataFrame(
        {
            "dataset": ["d"] * 6,
            "method": ["student", "teacher", "x"] * 2,
            "seed": [1, 1, 1, 0, 0, 0],
            "auc": [0.70, 0.81, 0.72, 0.60, 0.69, 0.64],
        }
    )
    result = compare(table, "auc").set_index("method")
    assert result.loc["x", "diff"] == pytest.approx(0.03)  # (0.02 + 0.04) / 2, paired by seed
    assert result.loc["x", "gap_closed"] == pytest.approx(0.3)
    assert math.isnan(result.loc["student", "diff"])


def test_smoke_run_scores_every_method(tmp_path):
    argv = ["--smoke", "--out-dir", str(tmp_path / "out"), "--runs-dir", str(tmp_path / "runs")]
    table = main(parse_args(argv))
    config = parse_args(argv)
    assert len(table) == len(config.methods) * len(config.seeds)
    metrics = ["auc", "auc_items_only", "gauc", "ndcg_at_10", "expected_clicks_per_list"]
    assert table[metrics].notna().all().all()
    params = table.groupby("method")["params"].first()
    assert params.drop("mf").gt(0).all() and math.isnan(params["mf"])  # MF has no network
    distilled = params.drop(["teacher", "mf"])
    assert (distilled < 0.5 * params["teacher"]).all()  # every other method serves a student
    mf = table[table["method"] == "mf"]
    assert (mf["auc_items_only"] == mf["auc"]).all()  # MF never reads the prefix clicks
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "## auc_items_only" in summary and "gap closed" in summary
    assert "## expected_clicks_per_list: teacher vs logistic MF" in summary
