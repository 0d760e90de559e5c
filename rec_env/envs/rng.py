"""`EpisodeUniforms`: each sub-env's episode randomness, drawn in blocks from its own generator.

Why blocks: a vector env of N sub-environments that called each sub-environment's
``np.random.Generator`` at every reset would make N Python-level generator calls per
reset (about 1 us each), more than the whole batched step costs. Instead, generator ``i``
fills a block of ``block`` episodes at once and each reset takes the next episode's row.
Sub-environment ``i``'s stream depends only on its own generator, never on N or on the
other sub-environments, so a vector env seeded ``s`` replays exactly what single envs seeded
``s + i`` do: the single env is the same code with N = 1.
"""

from __future__ import annotations

import numpy as np

BLOCK_FLOATS = (512, 4096)
"""Uniforms per generator call, at least and at most: ``block * per_episode`` is about the
most that keeps the buffers of all streams within ``BUFFER_FLOATS`` (at least one episode)."""
BUFFER_FLOATS = 2**22
"""Uniforms buffered over all streams (32 MiB) unless each stream's minimum block needs more."""


class EpisodeUniforms:
    """Per-episode uniforms in ``[0, 1)`` for ``n_envs`` independent streams.

    :param n_envs: number of streams (sub-environments).
    :param per_episode: U, uniforms one episode consumes (a fixed count, whatever happens in it).
    """

    def __init__(self, n_envs: int, per_episode: int):
        self.per_episode = per_episode
        least, most = BLOCK_FLOATS
        self.block = max(1, min(max(least, BUFFER_FLOATS // n_envs), most) // per_episode)
        self.generators: list[np.random.Generator | None] = [None] * n_envs
        self._buffer = np.empty((n_envs, self.block, per_episode))
        self._next = np.full(n_envs, self.block)

    def set_generator(self, env: int, generator: np.random.Generator) -> None:
        """Make ``generator`` the source of stream ``env``, dropping uniforms already buffered."""
        self.generators[env] = generator
        self._next[env] = self.block

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The next episode's uniforms of each stream in ``rows``: ``[len(rows), U]`` float64."""
        episode = self._next[rows]  # [b]
        spent = episode == self.block
        if np.count_nonzero(spent):  # (C-level; ndarray.any goes through Python)
            for env in rows[spent].tolist():
                generator = self.generators[env]
                if generator is None:
                    raise RuntimeError(f"stream {env} has no generator; call reset() first")
                generator.random(out=self._buffer[env])  # the stream's next block * U numbers
            episode[spent] = 0
        self._next[rows] = episode + 1
        episodes = self._buffer.reshape(-1, self.per_episode)
        return episodes.take(rows * self.block + episode, axis=0)
