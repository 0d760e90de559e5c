"""A trainable defined outside agents/ plugs into the registry, the CLI's loop, checkpoints,
resume and ``load_agent(folder, name=...)``: two networks trained jointly on one shared loss
with an extra projection (the shape of a distiller)."""

import json
from dataclasses import dataclass, replace

import pytest
import torch
import torch.nn.functional as F
from agents_testing import TINY, tensors_of, tiny_config
from torch import nn

from agents.learners.base import scalars
from agents.learners.ddqn import DDQN
from agents.metrics import evaluate_offline
from agents.train import load_agent, main, run
from agents.training import AgentSpec, register
from agents.training.checkpoint import load_checkpoint
from agents.training.config import Run, load_config, load_scenario
from agents.training.hooks import BEST_NAME
from agents.training.loop import CHECKPOINT_NAME
from agents.training.networks import make_network
from rec_env.data import load_dataset  # noqa: F401  (the tiny world is loaded by name)

BIG, SMALL = replace(TINY, model_dim=16, head_dims=(16, 8)), TINY


@dataclass(frozen=True)
class PairOptions:
    hint_weight: float = 0.5
    """weight of the hint loss between the projected small and the big hint layers"""


class Pair:
    """A big and a small DDQN, one backward pass: both TD losses + a hint loss whose
    projection trains with the small network; the big one gets only its own TD gradient."""

    def __init__(self, run: Run) -> None:
        self.big = DDQN(make_network(run, BIG, mf_scale=0.25), run.config.learner)
        self.small = DDQN(make_network(run, SMALL, mf_scale=0.25), run.config.learner)
        self.projection = nn.Linear(SMALL.head_dims[-1], BIG.head_dims[-1])
        self.small.train_with(self.projection)
        self.hint_weight = run.config.options.hint_weight

    def update(self, batch) -> dict[str, float]:
        for learner in (self.big, self.small):
            learner.network.train()
            learner.zero_grad()
        big, small = self.big.compute(batch), self.small.compute(batch)
        hint = F.mse_loss(self.projection(small.hint), big.hint.detach())
        (big.loss + small.loss + self.hint_weight * hint).backward()
        return {
            **scalars(big, "losses/big_"),
            **scalars(small, "losses/small_"),
            "losses/hint": hint.item(),
            "losses/big_grad_norm": self.big.apply(),
            "losses/small_grad_norm": self.small.apply(),
        }

    def networks(self) -> dict[str, nn.Module]:
        return {"big": self.big.network, "small": self.small.network}

    def state_dict(self) -> dict:
        return {"big": self.big.state_dict(), "small": self.small.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.big.load_state_dict(state["big"])
        self.small.load_state_dict(state["small"])


register(
    "test-pair",
    AgentSpec(("offline", "online"), make_trainable=Pair, serve="small", options=PairOptions),
    overwrite=True,
)


def pair_config(tmp_path, **changes):
    return tiny_config(tmp_path, agent="test-pair", width=1.0, options=PairOptions(0.25), **changes)


def test_registered_trainable_runs_through_the_cli(tmp_path, capsys):
    main(["--agent", "test-pair", "--dataset", "synthetic-tiny", "--hint-weight", "0.1",
          "--steps", "3", "--eval-every", "3", "--batch-size", "8", "--num-candidates", "20",
          "--eval-lists", "20", "--eval-envs", "10", "--out", str(tmp_path)])  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    folder = result["run_dir"]
    config = load_config(folder)
    assert (config.agent, config.options) == ("test-pair", PairOptions(0.1))
    saved = json.loads(open(f"{folder}/config.json").read())
    assert saved["agent_module"] == __name__ and set(saved["networks"]) == {"big", "small"}
    assert result["params"] == load_agent(folder).network.n_params()


def test_joint_training_moves_both_networks_and_the_projection(tmp_path):
    config = pair_config(tmp_path, steps=3)
    scenario = load_scenario(config)
    torch.manual_seed(config.seed)
    fresh = Pair(Run(config, tmp_path, scenario, logger=None))
    before = {k: v.clone() for k, v in fresh.projection.state_dict().items()}
    result = run(config)
    trained = load_checkpoint(result.dir / CHECKPOINT_NAME)["trainable"]
    (projection,) = trained["small"]["extra_modules"]
    assert not torch.equal(projection["weight"], before["weight"])
    for side, net in fresh.networks().items():
        moved = [
            not torch.equal(v, trained[side]["network"][k]) for k, v in net.state_dict().items()
        ]
        assert any(moved), side


def test_resume_is_bit_identical(tmp_path):
    config = pair_config(tmp_path)
    straight = run(config)
    first_leg = run(replace(config, steps=3))
    resumed = run(config, resume_dir=first_leg.dir)
    a, b = (tensors_of(load_checkpoint(r.dir / CHECKPOINT_NAME)) for r in (straight, resumed))
    assert a.keys() == b.keys() and any(".extra_modules.0.weight" in k for k in a)
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    assert resumed.metrics["test"] == straight.metrics["test"]


@pytest.mark.parametrize("select_best", [True, False])
def test_load_agent_picks_each_network_by_name(tmp_path, select_best):
    config = pair_config(tmp_path, eval_every=1, select_best=select_best)
    result = run(config)
    scenario = load_scenario(config)
    small = load_agent(result.dir, scenario=scenario)
    assert evaluate_offline(small, scenario.splits.test) == result.metrics["test"]
    big = load_agent(result.dir, name="big", scenario=scenario)
    if select_best:
        expected = load_checkpoint(result.dir / BEST_NAME)["networks"]["big"]
    else:
        expected = load_checkpoint(result.dir / CHECKPOINT_NAME)["trainable"]
        expected = expected["big"]["network"]
    assert all(torch.equal(v, expected[k]) for k, v in big.network.state_dict().items())
    assert big.network.config.model_dim == BIG.model_dim != small.network.config.model_dim
    with pytest.raises(ValueError, match="no network 'teacher'"):
        load_agent(result.dir, name="teacher", scenario=scenario)
