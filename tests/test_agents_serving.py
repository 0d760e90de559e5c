"""Serving: greedy slot-by-slot recommendations, baselines, and an export that needs only torch."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from agents_testing import TINY, string_vocabularies, tiny_lists, tiny_network

from agents.baselines import MFAgent, PopularityAgent, RandomAgent
from agents.data.batch import ListBatch
from agents.nn.qnetwork import STUDENT, QNetwork
from agents.serving import GreedyRanker, QAgent, network_ids
from agents.serving_export import CheckedRanker, export_ranker, load_ranker
from rec_env.checks import InputError


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


FILL_CONFIGS = [
    pytest.param(TINY, id="tiny"),
    pytest.param(replace(TINY, n_layers=2, head_dims=(8, 6, 4)), id="two-blocks-three-hidden"),
    pytest.param(replace(TINY, n_heads=1, head_dims=(8,), factor_dim=0), id="one-head-no-mf"),
]


@pytest.mark.parametrize("config", FILL_CONFIGS)
@pytest.mark.parametrize(("k", "assumed_click"), [(5, 0.0), (5, 0.5), (1, 0.0)])
def test_ranker_slate_is_greedy_over_the_networks_q(config, k, assumed_click):
    b, c = 6, 20
    net = tiny_network(config=config).eval()
    generator = torch.Generator().manual_seed(0)
    users = torch.randint(0, 100, (b,), generator=generator)
    candidates = torch.rand(b, 150, generator=generator).argsort(1)[:, :c]
    valid = torch.rand(b, c, generator=generator) > 0.3
    with torch.no_grad():
        slate, q = GreedyRanker(net, k, assumed_click)(users, candidates, valid)
        train_slate, train_q = GreedyRanker(net.train(), k, assumed_click)(users, candidates, valid)
        placed = ListBatch(
            users, slate, torch.full((b, k), assumed_click), torch.ones(b, k, dtype=torch.bool)
        )
        every_q = net.eval().q(net.state(placed), candidates.unsqueeze(1).expand(-1, k, -1))
    chosen = candidates.unsqueeze(1) == slate.unsqueeze(2)  # [B, slot, C]
    before = (chosen.cumsum(1) - chosen.int()) > 0  # chosen in an earlier slot
    every_q = every_q.masked_fill(before | ~valid.unsqueeze(1), float("-inf"))
    torch.testing.assert_close(q, every_q.max(-1).values, rtol=1e-5, atol=1e-5)
    assert torch.equal(slate, candidates.gather(1, every_q.argmax(-1)))
    assert torch.equal(train_slate, slate) and torch.equal(train_q, q)  # dropout stays off


# the tiny world: users 0..99, items 0..149
BAD_REQUESTS = [
    pytest.param(7, [1, 2, 3], 5, r"k=5 exceeds the 3 candidates", id="fewer-than-k"),
    pytest.param(7, [1, 2, 2, 3, 3], 2, r"duplicate item ids \[2, 3\]", id="duplicates"),
    pytest.param(100, [1, 2, 3], 2, r"user_id: unknown user ids \[100\]", id="unknown-user"),
    pytest.param(-1, [1, 2, 3], 2, r"unknown user ids \[-1\]", id="negative-user"),
    pytest.param(7, [1, 150, 999], 1, r"unknown item ids \[150, 999\]", id="unknown-items"),
    pytest.param(7, [], 1, r"candidates is empty", id="empty"),
    pytest.param(7, [1, 2, 3], 0, r"k must be an int >= 1, got 0", id="k-zero"),
    pytest.param(7, [1, 2, 3], 2.0, r"k must be an int >= 1, got 2.0", id="k-float"),
    pytest.param(7, [1, 2, 3], 17, r"k=17 exceeds the longest list", id="k-above-max-slots"),
    pytest.param(
        7, [1.5, 2.0], 1, r"candidates must be integer ids, got dtype float64", id="float"
    ),
    pytest.param(
        7.0, [1, 2], 1, r"user_id must be integer ids, got dtype float64", id="float-user"
    ),
    pytest.param([7], [1, 2], 1, r"user_id must be a scalar", id="user-list"),
    pytest.param(7, [[1, 2]], 1, r"candidates must be 1-D, got shape \[1, 2\]", id="2d"),
    pytest.param(7, [[1, 2], [3]], 1, r"candidates must be a 1-D array", id="ragged"),
]


@pytest.mark.parametrize(("user_id", "candidates", "k", "message"), BAD_REQUESTS)
def test_recommend_rejects_bad_requests(user_id, candidates, k, message):
    agent = QAgent(tiny_network())
    with pytest.raises(ValueError, match=message) as error:
        agent.recommend(user_id, candidates, k)
    assert isinstance(error.value, InputError)


@pytest.mark.parametrize(
    "agent",
    [
        PopularityAgent(np.arange(150.0)),
        MFAgent(np.zeros((100, 3)), np.zeros((150, 3)), l2=0.0),
        RandomAgent(seed=0),
    ],
    ids=["popularity", "mf", "random"],
)
@pytest.mark.parametrize(
    ("candidates", "k", "message"),
    [
        ([1, 2, 3], 5, "k=5 exceeds the 3 candidates"),
        ([4, 4, 5], 1, "duplicate item ids"),
        ([], 1, "candidates is empty"),
        ([1, 2], 0, "k must be an int >= 1"),
    ],
)
def test_baselines_check_requests_as_the_q_agent(agent, candidates, k, message):
    with pytest.raises(InputError, match=message):
        agent.recommend(7, candidates, k)


def test_baselines_reject_ids_outside_their_tables():
    mf = MFAgent(np.zeros((100, 3)), np.zeros((150, 3)), l2=0.0)
    with pytest.raises(InputError, match=r"unknown user ids \[100\]"):
        mf.recommend(100, [1, 2], 1)
    with pytest.raises(InputError, match=r"unknown item ids \[150\]"):
        PopularityAgent(np.arange(150.0)).recommend(0, [1, 150], 1)


def test_recommend_speaks_the_logs_own_ids():
    net, vocab = tiny_network().eval(), string_vocabularies()
    dense = QAgent(net).recommend(7, list(range(20, 40)), 4)
    raw = QAgent(net, vocabularies=vocab).recommend("u007", [f"i{i:03d}" for i in range(20, 40)], 4)
    assert raw == [f"i{i:03d}" for i in dense]
    agent = QAgent(net, vocabularies=vocab)
    with pytest.raises(InputError, match=r"user_id: unknown user ids \['u100'\]"):
        agent.recommend("u100", ["i001", "i002"], 1)
    with pytest.raises(InputError, match=r"candidates: duplicate item ids \['i001'\]"):
        agent.recommend("u001", ["i001", "i001", "i002"], 2)
    with pytest.raises(InputError, match="candidates must be integer or string ids"):
        agent.recommend("u001", [1.0, 2.0], 1)


def _checked_ranker(k: int = 3) -> tuple[GreedyRanker, CheckedRanker]:
    net = tiny_network().eval()
    return GreedyRanker(net, k), CheckedRanker(GreedyRanker(net, k), k, network_ids(net))


def test_checked_ranker_passes_good_batches_through():
    ranker, checked = _checked_ranker()
    inputs = (torch.tensor([4, 9]), torch.arange(20).view(2, 10), torch.rand(2, 10) > 0.3)
    with torch.no_grad():
        expected = ranker(*inputs)
    got = checked(inputs[0].int(), inputs[1].int(), inputs[2])  # any int dtype is cast
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])


GOOD_BATCH = {
    "user_ids": torch.tensor([4, 9]),
    "candidates": torch.arange(20).view(2, 10),
    "valid": torch.ones(2, 10, dtype=torch.bool),
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"user_ids": torch.tensor([4, 100])}, r"user_ids: unknown user ids \[100\]"),
        ({"candidates": torch.arange(20).view(2, 10) + 140}, r"unknown item ids \[150, 151"),
        ({"candidates": torch.zeros(2, 10, dtype=torch.int64)}, r"duplicate item ids \[0\]"),
        ({"candidates": torch.rand(2, 10)}, "candidates must be integer ids"),
        ({"valid": torch.ones(2, 10)}, "valid must be bool"),
        ({"valid": torch.arange(20).view(2, 10) < 12}, r"requests \[1\] have fewer than k=3"),
        ({"user_ids": torch.tensor([4, 9, 1])}, r"shapes must be .* got \[3\], \[2, 10\]"),
        ({"user_ids": torch.tensor(4)}, r"user_ids must be 1-D, got shape \[\]"),
        ({"candidates": torch.zeros(2, 0, dtype=torch.int64)}, "candidates is empty"),
    ],
)
def test_checked_ranker_rejects_bad_batches(changes, message):
    _, checked = _checked_ranker()
    with pytest.raises(InputError, match=message):
        checked(**{**GOOD_BATCH, **changes})


def test_duplicates_among_invalid_candidates_are_allowed():
    _, checked = _checked_ranker(k=2)
    candidates = torch.tensor([[5, 5, 6, 7]])  # the repeated 5 is masked out once
    slate, _ = checked(torch.tensor([1]), candidates, torch.tensor([[True, False, True, True]]))
    assert len(set(slate[0].tolist())) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"k": 0}, "k must be an int >= 1"),
        ({"k": 17}, "exceeds the network's max_slots"),
        ({"k": 5, "n_candidates": 4}, "n_candidates must be an int >= k=5"),
        ({"k": 3, "batch_size": 0}, "batch_size must be None or an int >= 1"),
    ],
)
def test_export_rejects_bad_arguments_before_exporting(tmp_path, arguments, message):
    with pytest.raises(InputError, match=message):
        export_ranker(tiny_network(), tmp_path / "ranker.pt2", **arguments)
    assert not (tmp_path / "ranker.pt2").exists()


def test_load_ranker_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no exported ranker"):
        load_ranker(tmp_path / "nothing.pt2")


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
inputs = torch.load(sys.argv[2], weights_only=True)
slate, q = ranker(*inputs)
torch.save({"slate": slate, "q": q, "agents": "agents" in sys.modules}, sys.argv[3])
"""


def _export_round_trip(tmp_path, batch_size, vocabularies=None):
    lists = tiny_lists()
    torch.manual_seed(0)
    net = QNetwork(STUDENT, lists.item_features, lists.user_features).eval()
    path = export_ranker(
        net, tmp_path / "student.pt2", 3, 12, batch_size, vocabularies=vocabularies
    )
    candidates = torch.rand(3, 150).argsort(dim=1)[:, :25]  # distinct ids per request
    inputs = (torch.tensor([4, 9, 1]), candidates, torch.rand(3, 25) > 0.2)
    torch.save(inputs, tmp_path / "inputs.pt")
    script = tmp_path / "load.py"
    script.write_text(LOADER)
    out = tmp_path / "out.pt"
    # -I: isolated mode, the repository is not on sys.path
    command = [sys.executable, "-I", str(script), str(path), str(tmp_path / "inputs.pt"), str(out)]
    subprocess.run(command, check=True)
    exported = torch.load(out, weights_only=True)
    with torch.no_grad():
        slate, q = GreedyRanker(net, 3)(*inputs)
    assert not exported["agents"]
    assert torch.equal(exported["slate"], slate) and torch.equal(exported["q"], q)
    return path, inputs, slate


def test_student_export_gives_identical_scores_without_project_code(tmp_path):
    vocab = string_vocabularies()
    # the bare module takes dense indices; load_ranker the log's own ids (dynamic C)
    path, inputs, slate = _export_round_trip(tmp_path, batch_size=3, vocabularies=vocab)
    checked = load_ranker(path)  # with the request checks
    users, items = vocab.users.decode(inputs[0].numpy()), vocab.items.decode(inputs[1].numpy())
    raw_slate, q = checked(users, items, inputs[2])
    np.testing.assert_array_equal(raw_slate, vocab.items.decode(slate.numpy()))
    with pytest.raises(InputError, match="unknown user ids"):
        checked(np.array(["u004", "u009", "u100"]), items, inputs[2])
    with pytest.raises(InputError, match="exported for batches of 3, got 2"):
        checked(users[:2], items[:2], inputs[2][:2])


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
