"""Serving: greedy slot-by-slot recommendations, baselines, and an export that needs only torch."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from agents_testing import tiny_lists, tiny_network

from agents.baselines import PopularityAgent, RandomAgent
from agents.data.batch import ListBatch
from agents.nn.qnetwork import STUDENT, QNetwork
from agents.serving import GreedyRanker, QAgent, export_ranker


def test_recommend_is_greedy_over_q_slot_by_slot():
    net = tiny_network().eval()
    agent = QAgent(net)
    candidates = list(range(20, 40))
    slate = agent.recommend(7, candidates, 4)
    assert len(set(slate)) == 4 and set(slate) <= set(candidates)
    # replay by hand: slot t's state reads the items chosen before it, clicks assumed 0
    chosen: list[int] = []
    with torch.no_grad():
        for t in range(4):
            placed = torch.tensor([chosen + [0] * (4 - t)])
            lists = ListBatch(
                torch.tensor([7]), placed, torch.zeros(1, 4), torch.ones(1, 4, dtype=torch.bool)
            )
            left = [c for c in candidates if c not in chosen]
            q = net.q(net.state(lists, t), torch.tensor([left]))
            chosen.append(left[int(q.argmax())])
    assert slate == chosen


def test_ranker_respects_the_valid_mask():
    net = tiny_network().eval()
    candidates = torch.arange(30).view(2, 15)
    valid = torch.ones(2, 15, dtype=torch.bool)
    valid[:, :10] = False
    with torch.no_grad():
        slate, q = GreedyRanker(net, 5)(torch.tensor([1, 2]), candidates, valid)
    assert slate.shape == q.shape == (2, 5)
    assert sorted(slate[0].tolist()) == list(range(10, 15))
    assert sorted(slate[1].tolist()) == list(range(25, 30))
    assert torch.isfinite(q).all()
    with pytest.raises(ValueError, match="max_slots"):
        GreedyRanker(net, 99)


def test_score_logged_is_q_of_logged_slots():
    net = tiny_network()
    lists = tiny_lists().subset(np.arange(5))
    scores = QAgent(net, batch_size=2).score_logged(lists)
    assert net.training  # the agent scored in eval mode and restored the mode
    batch = ListBatch.from_lists(lists)
    with torch.no_grad():
        expected = net.eval().q(net.state(batch), batch.items.unsqueeze(-1)).squeeze(-1)
    np.testing.assert_allclose(scores, expected.numpy(), atol=1e-6)


@pytest.mark.parametrize("assumed_click", [0.0, 0.5])
def test_score_logged_without_observed_clicks_sees_the_assumed_click(assumed_click):
    net = tiny_network().eval()
    lists = tiny_lists().subset(np.arange(20))
    agent = QAgent(net, assumed_click=assumed_click)
    hidden = agent.score_logged(lists, observed_clicks=False)
    batch = ListBatch.from_lists(lists)
    batch = replace(batch, clicks=torch.full_like(batch.clicks, assumed_click))
    with torch.no_grad():
        expected = net.q(net.state(batch), batch.items.unsqueeze(-1)).squeeze(-1)
    np.testing.assert_allclose(hidden, expected.numpy(), atol=1e-6)
    np.testing.assert_array_equal(hidden[:, 0], agent.score_logged(lists)[:, 0])  # no prefix
    assert lists.clicks[:, :-1].any() and not np.allclose(hidden, agent.score_logged(lists))


LOADER = """
import sys, torch
torch.set_num_threads(1)  # as the parent: float sums depend on the thread split
ranker = torch.export.load(sys.argv[1]).module()
inputs = torch.load(sys.argv[2])
slate, q = ranker(*inputs)
torch.save({"slate": slate, "q": q, "agents": "agents" in sys.modules}, sys.argv[3])
"""


def _export_round_trip(tmp_path, batch_size):
    lists = tiny_lists()
    torch.manual_seed(0)
    net = QNetwork(STUDENT, lists.item_features, lists.user_features).eval()
    path = export_ranker(net, tmp_path / "student.pt2", k=3, n_candidates=12, batch_size=batch_size)
    inputs = (torch.tensor([4, 9, 1]), torch.randint(0, 150, (3, 25)), torch.rand(3, 25) > 0.2)
    torch.save(inputs, tmp_path / "inputs.pt")
    script = tmp_path / "load.py"
    script.write_text(LOADER)
    out = tmp_path / "out.pt"
    # -I: isolated mode, the repository is not on sys.path
    command = [sys.executable, "-I", str(script), str(path), str(tmp_path / "inputs.pt"), str(out)]
    subprocess.run(command, check=True)
    exported = torch.load(out)
    with torch.no_grad():
        slate, q = GreedyRanker(net, 3)(*inputs)
    assert not exported["agents"]
    assert torch.equal(exported["slate"], slate) and torch.equal(exported["q"], q)


def test_student_export_gives_identical_scores_without_project_code(tmp_path):
    _export_round_trip(tmp_path, batch_size=3)  # fixed batch, dynamic candidate count


@pytest.mark.slow
def test_export_with_dynamic_batch(tmp_path):
    _export_round_trip(tmp_path, batch_size=None)  # example batch 2, served with 3


def test_baselines_rank_and_score():
    lists = tiny_lists().subset(np.arange(4))
    counts = np.arange(150, dtype=float)
    popularity = PopularityAgent(counts)
    assert popularity.recommend(0, [3, 140, 7, 99], 2) == [140, 99]
    scores = popularity.score_logged(lists)
    assert np.array_equal(scores[lists.mask], counts[lists.items[lists.mask]])
    first, second = RandomAgent(seed=5), RandomAgent(seed=5)
    assert first.recommend(0, range(10), 3) == second.recommend(0, range(10), 3)
    assert len(set(first.recommend(0, range(10), 10))) == 10
    assert first.score_logged(lists).shape == lists.items.shape
