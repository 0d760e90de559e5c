"""Agents: the list-wise Q-network, DDQN / supervised learners, baselines, metrics, serving.

>>> from agents import TEACHER, STUDENT, QNetwork, DDQN, DDQNConfig
>>> # net = QNetwork(STUDENT, lists.item_features, lists.user_features)
>>> # states = net.state(batch)              # [B, K, H], slot t sees slots < t only
>>> # q = net.q(states[:, t], candidates)    # [B, M] for any M candidates

Acting and scoring online: every agent has ``act(observation) -> actions`` for a
``ListwiseFeed-v0`` vector env (:mod:`agents.policies`), scored by :func:`evaluate_online`.

Training from the command line: ``python -m agents.train --help``.
"""

from agents.baselines import PopularityAgent, RandomAgent
from agents.batch import ListBatch, TDBatch
from agents.ddqn import DDQN, DDQNConfig, double_dqn_target
from agents.learner import Learner, LearnerConfig, LearnerOutput, polyak_update
from agents.metrics import auc, evaluate_offline, gauc, mean_ci95, ndcg_at_k
from agents.online_eval import OnlineEvaluation, evaluate_online
from agents.policies import OracleAgent, Policy, epsilon_greedy, masked_argmax
from agents.qnetwork import STUDENT, TEACHER, QNetwork, QNetworkConfig
from agents.replay import EpisodeCollector, EpisodeReplay, Episodes
from agents.serving import GreedyRanker, QAgent, export_ranker, load_ranker
from agents.supervised import SupervisedLearner

__all__ = [
    "DDQN",
    "STUDENT",
    "TEACHER",
    "DDQNConfig",
    "EpisodeCollector",
    "EpisodeReplay",
    "Episodes",
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
    "export_ranker",
    "gauc",
    "load_ranker",
    "masked_argmax",
    "mean_ci95",
    "ndcg_at_k",
    "polyak_update",
]
