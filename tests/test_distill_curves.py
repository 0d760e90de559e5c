"""A distillation run logs the teacher's validation curve beside the student's."""

import csv

import pytest
from agents_testing import tiny_config

import distill  # noqa: F401  (registers the methods)
from agents.metrics import evaluate_offline
from agents.train import load_agent, run
from agents.training.config import load_scenario
from distill.options import DistillOptions


def curves(folder) -> dict[str, dict[int, float]]:
    """``{tag: {step: value}}`` of the ``eval/`` scalars of a run."""
    with open(folder / "scalars.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    tags: dict[str, dict[int, float]] = {}
    for row in rows:
        if row["tag"].startswith("eval/"):
            tags.setdefault(row["tag"], {})[int(row["step"])] = float(row["value"])
    return tags


def test_the_teacher_curve_has_the_students_tags_and_steps_and_its_own_values(tmp_path):
    config = tiny_config(
        tmp_path, agent="drl-rec", options=DistillOptions(pool_size=30), select_best=False
    )
    result = run(config)
    logged = curves(result.dir)
    student = {tag: steps for tag, steps in logged.items() if tag.startswith("eval/valid_")}
    assert {"eval/valid_auc", "eval/valid_gauc"} <= student.keys()
    for tag, steps in student.items():
        teacher = logged[tag.replace("eval/valid_", "eval/teacher_valid_")]
        assert list(teacher) == list(steps) == [3, 6]
    assert len(logged) == 2 * len(student)
    valid = load_scenario(config).splits.valid
    final = evaluate_offline(load_agent(result.dir, name="teacher"), valid)
    assert logged["eval/teacher_valid_auc"][6] == pytest.approx(final["auc"], abs=1e-12)
    assert logged["eval/teacher_valid_auc"] != logged["eval/valid_auc"]


def test_a_single_network_run_logs_no_side_curve(tmp_path):
    result = run(tiny_config(tmp_path, agent="teacher", select_best=False))
    assert not any("teacher_valid" in tag for tag in curves(result.dir))


def test_an_online_run_logs_the_teachers_clicks_on_the_same_requests(tmp_path):
    config = tiny_config(
        tmp_path, agent="drl-rec", options=DistillOptions(pool_size=30), mode="online"
    )
    logged = curves(run(config).dir)
    student = {tag: steps for tag, steps in logged.items() if tag.startswith("eval/valid_")}
    assert "eval/valid_clicks_per_list" in student
    for tag, steps in student.items():
        assert list(logged[tag.replace("eval/valid_", "eval/teacher_valid_")]) == list(steps)
    assert len(logged) == 2 * len(student)
