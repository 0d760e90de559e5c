"""Confidence from the teacher's TD errors on a hand-built batch."""

import pytest
import torch

from distill.confidence import EPSILON, lesson_confidence, td_confidence, uniform_confidence


def test_td_confidence_by_hand():
    q = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    target = torch.tensor([1.0, 3.0, 5.0])  # delta^2 = 0, 1, 4
    c = td_confidence(q, target)
    expected = [1.0, 1.0 - 1.0 / (4.0 + EPSILON), 1.0 - 4.0 / (4.0 + EPSILON)]
    assert c.tolist() == pytest.approx(expected, abs=1e-7)
    assert not c.requires_grad


def test_td_confidence_of_an_exact_teacher_is_one():
    q = torch.tensor([0.5, 0.2])
    assert td_confidence(q, q.clone()).tolist() == [1.0, 1.0]


def test_uniform_confidence_is_one():
    assert uniform_confidence(torch.tensor([3.0, -1.0]), torch.zeros(2)).tolist() == [1.0, 1.0]


def test_explored_items_get_the_batch_mean():
    c = lesson_confidence(torch.tensor([1.0, 0.5]), 2)
    assert c.tolist() == [[1.0, 0.75, 0.75], [0.5, 0.75, 0.75]]
    assert lesson_confidence(torch.tensor([1.0, 0.5]), 0).tolist() == [[1.0], [0.5]]
