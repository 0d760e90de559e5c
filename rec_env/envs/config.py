"""`FeedConfig`: how a ListwiseFeed environment behaves, validated in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rec_env.envs.recall import RECALLS, Recall, RecallName
from rec_env.scenario import REQUEST_SPLITS, RequestSplit

RewardMode = Literal["click", "expected"]
InvalidAction = Literal["raise", "penalty"]
REWARD_MODES = ("click", "expected")
INVALID_ACTIONS = ("raise", "penalty")


@dataclass(frozen=True)
class FeedConfig:
    """Everything about an environment but its scenario (data, split, user model)."""

    slate_size: int | None = None
    """K, slots the agent fills per episode; None: the dataset's"""
    num_candidates: int = 100
    """C, recalled candidates per episode (the size of the action space)"""
    recall: RecallName | Recall = "popular"
    """how candidates are recalled: a name in ``RECALLS`` or a :class:`Recall`"""
    user_split: RequestSplit = "train"
    """which requests of the scenario's split episodes are drawn from (train, valid, test, all)"""
    reward_mode: RewardMode = "click"
    """``"click"``: the sampled click (0/1); ``"expected"``: its probability"""
    invalid_action: InvalidAction = "raise"
    """``"raise"``: a masked action is a ValueError; ``"penalty"``: it costs ``invalid_penalty``"""
    invalid_penalty: float = -1.0
    """reward of a masked action in penalty mode"""

    def __post_init__(self) -> None:
        if self.slate_size is not None and self.slate_size < 1:
            raise ValueError(f"slate_size must be >= 1, got {self.slate_size}")
        if self.slate_size is not None and self.num_candidates < self.slate_size:
            raise ValueError(
                f"num_candidates ({self.num_candidates}) must be >= slate_size "
                f"({self.slate_size}) to fill a list with distinct items"
            )
        if not isinstance(self.recall, Recall) and self.recall not in RECALLS:
            raise ValueError(f"recall must be one of {RECALLS} or a Recall, got {self.recall!r}")
        choices = {
            "user_split": REQUEST_SPLITS,
            "reward_mode": REWARD_MODES,
            "invalid_action": INVALID_ACTIONS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
