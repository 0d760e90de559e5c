"""`ListwiseFeedEnv`: build one request's feed list slot by slot (``ListwiseFeed-v0``)."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from rec_env.data import LogDataset
from rec_env.envs.build import setup_feed
from rec_env.envs.config import InvalidAction, RewardMode
from rec_env.envs.core import InfoColumn
from rec_env.envs.recall import Recall, RecallName
from rec_env.scenario import RequestSplit, Scenario, SplitKind

if TYPE_CHECKING:
    from rec_env.simulator import UserModel


_OBSERVATION_KEYS = (
    "user",
    "user_features",
    "position",
    "slate_items",
    "slate_clicks",
    "candidates",
    "action_mask",
)


class ListwiseFeedEnv(gym.Env[dict[str, np.ndarray], int]):
    """
    ## Description

    A feed serves one *request* as an ordered list of K items; building it is a sequential
    decision (DRL-Rec, Xi et al., CIKM 2021). In an episode a logged request (hence its user)
    is drawn, C candidate items are recalled for it, and the agent places one candidate per
    step in slots 0..K-1. A user model decides whether the user clicks each placed item,
    given the user, the slot and the items and clicks already in the list: the synthetic
    world's ground truth, or a click model fitted on the logs' training split. The parts
    (requests, recall, user model, reward) are chosen by argument or passed in (RecSim style).

    The default world, `synthetic-feed`, is a feed where the list as a whole matters: a click
    moves the user's in-list taste away from the clicked item (satiation) and lowers the
    appetite, and a user who did not click a slot may leave. How much planning a list and
    reacting to its clicks are worth in each synthetic world (`python -m
    benchmarks.world_gaps`, 500 test requests, C = 100 popular candidates; gaps as shares of
    greedy - random on the true model, paired 95% intervals):

    | world            | random | greedy | planner | closed loop | planning gap   | adaptivity gap |
    |------------------|--------|--------|---------|-------------|----------------|----------------|
    | `synthetic`      | 1.326  | 2.565  | 2.639   | 2.641       | 0.060 +- 0.003 | 0.001 +- 0.000 |
    | `synthetic-gap`  | 1.377  | 3.147  | 3.186   | 3.188       | 0.022 +- 0.001 | 0.000 +- 0.000 |
    | `synthetic-feed` | 1.231  | 1.840  | 1.977   | 2.058       | 0.225 +- 0.012 | 0.134 +- 0.005 |

    (expected clicks per list; `results/world_gaps/`). On `synthetic` and `synthetic-gap` a
    click shifts every candidate alike: reacting to clicks is worth nothing there.

    ## Action Space

    `Discrete(C)`: an index into `obs["candidates"]`. Items already placed are masked:
    `obs["action_mask"]` (int8, 1 = valid), `info["action_mask"]` (bool) and `action_masks()`
    (bool, True = valid, as sb3-contrib's `MaskablePPO` wants). By default
    (`invalid_action="penalty"`) every action of the space is accepted, as env checkers and
    unmasked agents assume: a masked action earns `invalid_penalty` and the slot stays empty
    (nothing placed, no click drawn, same position). With `invalid_action="raise"` (strict,
    for masked agents, where a masked action is a bug) it raises `ValueError` instead. An
    action outside `[0, C)` always raises, and so does an action that is not an integer (a
    float, a bool, a list, None: `ValueError`); numpy integer scalars are integers. No action
    is ever remapped. A masked agent gets the same episodes in both modes.

    ## Observation Space

    A `Dict` of fixed shapes (K slots, C candidates):

    | Key             | Space                               | Description                        |
    |-----------------|-------------------------------------|------------------------------------|
    | `user`          | `Discrete(n_users)`                 | user id                            |
    | `user_features` | `Box(min, max, (F_u,), float32)`    | the user's row of `user_features`  |
    | `position`      | `Discrete(K + 1)`                   | next slot to fill (K when full)    |
    | `slate_items`   | `Box(-1, n_items - 1, (K,), int64)` | items placed; `-1` pads (PAD_ITEM) |
    | `slate_clicks`  | `MultiBinary(K)`                    | their clicks; 0 in empty slots     |
    | `candidates`    | `Box(0, n_items - 1, (C,), int64)`  | recalled items, distinct, sorted   |
    | `action_mask`   | `MultiBinary(C)`                    | 1 where a candidate can be placed  |

    Feature tables indexed by id are attributes: `env.unwrapped.item_features`
    `[n_items, F_i]` and `env.unwrapped.user_features` `[n_users, F_u]` (float32), each
    column standardised over the ids (mean 0, std 1; a constant column is 0).

    ## Rewards

    `reward_mode="click"`: 1.0 if the user clicks the placed item, else 0.0 (a draw from the
    user model's probability). `"expected"`: that probability (lower variance; the click is
    still drawn, as later probabilities depend on earlier clicks). A masked action earns
    `invalid_penalty` (penalty mode). The return is the list's clicks (expected clicks).

    ## Starting State

    A request is drawn uniformly from the `user_split` requests of the scenario's split
    (`rec_env.Scenario`: one dataset, one train / valid / test split, one user model), the
    split the fitted user model trains on (so users come in proportion to their activity).
    Candidates (`recall`), always in ascending id order:

    * `"popular"`: the C items shown most in the training split (ties by id), every request;
    * `"random"`: C distinct items drawn uniformly (costs O(n_items) per reset);
    * `"logged+popular"`: the request's logged items, then the most shown other items.

    The list is empty and `position` is 0.

    ## Episode End

    1. Termination: the K-th item is placed, or the user leaves the list after a slot (a
       user model with exits, such as `synthetic-feed`'s ground truth: after a slot that
       was not clicked with probability `exit_after_skip`, after a click `exit_after_click`;
       drawn from the slot's click uniform). Episodes of `synthetic`, `synthetic-gap` and the
       fitted simulators are exactly K steps.
    2. Truncation: after K masked actions in one episode (penalty mode; "raise" raises).

    Info speaks the log's own ids (its `user_id`, `request_id`, `item_id`, decoded by the
    dataset's `vocabularies`), while observations hold the dense indices `0..n-1`: on reset
    `action_mask`, `request_id` and `user_id`; on every step `action_mask`, then `item_id`,
    `click_proba` and `click` for a placed item or `invalid_action=True` for a penalised one;
    on the last step `list_items` [K] (unfilled slots `-1`, or None for string ids) and
    `list_clicks` [K]. For the built-in datasets ids and indices are the same.

    ## Arguments

    | Parameter         | Type                | Default            | Description                        |
    |-------------------|---------------------|--------------------|------------------------------------|
    | `dataset`         | `str`, `LogDataset` | `"synthetic-feed"` | a dataset name or a log            |
    | `split`           | `str`               | `"request"`        | `"request"` or `"time"`            |
    | `split_seed`      | `int`               | `0`                | seed of a request split            |
    | `scenario`        | `Scenario`, `None`  | `None`             | replaces the three rows above      |
    | `slate_size`      | `int` or `None`     | `None`             | K; `None`: the dataset's (10/10/3) |
    | `num_candidates`  | `int`               | `100`              | C, at most the number of items     |
    | `recall`          | `str` or `Recall`   | `"popular"`        | see Starting State                 |
    | `user_split`      | `str`               | `"train"`          | `train`, `valid`, `test` or `all`  |
    | `reward_mode`     | `str`               | `"click"`          | `"click"` or `"expected"`          |
    | `invalid_action`  | `str`               | `"penalty"`        | `"penalty"` or `"raise"` (strict)  |
    | `invalid_penalty` | `float`             | `-1.0`             | reward of a masked action          |
    | `user_model`      | `UserModel`, `None` | `None`             | `None`: the scenario's             |
    | `render_mode`     | `str` or `None`     | `None`             | `"ansi"`: the list with its probas |

    Randomness: all of it comes from `self.np_random` (seeded by `reset(seed=...)`): each
    reset takes the episode's uniforms (request, K clicks, recall) from blocks drawn from it
    (`rec_env.envs.rng`), so equal seeds give equal episodes.

    ```python
    >>> import gymnasium as gym
    >>> import rec_env
    >>> env = gym.make("ListwiseFeed-v0", num_candidates=20, reward_mode="expected")
    >>> obs, info = env.reset(seed=42)
    >>> int(obs["position"]), obs["candidates"].shape, int(info["action_mask"].sum())
    (0, (20,), 20)
    >>> obs, reward, terminated, truncated, info = env.step(3)
    >>> int(obs["slate_items"][0]) == info["item_id"] == int(obs["candidates"][3])
    True
    >>> round(reward, 4) == round(info["click_proba"], 4), bool(obs["action_mask"][3])
    (True, False)

    ```

    ## Vectorized environment

    `gym.make_vec("ListwiseFeed-v0", num_envs=N, vectorization_mode="vector_entry_point")`
    gives :class:`~rec_env.envs.ListwiseFeedVectorEnv`: N requests per batched step, equal to N
    of these envs seeded `seed + i` (next-step autoreset).

    ## Version History

    * v0: Initial version (pre-release: v0 still changes). The synthetic ground truth now
      scores in float64 (click probabilities within ~1e-7 relative of
      ``SyntheticWorld.click_proba``, so a seed may very rarely sample another click). The
      fitted simulators of ml-100k and obd change with
      ``rec_env.simulator.fit.MODEL_VERSION`` (3: an item exposure feature). Requests,
      catalogue statistics and the fitted user model come from one ``rec_env.Scenario``
      (``scenario=``, or ``dataset``/``split``/``split_seed``); ``split="time"`` is new (before,
      the env always used a request split). Own logs: ids of any kind become indices, info
      speaks the log's ids (reset info gains `user_id`); `user_features` and
      `item_features` are standardised per column (mean 0, std 1; constant columns 0).
      ``invalid_action`` defaults to ``"penalty"`` (was ``"raise"``), so the default env
      accepts every action of its space and passes SB3's and gymnasium's ``check_env`` under
      any seed; pass ``invalid_action="raise"`` for the former strict behaviour. Valid actions
      behave the same in both modes. The default dataset is ``synthetic-feed`` (was
      ``synthetic``, still available by name, like ``synthetic-gap``): a user model may end an
      episode before K steps when the user leaves (``terminated=True``).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        dataset: str | LogDataset | None = None,
        slate_size: int | None = None,
        num_candidates: int = 100,
        recall: RecallName | Recall = "popular",
        user_split: RequestSplit = "train",
        reward_mode: RewardMode = "click",
        invalid_action: InvalidAction = "penalty",
        invalid_penalty: float = -1.0,
        split: SplitKind | None = None,
        split_seed: int | None = None,
        scenario: Scenario | None = None,
        user_model: UserModel | None = None,
        render_mode: str | None = None,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        setup = setup_feed(
            1,
            dataset,
            split,
            split_seed,
            scenario,
            user_model,
            slate_size=slate_size,
            num_candidates=num_candidates,
            recall=recall,
            user_split=user_split,
            reward_mode=reward_mode,
            invalid_action=invalid_action,
            invalid_penalty=invalid_penalty,
        )
        self.core, self.config = setup.core, setup.core.config
        self.observation_space, self.action_space = setup.observation_space, setup.action_space
        self.item_features, self.user_features = setup.item_features, setup.user_features
        self.render_mode = render_mode
        self._row = np.zeros(1, dtype=np.int64)
        self._views = tuple(  # row 0 of the core's observation arrays, 0-d for the scalar keys
            array[0] if array.ndim > 1 else array.reshape(())
            for array in (self.core.observed[key] for key in _OBSERVATION_KEYS)
        )
        self._mask = np.ones(self.config.num_candidates, dtype=bool)
        self._running = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or self.core.uniforms.generators[0] is not self.np_random:
            self.core.uniforms.set_generator(0, self.np_random)
        columns = self.core.reset(self._row)
        self._running = True
        return self._observation(), self._info(columns)

    def step(self, action: int) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        try:
            index = operator.index(action)
        except TypeError:
            index = None
        if index is None or isinstance(action, bool):
            raise ValueError(f"action must be an integer index, got {action!r}")
        if not self._running:
            raise RuntimeError("step() on a finished episode: call reset() first")
        if not 0 <= index < self.config.num_candidates:  # here: a huge int is no numpy int
            raise ValueError(f"action {index} is outside Discrete({self.config.num_candidates})")
        result = self.core.step_one(index)
        observation = self._observation()
        info = self.core.row_info(result, {"action_mask": self._mask})
        terminated, truncated = bool(result.terminated), bool(result.truncated)
        self._running = not (terminated or truncated)
        return observation, float(result.reward), terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """``[C]`` bool, True where the candidate can be placed (sb3-contrib's masking hook)."""
        return self.core.valid[0].copy()

    def render(self) -> str | None:
        """``"ansi"``: the user, the slot, and each placed item with its click probability."""
        if self.render_mode is None:
            gym.logger.warn("render() without a render_mode: make the env with render_mode='ansi'")
            return None
        core, k = self.core, self.config.slate_size
        position = int(core.position[0])
        lines = [
            f"user {core.users[0]}  request {core.request[0]}  "
            f"slot {position}/{k}  clicks {int(core.slate_clicks[0, :position].sum())}"
        ]
        for slot in range(k):
            if slot < position:
                click = "  click" if core.slate_clicks[0, slot] else ""
                item, proba = core.slate_items[0, slot], core.slate_proba[0, slot]
                lines.append(f"{slot:>3}  item {item:>7}  p={proba:.3f}{click}")
            else:
                lines.append(f"{slot:>3}  -")
        return "\n".join(lines) + "\n"

    def _observation(self) -> dict[str, np.ndarray]:
        # copies of row 0; the Discrete keys as numpy scalars (``view[()]`` of a 0-d view);
        # spelled out, key by key: twice as fast as a loop over the keys
        user, features, position, items, clicks, candidates, mask = self._views
        mask = mask.copy()
        self._mask = mask.view(bool)
        return {
            "user": user[()],
            "user_features": features.copy(),
            "position": position[()],
            "slate_items": items.copy(),
            "slate_clicks": clicks.copy(),
            "candidates": candidates.copy(),
            "action_mask": mask,
        }

    def _info(self, columns: list[InfoColumn]) -> dict[str, Any]:
        info: dict[str, Any] = {"action_mask": self._mask}
        for key, _, values in columns:  # one row: scalars as Python values, lists as arrays
            info[key] = values.item() if values.ndim == 1 else values[0]
        return info
