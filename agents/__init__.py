"""Agents: Q-networks, DDQN training, baselines and metrics (milestone 1, in progress)."""
