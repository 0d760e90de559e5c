"""Data for learners: list and TD batches, logged transitions (offline), the popularity
recall and the list replay (online)."""

from agents.data.batch import ListBatch, TDBatch
from agents.data.logged import LoggedTransitions
from agents.data.recall import PopularityRecall
from agents.data.replay import EpisodeCollector, EpisodeReplay, Episodes

__all__ = [
    "EpisodeCollector",
    "EpisodeReplay",
    "Episodes",
    "ListBatch",
    "LoggedTransitions",
    "PopularityRecall",
    "TDBatch",
]
