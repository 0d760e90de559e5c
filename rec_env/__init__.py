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
