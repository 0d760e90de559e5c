"""Training: one loop for every trainable (offline and online), its hooks and checkpoints, the
agent registry, run folders and the ``agents.train`` runner.

A package outside ``agents`` plugs in by registering an :class:`AgentSpec` whose
``make_trainable`` returns a :class:`Trainable`; the loop, checkpoints, resume, selection
and ``load_agent(folder, name=...)`` then work for it unchanged.
"""

from agents.training.loop import Hook, Sampler, Trainable, fit
from agents.training.registry import AgentSpec, agent_names, register, spec_of

__all__ = ["AgentSpec", "Hook", "Sampler", "Trainable", "agent_names", "fit", "register", "spec_of"]
