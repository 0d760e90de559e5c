"""`FeedConfig`: how a ListwiseFeed environment behaves, validated in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rec_env.checks import InputError, check_range, check_types
from rec_env.envs.recall import Recall, RecallName
from rec_env.scenario import RequestSplit

RewardMode = Literal["click", "expected"]
InvalidAction = Literal["raise", "penalty"]


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
    invalid_action: InvalidAction = "penalty"
    """``"penalty"``: a masked action costs ``invalid_penalty`` and places nothing (every action
    of the action space is accepted, as env checkers and unmasked agents assume); ``"raise"``:
    it is a ValueError (strict: for masked agents, where one is a bug)"""
    invalid_penalty: float = -1.0
    """reward of a masked action in penalty mode"""

    def __post_init__(self) -> None:
        """:raises InputError: naming the field of a wrong type, out of range or not one of its
        choices (the values of its ``Literal``)."""
        check_types(self)
        check_range(self, ("num_candidates",), low=1)
        if self.slate_size is not None:
            check_range(self, ("slate_size",), low=1)
            if self.num_candidates < self.slate_size:
                raise InputError(
                    f"num_candidates ({self.num_candidates}) must be >= slate_size "
                    f"({self.slate_size}) to fill a list with distinct items"
                )
