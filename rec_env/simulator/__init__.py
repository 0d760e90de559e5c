"""User simulators: the `UserModel` interface, the synthetic ground truth and models fitted on logs."""

from rec_env.simulator.base import UserModel, placed_mask
from rec_env.simulator.ground_truth import GroundTruthModel

__all__ = ["GroundTruthModel", "UserModel", "placed_mask"]
