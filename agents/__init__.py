"""Agents: the list-wise Q-network, DDQN / supervised learners, baselines, metrics, serving.

>>> from agents import TEACHER, STUDENT, QNetwork, DDQN, DDQNConfig
>>> # net = QNetwork(STUDENT, lists.item_features, lists.user_features)
>>> # states = net.state(batch)              # [B, K, H], slot t sees slots < t only
>>> # q = net.q(states[:, t], candidates)    # [B, M] for any M candidates

Acting and scoring online: every agent has ``act(observation) -> actions`` for a
``ListwiseFeed-v0`` vector env (:mod:`agents.policies`), scored by :func:`evaluate_online`.

Package map: ``agents.nn`` (layers, QNetwork), ``agents.learners`` (DDQN, supervised),
``agents.baselines`` (popularity, random, logistic MF, MaskablePPO), ``agents.data`` (batches,
logged transitions, replay), ``agents.training`` (the loop, registry, checkpoints, runs),
``agents.policies``, ``agents.metrics``, ``agents.evaluation`` (online), ``agents.serving``
(greedy ranking; ``agents.serving_export``: the ranker as a ``torch.export`` file;
``agents.serving_onnx``: as an ONNX graph for ONNX Runtime, extra ``serve``).

Training from the command line: ``python -m agents.train --help``.
"""

from agents.baselines import PopularityAgent, RandomAgent
from agents.data.batch import ListBatch, TDBatch
from agents.data.replay import EpisodeCollector, EpisodeReplay, Episodes
from agents.evaluation import OnlineEvaluation, evaluate_online
from agents.learners.base import Learner, LearnerConfig, LearnerOutput, polyak_update
from agents.learners.ddqn import DDQN, DDQNConfig, double_dqn_target
from agents.learners.supervised import SupervisedLearner
from agents.metrics import auc, evaluate_offline, gauc, mean_normal_ci95, ndcg_at_k
from agents.nn.qnetwork import STUDENT, TEACHER, QNetwork, QNetworkConfig
from agents.policies import OracleAgent, Policy, epsilon_greedy, masked_argmax
from agents.serving import GreedyRanker, QAgent
from agents.serving_export import CheckedRanker, export_ranker, load_ranker
from agents.serving_onnx import export_onnx, load_onnx_ranker
from agents.training import AgentSpec, Hook, Trainable, fit, register

__all__ = [
    "AgentSpec",
    "Hook",
    "Trainable",
    "fit",
    "register",
    "DDQN",
    "STUDENT",
    "TEACHER",
    "DDQNConfig",
    "EpisodeCollector",
    "EpisodeReplay",
    "Episodes",
    "CheckedRanker",
    "GreedyRanker",
    "Learner",
    "LearnerConfig",
    "LearnerOutput",
    "ListBatch",
    "OnlineEvaluation",
    "OracleAgent",
    "Policy",
    "PopularityAgent",
    "QAgent",
    "QNetwork",
    "QNetworkConfig",
    "RandomAgent",
    "SupervisedLearner",
    "TDBatch",
    "auc",
    "double_dqn_target",
    "epsilon_greedy",
    "evaluate_offline",
    "evaluate_online",
    "export_onnx",
    "export_ranker",
    "gauc",
    "load_onnx_ranker",
    "load_ranker",
    "masked_argmax",
    "mean_normal_ci95",
    "ndcg_at_k",
    "polyak_update",
]
