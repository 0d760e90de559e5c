"""The agent registry: a name -> how ``agents.train`` builds that agent and in which modes.

Two kinds of entries:

* a **trainable** (``make_trainable``): network(s) and learner(s) trained by the one loop
  (:func:`agents.training.loop.fit`), offline from logs or online in the environment;
* a **fitted** agent (``make_agent``): built or fitted in one call, outside the loop
  (popularity, logistic MF, the oracle, MaskablePPO).

A package outside ``agents`` registers its own entries at import time (``distill`` does),
so agents never imports it::

    from agents.training import AgentSpec, register
    register("my-method", AgentSpec(modes=("offline",), make_trainable=build, serve="student"))

The run's ``config.json`` records the registering module, so loading the run folder later
imports it again (:func:`spec_of`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from rec_env.checks import check_choice

if TYPE_CHECKING:
    from agents.training.config import Run
    from agents.training.loop import Trainable

Mode = Literal["offline", "online"]
MODES = ("offline", "online")
BUILTIN_MODULE = "agents.training.builtin"


@dataclass(frozen=True)
class AgentSpec:
    """How to build one agent.

    :param modes: the modes it exists in (``"offline"``, ``"online"``).
    :param make_trainable: ``run -> Trainable``: a fresh trainable (initialisation from the
        global torch RNG, which the caller has seeded); trained by the loop.
    :param make_agent: ``run -> agent``: the finished agent (no loop); exclusive with
        ``make_trainable``.
    :param serve: the network of ``Trainable.networks()`` that acts, is evaluated and is
        loaded by default (``load_agent(folder)``).
    :param options: a dataclass of the agent's own settings, given on the command line as
        flags and saved in ``config.json`` (``TrainConfig.options``); None: no settings.
    :param module: the module that registered it (filled by :func:`register`).
    """

    modes: tuple[Mode, ...]
    make_trainable: Callable[[Run], Trainable] | None = None
    make_agent: Callable[[Run], Any] | None = None
    serve: str = "network"
    options: type | None = None
    module: str = ""

    def __post_init__(self) -> None:
        if (self.make_trainable is None) == (self.make_agent is None):
            raise ValueError("an AgentSpec needs exactly one of make_trainable and make_agent")
        unknown = [mode for mode in self.modes if mode not in MODES]
        if not self.modes or unknown:
            raise ValueError(f"modes must be a non-empty subset of {MODES}, got {self.modes}")

    @property
    def trained_by_loop(self) -> bool:
        return self.make_trainable is not None


_REGISTRY: dict[str, AgentSpec] = {}


def register(name: str, spec: AgentSpec, *, overwrite: bool = False) -> AgentSpec:
    """Add ``name`` to the registry; the builder's module is recorded as ``spec.module``.

    :param overwrite: allow replacing an existing entry (tests); otherwise a clash raises.
    """
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"agent {name!r} is already registered (by {_REGISTRY[name].module})")
    builder = spec.make_trainable or spec.make_agent
    module = spec.module or getattr(builder, "__module__", "")
    _REGISTRY[name] = replace(spec, module=module)
    return _REGISTRY[name]


def agent_names() -> tuple[str, ...]:
    """Every registered name (the built-in agents first)."""
    _load_builtin()
    return tuple(_REGISTRY)


def spec_of(name: str, module: str | None = None) -> AgentSpec:
    """The entry of ``name``; ``module`` (saved with a run) is imported first if given.

    :raises InputError: naming the registered agents if ``name`` is not one of them.
    """
    _load_builtin()
    if module and name not in _REGISTRY:
        importlib.import_module(module)
    check_choice("agent", name, _REGISTRY)
    return _REGISTRY[name]


def _load_builtin() -> None:
    importlib.import_module(BUILTIN_MODULE)  # registers the built-in agents once
