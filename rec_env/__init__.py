"""rec_env: list-wise feed environments backed by user simulators fitted on logged data.

Importing the package registers the environments (entry points are strings, so nothing
heavy is imported until ``gym.make``).
"""

from gymnasium.envs.registration import register

register(
    id="ListwiseFeed-v0",
    entry_point="rec_env.envs.feed_env:ListwiseFeedEnv",
    vector_entry_point="rec_env.envs.vector_env:ListwiseFeedVectorEnv",
)


def __getattr__(name: str):
    if name == "Scenario":  # loaded on first use: it imports the data and simulator packages
        from rec_env.scenario import Scenario

        return Scenario
    raise AttributeError(f"module 'rec_env' has no attribute {name!r}")


__all__ = ["Scenario"]
