"""Q-networks for a run: a preset scaled by ``width``, sized to the run's data, MF warm start."""

from __future__ import annotations

from dataclasses import replace

from agents.baselines.mf import MFAgent, fit_or_load_mf
from agents.nn.qnetwork import QNetwork, QNetworkConfig
from agents.training.config import Run
from rec_env.scenario import Scenario

_MF_FITS: dict[tuple[int, int, int, float], tuple[Scenario, MFAgent]] = {}
"""warm-start fits by (scenario object, width, seed, train share): several networks of a
process (a distiller's teacher and student, a benchmark's runs) share one fit; the scenario is
held so that its id is never reused"""


def warm_start_mf(run: Run, dim: int) -> MFAgent:
    """The logistic MF of the run's train lists at width ``dim`` (read from the disk cache,
    :func:`~agents.baselines.mf.fit_or_load_mf`, or fitted, once per process)."""
    key = (id(run.scenario), dim, run.config.seed, run.config.train_share)
    if key not in _MF_FITS:
        mf = fit_or_load_mf(run.splits.train, run.splits.valid, dim, seed=run.config.seed)
        _MF_FITS[key] = (run.scenario, mf)
    return _MF_FITS[key][1]


def network_config(run: Run, preset: QNetworkConfig) -> QNetworkConfig:
    """``preset`` scaled by ``run.config.width``, with room for the data's slate size."""
    width = run.config.width
    scaled = preset if width == 1.0 else preset.scaled(width)
    return replace(scaled, max_slots=max(scaled.max_slots, run.splits.train.slate_size))


def make_network(run: Run, preset: QNetworkConfig, mf_scale: float) -> QNetwork:
    """A fresh network on the run's feature tables (initialisation from the global torch RNG),
    its MF tables warm-started if ``mf_warm_start`` asks (not on resume: the checkpoint
    replaces every weight).

    :param mf_scale: factor on the fitted MF's logit: 1 where Q is a click logit (supervised),
        1/4 where Q is in clicks (DDQN: a logit x is about 1/2 + x/4 near 0, the sigmoid's
        slope at 0).
    """
    train = run.splits.train
    network = QNetwork(network_config(run, preset), train.item_features, train.user_features)
    if run.config.mf_warm_start and not run.resume:
        mf = warm_start_mf(run, network.config.factor_dim)
        network.set_factors(mf.user_table, mf.item_table, mf_scale)
    return network
