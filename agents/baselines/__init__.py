"""Reference rankers: popularity, random and a logistic matrix factorisation fitted on the log
(MaskablePPO, which needs the ``sb3`` extra, is in :mod:`agents.baselines.ppo`)."""

from agents.baselines.mf import MFAgent, fit_mf, fit_or_load_mf
from agents.baselines.simple import PopularityAgent, RandomAgent

__all__ = ["MFAgent", "PopularityAgent", "RandomAgent", "fit_mf", "fit_or_load_mf"]
