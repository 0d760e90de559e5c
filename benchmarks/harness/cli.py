"""The settings every benchmark script shares and its command line: one ``--flag`` per field of
its dataclass config, ``--smoke`` for tiny sizes, and the ``__main__`` tail.

A script declares its config as a subclass of :class:`Settings` (:class:`RunSettings` when it
trains runs, :class:`TableSettings` for a table of cells over seeds,
:class:`OfflineTableSettings` for one of offline runs, with ``--converged``) with ``name``
set, then ends with::

    parse_args = parser(Config, SMOKE, __doc__, __spec__.name)

    if __name__ == "__main__":
        run_script(main, parse_args)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from agents.training.config import EarlyStopping
from agents.training.flags import add_arguments, overrides
from rec_env.checks import InputError, check_range
from rec_env.cli import run_cli


@dataclass
class Settings:
    """What every benchmark has: where its results go and a smoke mode."""

    name: ClassVar[str] = ""
    """the script's results folder name: results/<name> (results/<name>_smoke with --smoke)"""

    out_dir: str = ""
    """where table.csv, summary.md, config.json, command.txt and any figure go (empty:
    results/<name>, with --smoke results/<name>_smoke)"""
    smoke: bool = False
    """tiny sizes (checks the script, numbers meaningless)"""

    def __post_init__(self) -> None:
        """Fill the default folders."""
        self._default("out_dir", "results")

    def _default(self, field: str, parent: str) -> None:
        if not getattr(self, field):
            suffix = "_smoke" if self.smoke else ""
            object.__setattr__(self, field, f"{parent}/{self.name}{suffix}")  # frozen ones too


@dataclass
class RunSettings(Settings):
    """What every benchmark that trains runs has besides: their folder and parallelism."""

    runs_dir: str = ""
    """parent of the training runs' folders (empty: runs/<name>, with --smoke runs/<name>_smoke)"""
    jobs: int = 2
    """runs trained in parallel (processes of one torch thread each)"""

    def __post_init__(self) -> None:
        """Fill the default folders. :raises InputError: jobs below 1."""
        super().__post_init__()
        self._default("runs_dir", "runs")
        check_range(self, ("jobs",), low=1)


@dataclass
class TableSettings(RunSettings):
    """What a table of training cells over seeds has besides (:mod:`benchmarks.harness.cells`)."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    """training seeds (the split seed stays 0)"""
    merge: bool = False
    """add to the rows already in out_dir/table.csv (the rows this run redoes replaced)"""
    reuse: bool = True
    """score the runs in runs_dir that finished with a cell's very training config instead of
    training them again (a stopped table resumes); remove runs_dir to retrain after a code
    change"""

    def __post_init__(self) -> None:
        """Fill the default folders. :raises InputError: no seed, or jobs below 1."""
        super().__post_init__()
        if not self.seeds:
            raise InputError(f"{type(self).__name__}.seeds must name at least one seed")


@dataclass
class OfflineTableSettings(TableSettings):
    """A table of offline training cells (:func:`~benchmarks.harness.cells.offline_run`) has
    besides the switch that trains each run to convergence."""

    converged: bool = False
    """train every network to convergence: stop once `patience` evaluations found no better
    validation AUC, within `max_epochs` epochs of the train lists, and end with the best
    network (agents.training.config.EarlyStopping); off: exactly `steps` steps"""
    patience: int = 10
    """with converged: evaluations (eval_every steps each) without a better validation AUC
    before a run stops"""
    max_epochs: float = 10.0
    """with converged: the cap, in epochs of the train lists (steps x batch_size / lists)"""

    def __post_init__(self) -> None:
        """:raises InputError: naming a patience below 1 or a cap of no epochs."""
        super().__post_init__()
        self.early_stopping()  # checks patience and max_epochs, naming the field

    def early_stopping(self) -> EarlyStopping | None:
        """The runs' early-stopping rule: None unless ``converged``."""
        rule = EarlyStopping(self.patience, self.max_epochs)
        return rule if self.converged else None

    def budget(self, steps: int, batch_size: int) -> str:
        """A run's training budget in words, for a summary (``steps`` of ``batch_size`` lists:
        without ``converged``)."""
        if not self.converged:
            return f"{steps} steps of {batch_size} lists"
        return (
            f"steps of {batch_size} lists until {self.patience} evaluations in a row find no "
            f"better validation AUC (cap: {self.max_epochs:g} epochs of the train lists; each "
            "run stops at its own best)"
        )


def parse_config(cls: type, smoke: dict[str, Any], argv: list[str] | None, prog: str, doc: str):
    """A benchmark's dataclass config from the command line, one ``--flag`` per field.

    If ``cls`` has a ``smoke: bool`` field, ``--smoke`` starts from the ``smoke`` overrides
    (tiny sizes), and flags given beside it still win.
    """
    parser = argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser, cls)
    given = overrides(parser.parse_args(argv), cls)
    return cls(**{**(smoke if given.get("smoke") else {}), **given})


def parser(cls: type, smoke: dict[str, Any], doc: str, module: str) -> Callable[..., Any]:
    """The ``parse_args(argv=None)`` of the script ``module`` (``python -m module``)."""

    def parse_args(argv: list[str] | None = None):
        return parse_config(cls, smoke, argv, f"python -m {module}", doc)

    return parse_args


def run_script(main: Callable[[Any], Any], parse_args: Callable[[], Any], worker=None) -> None:
    """The ``__main__`` of a script: ``main(parse_args())`` with user errors reported as such;
    ``--worker ARG ...`` (for :func:`~benchmarks.harness.results.run_worker`) instead prints
    ``worker(ARG, ...)`` as one line of JSON."""
    if worker is not None and sys.argv[1:2] == ["--worker"]:
        print(json.dumps(worker(*sys.argv[2:])))
    else:
        run_cli(lambda: main(parse_args()))
