"""Learners: the maths that turns a batch into a loss and an optimiser step (DDQN, supervised)."""

from agents.learners.base import Learner, LearnerConfig, LearnerOutput
from agents.learners.ddqn import DDQN, DDQNConfig
from agents.learners.supervised import SupervisedLearner

__all__ = ["DDQN", "DDQNConfig", "Learner", "LearnerConfig", "LearnerOutput", "SupervisedLearner"]
