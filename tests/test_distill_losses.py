"""Distillation losses against hand-computed values; the teacher never gets a gradient."""

import math

import pytest
import torch

from distill.losses import confidence_scaled, hint_loss, listwise_kl, q_regression, ranking_loss
from distill.options import OFFICIAL_KL, DistillOptions

VALID = torch.tensor([[True, True, False]])


def test_kl_by_hand_ignores_masked_entries():
    teacher = torch.tensor([[0.0, math.log(3.0), 7.0]])  # softmax over the valid two: 1/4, 3/4
    student = torch.tensor([[0.0, 0.0, -4.0]])  # 1/2, 1/2
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert listwise_kl(teacher, student, VALID).item() == pytest.approx(expected, rel=1e-6)
    hotter = listwise_kl(2 * teacher, student, VALID, teacher_temperature=2.0)
    assert hotter.item() == pytest.approx(expected, rel=1e-6)


def test_kl_is_zero_when_the_student_equals_the_teacher():
    scores = torch.randn(4, 6)
    assert listwise_kl(
        scores, scores.clone(), torch.ones(4, 6, dtype=torch.bool)
    ).item() == pytest.approx(0, abs=1e-6)


def test_kl_averages_over_states_with_a_lesson_only():
    teacher, student = torch.tensor([[0.0, math.log(3.0)], [1.0, 2.0]]), torch.zeros(2, 2)
    valid = torch.tensor([[True, True], [False, False]])
    one = listwise_kl(teacher[:1], student[:1], valid[:1])
    assert listwise_kl(teacher, student, valid).item() == pytest.approx(one.item())


def test_no_gradient_reaches_the_teacher():
    teacher = torch.randn(3, 4, requires_grad=True)
    student = torch.randn(3, 4, requires_grad=True)
    valid = torch.ones(3, 4, dtype=torch.bool)
    hint_t, hint_s = (
        torch.randn(3, 4, 5, requires_grad=True),
        torch.randn(3, 4, 5, requires_grad=True),
    )
    (listwise_kl(teacher, student, valid) + hint_loss(hint_s, hint_t, valid)).backward()
    assert teacher.grad is None and hint_t.grad is None
    assert student.grad is not None and hint_s.grad is not None


def test_confidence_scales_the_gradient_not_the_value():
    teacher = torch.randn(2, 5)
    valid = torch.ones(2, 5, dtype=torch.bool)
    confidence = torch.rand(2, 5)
    student = torch.randn(2, 5, requires_grad=True)
    plain = listwise_kl(teacher, student, valid)
    (plain_grad,) = torch.autograd.grad(plain, student)
    scaled = listwise_kl(teacher, student, valid, confidence)
    (scaled_grad,) = torch.autograd.grad(scaled, student)
    assert scaled.item() == pytest.approx(plain.item())
    torch.testing.assert_close(scaled_grad, confidence * plain_grad)
    assert torch.equal(confidence_scaled(student, confidence), student)


def test_hint_loss_by_hand():
    student = torch.tensor([[[1.0, 2.0], [9.0, 9.0]]])
    teacher = torch.zeros(1, 2, 2)
    valid = torch.tensor([[True, False]])
    confidence = torch.tensor([[0.5, 1.0]])
    assert hint_loss(student, teacher, valid, confidence).item() == pytest.approx(0.5 * 2.5)
    assert hint_loss(student, teacher, valid).item() == pytest.approx(2.5)
    assert hint_loss(teacher, teacher.clone(), valid).item() == 0.0


def test_hint_confidence_scales_the_gradient():
    student = torch.tensor([[[1.0, 2.0]]], requires_grad=True)
    valid = torch.tensor([[True]])
    (full,) = torch.autograd.grad(hint_loss(student, torch.zeros(1, 1, 2), valid), student)
    (half,) = torch.autograd.grad(
        hint_loss(student, torch.zeros(1, 1, 2), valid, torch.tensor([[0.5]])), student
    )
    torch.testing.assert_close(half, 0.5 * full)


def test_ranking_loss_by_hand():
    student = torch.tensor([[1.0, -1.0]])
    weights = [1.0, math.exp(-1.0)]
    softplus = [math.log1p(math.exp(-1.0)), math.log1p(math.exp(1.0))]
    expected = (weights[0] * softplus[0] + weights[1] * softplus[1]) / sum(weights)
    picked = torch.tensor([[True, True]])
    assert ranking_loss(student, picked).item() == pytest.approx(expected, rel=1e-6)
    assert ranking_loss(student, torch.tensor([[True, False]])).item() == pytest.approx(softplus[0])


def test_q_regression_by_hand():
    teacher = torch.tensor([[1.0, 2.0, 5.0], [0.0, 0.0, 0.0]])
    student = torch.tensor([[2.0, 0.0, -9.0], [3.0, 3.0, 3.0]])
    valid = torch.tensor([[True, True, False], [True, False, False]])
    confidence = torch.tensor([[0.5, 1.0, 1.0], [0.25, 1.0, 1.0]])
    # squared errors 1, 4 and 9 on the three valid entries
    assert q_regression(teacher, student, valid).item() == pytest.approx((1 + 4 + 9) / 3)
    weighted = (0.5 * 1 + 1.0 * 4 + 0.25 * 9) / 3
    assert q_regression(teacher, student, valid, confidence).item() == pytest.approx(weighted)
    assert q_regression(teacher, teacher + 0.0, valid).item() == 0.0


@pytest.mark.parametrize("shift", [0.0, 1.0, -3.0])
def test_q_regression_sees_a_shift_of_q_that_the_kl_cannot(shift):
    teacher = torch.tensor([[1.0, 2.0, 3.0]])
    valid = torch.ones(1, 3, dtype=torch.bool)
    assert listwise_kl(teacher, teacher + shift, valid).item() == pytest.approx(0, abs=1e-6)
    assert q_regression(teacher, teacher + shift, valid).item() == pytest.approx(shift**2)


def test_q_regression_gradient_reaches_the_student_only():
    teacher = torch.tensor([[1.0, 2.0]], requires_grad=True)
    student = torch.tensor([[2.0, 2.0]], requires_grad=True)
    valid = torch.tensor([[True, True]])
    q_regression(teacher, student, valid, torch.tensor([[0.5, 1.0]])).backward()
    assert teacher.grad is None
    torch.testing.assert_close(student.grad, torch.tensor([[0.5 * 2 * 1.0 / 2, 0.0]]))


def test_the_official_kl_divides_the_teachers_q_by_10_and_not_the_students():
    teacher = torch.tensor([[0.0, 10 * math.log(3.0)]])  # / 10: softmax 1/4, 3/4
    student = torch.tensor([[0.0, 0.0]])  # softmax 1/2, 1/2, at temperature 1
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    valid = torch.ones(1, 2, dtype=torch.bool)
    official = listwise_kl(
        teacher, student, valid, teacher_temperature=OFFICIAL_KL["teacher_temperature"]
    )
    assert official.item() == pytest.approx(expected, rel=1e-6)
    options = DistillOptions(**OFFICIAL_KL)
    assert (options.kl_over, options.student_temperature, options.confidence) == (
        "positions",
        1.0,
        "td",  # unused: the KL over positions takes no confidence
    )
