"""Online training in the ``ListwiseFeed-v0`` vector env: epsilon-greedy DDQN over a list replay.

The loop runs in rounds. A round resets every sub-env (seeds drawn from the run seed and the
round index) and fills one list per sub-env, slot by slot::

    for each slot:
        act epsilon-greedily on Q over the valid candidates      (agents.policies)
        step the vector env; finished lists go to the replay     (agents.replay)
        once the replay holds learning_starts lists:
            one DDQN update on a batch of lists sampled from it  (agents.ddqn)

Rounds make resume exact: a checkpoint is written at a round's end and holds the learner,
the replay, the RNG and the round index; the next round's env seeds follow from the index.
Baselines come back untrained (``popularity``, ``random``, ``oracle``); ``ppo`` trains
sb3-contrib's MaskablePPO (:mod:`agents.ppo`).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from agents.checkpoint import restore_training, save_training
from agents.learner import Learner
from agents.online_eval import OnlineEvaluation, evaluate_online
from agents.policies import OracleAgent, epsilon_greedy, valid_mask
from agents.replay import EpisodeCollector, EpisodeReplay
from agents.run import (
    BASELINES,
    Run,
    initial_network,
    make_baseline,
    make_learner,
    seed_everything,
)
from agents.serving import QAgent
from rec_env.simulator import make_user_model

VALID_EVAL_SEED = 1_000_000
"""Seed of the periodic evaluations on validation requests (the same lists every time)."""
TEST_EVAL_SEED = 2_000_000
"""Seed of the final evaluation on test requests (the same lists for every agent)."""


def make_vector_env(run: Run, user_split: str, num_envs: int) -> gym.vector.VectorEnv:
    """A ``ListwiseFeed-v0`` vector env on the run's dataset, requests from ``user_split``."""
    return gym.make_vec(
        "ListwiseFeed-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        dataset=run.env_dataset(),
        user_split=user_split,
        split_seed=run.config.split_seed,
        **run.config.online.env_kwargs,
    )


def evaluate_in_env(run: Run, agent, user_split: str, seed: int) -> OnlineEvaluation:
    """:func:`evaluate_online` of ``agent`` on ``eval_lists`` lists of ``user_split`` requests."""
    online = run.config.online
    env = make_vector_env(run, user_split, online.eval_envs)
    try:
        return evaluate_online(agent, env, online.eval_lists, seed)
    finally:
        env.close()


def round_seeds(seed: int, round_index: int, n_envs: int) -> list[int]:
    """Sub-env seeds of a training round: a function of the run seed and the round only."""
    return np.random.SeedSequence([seed, round_index]).generate_state(n_envs).tolist()


def restore(run: Run, learner: Learner, replay: EpisodeReplay, generator) -> dict:
    """Load the run's checkpoint and its replay; return its progress ``{"step", "round"}``."""
    state = restore_training(run.dir, learner, generator)
    if "replay" not in state:
        raise ValueError(f"{run.dir} holds an offline checkpoint, not an online one")
    replay.load_state_dict(state["replay"])
    return {"step": int(state["step"]), "round": int(state["round"])}


def untrained_agent(run: Run):
    """The baselines of online mode: mf and popularity (fitted on the train lists), random,
    oracle (the env's own user model: the ground truth on synthetic data)."""
    if run.config.agent == "oracle":
        return OracleAgent(make_user_model(run.dataset, seed=run.config.split_seed))
    return make_baseline(run.config, run.splits)


def train_online(run: Run):
    """Train ``run.config.agent`` in the environment; return the agent (a :class:`Policy`).

    Training runs whole rounds, so it ends at the first round end with at least
    ``config.steps`` gradient steps.
    """
    config, online = run.config, run.config.online
    if config.agent in (*BASELINES, "oracle"):
        return untrained_agent(run)
    if config.agent == "ppo":
        from agents.ppo import train_ppo  # sb3-contrib is an optional dependency

        return train_ppo(run)
    generator = seed_everything(config)
    network = initial_network(run)
    learner = make_learner(config, network)
    agent = QAgent(network)
    env = make_vector_env(run, "train", online.num_envs)
    valid_env = make_vector_env(run, "valid", online.eval_envs)  # built once, reseeded per use
    slate_size = env.single_observation_space["slate_items"].shape[0]
    replay = EpisodeReplay(online.buffer_lists, slate_size, env.single_action_space.n)
    collector = EpisodeCollector(online.num_envs, slate_size)
    progress = restore(run, learner, replay, generator) if run.resume else {"step": 0, "round": 0}
    last_checkpoint = progress["step"] // config.checkpoint_every

    bar = tqdm(total=config.steps, initial=progress["step"], desc=f"{config.agent} online")
    while progress["step"] < config.steps:
        observation, _ = env.reset(
            seed=round_seeds(config.seed, progress["round"], online.num_envs)
        )
        collector.start()
        for _ in range(slate_size):
            # 1. Act epsilon-greedily over the valid candidates.
            epsilon = online.epsilon(progress["step"])
            valid = valid_mask(observation)
            actions = epsilon_greedy(agent.act(observation), valid, epsilon, generator)
            # 2. Step; lists finished by this step enter the replay.
            next_observation, rewards, terminated, truncated, _ = env.step(actions)
            episodes = collector.step(
                observation, actions, rewards, terminated, truncated, next_observation
            )
            replay.add(episodes)
            observation = next_observation
            if len(replay) < online.learning_starts:
                continue
            # 3. One DDQN update on lists sampled from the replay.
            progress["step"] += 1
            step = progress["step"]
            scalars = learner.update(replay.sample(config.learner.batch_size, generator))
            bar.update()
            if step % config.log_every == 0:
                scalars["charts/epsilon"] = epsilon
                run.logger.log(scalars, step)
                bar.set_postfix(loss=f"{scalars['losses/loss']:.4f}")
            if len(episodes):
                run.logger.log(
                    {"charts/clicks_per_list": float(episodes.clicks.sum(1).mean())}, step
                )
            if step % config.eval_every == 0:
                evaluation = evaluate_online(agent, valid_env, online.eval_lists, VALID_EVAL_SEED)
                metrics = evaluation.summary()
                names = ("clicks_per_list", "expected_clicks_per_list")
                run.logger.log({f"eval/valid_{name}": metrics[name] for name in names}, step)
        progress["round"] += 1
        # 4. Checkpoint at a round's end (every checkpoint_every steps, and the last one).
        if progress["step"] // config.checkpoint_every > last_checkpoint or (
            progress["step"] >= config.steps
        ):
            last_checkpoint = progress["step"] // config.checkpoint_every
            save_training(run.dir, learner, generator, replay=replay.state_dict(), **progress)
    bar.close()
    env.close()
    valid_env.close()
    return agent
