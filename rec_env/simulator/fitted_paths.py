"""A fitted :class:`~rec_env.simulator.LogClickModel` in the Gram form of
:mod:`rec_env.simulator.click_paths`, so the planner and the exact expected clicks run on what
the fitted simulator believes.

The fitted logit of candidate c at slot k after the shown items S and ``n`` clicks is
``b + b_u + b_c + <p_u, q_c> + (1 / k) * sum_{j in S} q_c^T W q_j + w_c * n`` (see
:mod:`~rec_env.simulator.click_net`): in Gram form, ``base = b + b_u + b_c + <p_u, q_c>``,
``gram[j, c] = q_c^T W q_j`` weighted ``-1 / max(k, 1)``, ``click_shift = w_c``, the
learned examination per slot, and where learned (``use_interest``, ``learn_exits``) the
interest term ``click_gram[j, c] = q_c^T V q_j`` and the exit rates.
"""

from __future__ import annotations

import numpy as np
import torch

from rec_env.simulator.click_paths import Lists, PathModel
from rec_env.simulator.log_model import LogClickModel


def fitted_lists(
    model: LogClickModel, users: np.ndarray, candidates: np.ndarray
) -> tuple[Lists, PathModel]:
    """Empty lists of ``users [N]`` over ``candidates [N, C]`` under ``model``, and its path
    constants."""
    net, d, k = model.net, model.net.dim, model.slate_size
    with torch.no_grad():
        user = net.user_repr(torch.from_numpy(users)).double()  # [N, d + 1]
        item = net.item_repr(torch.from_numpy(candidates)).double()  # [N, C, d + 1]
        factors = item[..., :d]
        base = net.bias.double() + user[:, None, d] + item[..., d]
        base = base + torch.einsum("nd,ncd->nc", user[:, :d], factors)
        context = net.context_map
        mapped = factors @ context.double() if context is not None else torch.zeros_like(factors)
        gram = torch.einsum("ncd,njd->njc", mapped, factors)  # [n, j, c] = q_c^T W q_j
        click_gram = None
        if net.interest_map is not None:
            mapped = factors @ net.interest_map.double()
            click_gram = torch.einsum("ncd,njd->njc", mapped, factors).numpy()
        shift = float(net.click_weight) if net.click_weight is not None else 0.0
        exam = torch.sigmoid(net.exam_logit).double() if net.exam_logit is not None else None
    examination = exam.numpy() if exam is not None else np.ones(k)
    weight = -1.0 / np.maximum(np.arange(k + 1), 1.0)
    stay_after_skip, stay_after_click = 1.0 - model.exit_after
    interest = 0.0 if click_gram is None else 1.0
    paths = PathModel(examination, weight, shift, interest, stay_after_click, stay_after_skip)
    base = base.numpy()
    used = np.zeros(base.shape, bool)
    return Lists(base, np.zeros_like(base), used, gram.numpy(), 0, click_gram), paths
