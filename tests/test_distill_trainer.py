"""DistillTrainer through the registry and the CLI: every method and ablation trains, the
teacher learns only from its RL loss, resume is exact, two-stage mode freezes the teacher."""

import json
from dataclasses import replace

import pytest
import torch
from agents_testing import tiny_config

import distill
from agents.nn.qnetwork import STUDENT, TEACHER
from agents.train import load_agent, run
from agents.training.checkpoint import load_checkpoint, save_checkpoint
from agents.training.config import Run, load_config, load_scenario
from agents.training.hooks import BEST_NAME
from agents.training.loop import CHECKPOINT_NAME
from agents.training.offline import load_selected
from distill.options import METHODS, DistillOptions
from distill.train import main
from distill.trainer import DistillTrainer
from rec_env.checks import InputError

SMALL_POOL = DistillOptions(pool_size=30)


def distill_config(tmp_path, agent="drl-rec", options=SMALL_POOL, **changes):
    return tiny_config(tmp_path, agent=agent, options=options, **changes)


def trainer_and_batch(config, tmp_path):
    """A fresh trainer (seeded) and one training batch of the tiny world."""
    from agents.training.config import seed_everything
    from agents.training.offline import offline_sampler

    this_run = Run(config, tmp_path, load_scenario(config), logger=None)
    generator = seed_everything(config)
    trainer = DistillTrainer(this_run)
    return trainer, offline_sampler(this_run, generator).sample(16)


def test_the_student_preset_is_the_teacher_at_half_width():
    assert DistillOptions().student_width == 0.5 and TEACHER.scaled(0.5) == STUDENT


def test_cli_trains_a_student_and_loads_both_networks(tmp_path, capsys):
    main(["--method", "drl-rec", "--dataset", "synthetic-tiny", "--pool-size", "30",
          "--filter", "random", "--steps", "2", "--eval-every", "2", "--batch-size", "8",
          "--width", "0.25", "--eval-lists", "20", "--eval-envs", "10",
          "--num-candidates", "20", "--out", str(tmp_path)])  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    config = load_config(result["run_dir"])
    assert config.agent == "drl-rec" and config.options == DistillOptions(
        pool_size=30, filter="random"
    )
    student = load_agent(result["run_dir"])
    teacher = load_agent(result["run_dir"], name="teacher")
    assert result["params"] == student.network.n_params() < 0.5 * teacher.network.n_params()


ABLATIONS = [
    DistillOptions(pool_size=30, explore=False),
    *(DistillOptions(pool_size=30, filter=name) for name in distill.FILTERS if name != "dual_led"),
    DistillOptions(pool_size=30, confidence="uniform"),
    DistillOptions(pool_size=30, kl=False),
    DistillOptions(pool_size=30, hint=False),
    DistillOptions(pool_size=30, kl_over="positions", teacher_temperature=10.0),
    DistillOptions(pool_size=30, q_regression_weight=1.0),
    *(DistillOptions(pool_size=30, lesson_mode=mode) for mode in ("train", "eval")),
    *(options(pool_size=30) for options in METHODS.values()),
]


def changed_fields(options: DistillOptions) -> str:
    """A test id: the method's class and the fields that differ from its defaults."""
    default = type(options)()
    changed = [f"{k}={v}" for k, v in vars(options).items() if v != getattr(default, k)]
    return "-".join([type(options).__name__, *changed])


@pytest.mark.parametrize("options", ABLATIONS, ids=changed_fields)
def test_every_method_and_ablation_makes_finite_losses(tmp_path, options):
    config = distill_config(tmp_path, options=options)
    trainer, batch = trainer_and_batch(config, tmp_path)
    before = {k: v.clone() for k, v in trainer.student.network.state_dict().items()}
    scalars = trainer.update(batch)
    assert all(torch.isfinite(torch.tensor(v)) for v in scalars.values()), scalars
    assert ("losses/kl" in scalars) == options.kl and ("losses/hint" in scalars) == options.hint
    assert ("losses/q_regression" in scalars) == (options.q_regression_weight > 0)
    if options.explore and options.filter != "none":
        assert 0 < scalars["distill/explored_per_state"] <= 2 * options.top_k
    after = trainer.student.network.state_dict()
    assert any(not torch.equal(v, after[k]) for k, v in before.items())


def test_the_teacher_learns_only_from_its_rl_loss(tmp_path):
    """With the distillation weights at 0 or at 10, one update moves the teacher identically."""
    teachers, students = [], []
    for weight in (0.0, 10.0):
        options = replace(SMALL_POOL, kl_weight=weight, hint_weight=weight)
        trainer, batch = trainer_and_batch(distill_config(tmp_path, options=options), tmp_path)
        trainer.update(batch)
        teachers.append(trainer.teacher.network.state_dict())
        students.append(trainer.student.network.state_dict())
    assert all(torch.equal(v, teachers[1][k]) for k, v in teachers[0].items())
    assert any(not torch.equal(v, students[1][k]) for k, v in students[0].items())


def test_resume_is_bit_identical(tmp_path):
    config = distill_config(tmp_path, options=replace(SMALL_POOL, filter="random"))
    straight = run(config)
    resumed = run(config, resume_dir=run(replace(config, steps=3)).dir)
    a, b = (load_checkpoint(r.dir / CHECKPOINT_NAME)["trainable"] for r in (straight, resumed))
    for side in ("teacher", "student"):
        assert all(torch.equal(v, b[side]["network"][k]) for k, v in a[side]["network"].items())
    assert torch.equal(a["generator"], b["generator"])
    assert resumed.metrics["test"] == straight.metrics["test"]


def test_two_stage_mode_keeps_the_pretrained_teacher_frozen(tmp_path):
    teacher_run = run(tiny_config(tmp_path, agent="teacher", steps=2, select_best=False))
    trained = load_agent(teacher_run.dir).network.state_dict()
    options = replace(SMALL_POOL, teacher_from=str(teacher_run.dir))
    result = run(distill_config(tmp_path, options=options, steps=3, select_best=False))
    teacher = load_agent(result.dir, name="teacher").network.state_dict()
    assert all(torch.equal(v, teacher[k]) for k, v in trained.items())


def test_two_stage_mode_refuses_a_teacher_of_other_data(tmp_path):
    teacher_run = run(tiny_config(tmp_path, agent="teacher", steps=1, split_seed=1))
    options = replace(SMALL_POOL, teacher_from=str(teacher_run.dir))
    with pytest.raises(ValueError, match="split_seed"):
        run(distill_config(tmp_path, options=options, steps=1))


def test_two_stage_mode_refuses_a_teacher_of_other_items(tmp_path):
    teacher_run = run(tiny_config(tmp_path, agent="teacher", steps=1, select_best=False))
    saved = teacher_run.dir / "vocabularies.json"
    vocabularies = json.loads(saved.read_text())
    vocabularies["items"]["size"] -= 1  # as if the teacher's log had one item fewer
    saved.write_text(json.dumps(vocabularies))
    options = replace(SMALL_POOL, teacher_from=str(teacher_run.dir))
    with pytest.raises(InputError, match="teacher_from=.*item_id vocabulary"):
        run(distill_config(tmp_path, options=options, steps=1))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"filter": "tops"}, "filter must be one of"),
        ({"top_k": 31, "pool_size": 30}, r"top_k \(31\) must be <= pool_size \(30\)"),
        ({"top_k": 0}, "top_k must be >= 1"),
        ({"ranking_weight": 0.3}, "ranking_weight > 0 needs"),
        ({"kl": False, "hint": False}, "nothing to distill"),
        ({"q_regression_weight": -1.0}, "DistillOptions.q_regression_weight must be >= 0"),
        ({"lesson_mode": "both"}, "DistillOptions.lesson_mode must be one of 'mixed'"),
        ({"student_width": 0.0}, "student_width must be > 0"),
    ],
)
def test_bad_options_fail_with_the_field_named(changes, message):
    with pytest.raises(ValueError, match=message):
        DistillOptions(**changes)


def test_online_distillation_runs(tmp_path):
    result = run(distill_config(tmp_path, mode="online", steps=3))
    assert result.metrics["online"]["n_lists"] == 20


def test_help_lists_the_methods_own_flags(capsys):
    with pytest.raises(SystemExit):
        main(["--method", "kd", "--help"])
    out = capsys.readouterr().out
    assert all(flag in out for flag in ("--no-explore", "--filter", "--kl-over", "--teacher-from"))


@pytest.mark.parametrize(("mode", "teacher_fixed", "student_fixed"), [
    ("mixed", True, False), ("train", False, False), ("eval", True, True),
])  # fmt: skip
def test_lesson_mode_sets_the_dropout_of_each_sides_lesson_scores(
    tmp_path, mode, teacher_fixed, student_fixed
):
    """Two lessons of the same states and pool: a side's scores made in eval mode repeat,
    those made with dropout on (0.1 in the tiny network) do not."""
    options = replace(SMALL_POOL, lesson_mode=mode)
    trainer, batch = trainer_and_batch(distill_config(tmp_path, options=options), tmp_path)
    trainer.teacher.network.train()
    trainer.student.network.train()
    teacher, student = trainer.teacher.compute(batch), trainer.student.compute(batch)
    draws = trainer.generator.get_state()
    first = trainer.lesson(batch, teacher, student)
    trainer.generator.set_state(draws)
    second = trainer.lesson(batch, teacher, student)
    assert torch.equal(first.valid, second.valid) and first.valid[:, 1:].any()
    assert torch.equal(first.teacher_q, second.teacher_q) == teacher_fixed
    assert torch.equal(first.student_q, second.student_q) == student_fixed


def test_the_hint_projection_is_kept_with_the_selected_student(tmp_path):
    result = run(distill_config(tmp_path, steps=4, eval_every=2))
    best = result.dir / BEST_NAME
    kept = load_checkpoint(best)["networks"]
    config = load_config(result.dir)
    trainer = DistillTrainer(Run(config, result.dir, load_scenario(config), None, resume=True))
    fresh = {k: v.clone() for k, v in trainer.projection.state_dict().items()}
    load_selected(best, trainer)
    loaded = trainer.projection.state_dict()
    assert set(kept) == {"teacher", "student", "hint_projection"}
    assert all(torch.equal(v, kept["hint_projection"][k]) for k, v in loaded.items())
    assert any(not torch.equal(v, fresh[k]) for k, v in loaded.items())
    # a best.pt written before the projection was kept still loads its student
    save_checkpoint(best, {"networks": {k: kept[k] for k in ("teacher", "student")}, "step": 2})
    student = load_agent(result.dir).network.state_dict()
    assert all(torch.equal(v, kept["student"][k]) for k, v in student.items())
