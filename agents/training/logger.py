"""Per-step scalars of a run: ``scalars.csv`` (step, tag, value) and TensorBoard when installed.

Tags follow CleanRL: ``losses/...`` for training, ``eval/...`` for held-out metrics.
"""

from __future__ import annotations

import csv
from pathlib import Path

from rec_env.files import atomic_write

CSV_NAME = "scalars.csv"
FIELDS = ("step", "tag", "value")


class ScalarLogger:
    """Appends scalars to ``run_dir/scalars.csv`` and TensorBoard event files.

    :param run_dir: the run's folder.
    :param resume_step: when resuming, rows logged after this step (lost with the crashed
        run's unsaved state) are dropped, so the log matches an uninterrupted run.
    """

    def __init__(self, run_dir: str | Path, resume_step: int | None = None) -> None:
        self.path = Path(run_dir) / CSV_NAME
        rows = self._kept_rows(resume_step)
        with atomic_write(self.path) as tmp, open(tmp, "w", newline="") as file:
            csv.writer(file).writerows([FIELDS, *rows])  # a kill here keeps the old file
        self.file = open(self.path, "a", newline="")
        self.csv = csv.writer(self.file)
        self.tensorboard = _tensorboard_writer(run_dir, resume_step)

    def _kept_rows(self, resume_step: int | None) -> list[list[str]]:
        """The rows up to ``resume_step``; a last line cut short by a kill is dropped."""
        if resume_step is None or not self.path.exists():
            return []
        lines = self.path.read_text().splitlines(keepends=True)
        complete = lines if not lines or lines[-1].endswith("\n") else lines[:-1]
        return [row for row in csv.reader(complete[1:]) if int(row[0]) <= resume_step]

    def log(self, scalars: dict[str, float], step: int) -> None:
        """Write every ``{tag: value}`` at ``step``."""
        for tag, value in scalars.items():
            self.csv.writerow((step, tag, float(value)))
            if self.tensorboard is not None:
                self.tensorboard.add_scalar(tag, value, step)
        self.file.flush()

    def close(self) -> None:
        self.file.close()
        if self.tensorboard is not None:
            self.tensorboard.close()


def _tensorboard_writer(run_dir: str | Path, resume_step: int | None):
    """A ``SummaryWriter`` (purging events after ``resume_step``), or None without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    purge = None if resume_step is None else resume_step + 1
    return SummaryWriter(str(run_dir), purge_step=purge)
