"""The built-in agents of the registry (imported by :mod:`agents.training.registry` on first use).

teacher / student: DDQN on the ``TEACHER`` / ``STUDENT`` presets; supervised: the teacher's
network trained with BCE on clicks; mf / popularity / random: fitted baselines; oracle:
greedy on the env's own user model; ppo: sb3-contrib's MaskablePPO.
"""

from __future__ import annotations

from agents.baselines import PopularityAgent, RandomAgent, fit_or_load_mf
from agents.learners.ddqn import DDQN
from agents.learners.supervised import SupervisedLearner
from agents.nn.qnetwork import STUDENT, TEACHER
from agents.policies import OracleAgent
from agents.training.config import Run
from agents.training.networks import make_network
from agents.training.registry import AgentSpec, register
from rec_env.data import item_counts

BOTH = ("offline", "online")


def teacher(run: Run) -> DDQN:
    return DDQN(make_network(run, TEACHER, mf_scale=0.25), run.config.learner)


def student(run: Run) -> DDQN:
    return DDQN(make_network(run, STUDENT, mf_scale=0.25), run.config.learner)


def supervised(run: Run) -> SupervisedLearner:
    return SupervisedLearner(make_network(run, TEACHER, mf_scale=1.0), run.config.learner)


def mf(run: Run):
    """Logistic MF fitted on the train lists, L2 picked by validation AUC (disk-cached)."""
    return fit_or_load_mf(run.splits.train, run.splits.valid, seed=run.config.seed)


def popularity(run: Run) -> PopularityAgent:
    """Train click counts."""
    return PopularityAgent(item_counts(run.splits.train, "clicks"))


def random(run: Run) -> RandomAgent:
    """Uniform scores seeded by the run."""
    return RandomAgent(run.config.seed)


def oracle(run: Run) -> OracleAgent:
    """Greedy on the env's own user model (the ground truth on synthetic data)."""
    return OracleAgent(run.scenario.user_model)


def ppo(run: Run):
    from agents.baselines.ppo import train_ppo  # sb3-contrib is an optional dependency

    return train_ppo(run)


register("teacher", AgentSpec(BOTH, make_trainable=teacher))
register("student", AgentSpec(BOTH, make_trainable=student))
register("supervised", AgentSpec(BOTH, make_trainable=supervised))
register("mf", AgentSpec(BOTH, make_agent=mf))
register("popularity", AgentSpec(BOTH, make_agent=popularity))
register("random", AgentSpec(BOTH, make_agent=random))
register("oracle", AgentSpec(("online",), make_agent=oracle))
register("ppo", AgentSpec(("online",), make_agent=ppo))
